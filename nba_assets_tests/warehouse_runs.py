"""Real one-day replays into a DuckDB warehouse, and every table's content hash to compare them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

from nba_assets import cli
from nba_assets.settings import get_settings

DAY = "2025-11-02"
# Settings a test may have in its environment that would point a replay elsewhere.
_ROUTING_ENV = (
    "NBA_HOME", "DAGSTER_HOME", "NBA_NBA_STATS_BASE_URL", "NBA_ODDS_BASE_URL", "NBA_ODDS_API_KEY",
    "NBA_EXECUTOR", "NBA_DATASET_PREFIX", "NBA_WAREHOUSE_LOCK_TIMEOUT_SECONDS",
)  # fmt: skip


def replay_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment of a replay into ``home``, with ``settings`` (NBA_* names) on top."""
    env = {k: v for k, v in os.environ.items() if k not in _ROUTING_ENV}
    return {**env, "NBA_HOME": str(home), **settings}


def replay(home: Path, day: str = DAY, **settings: str) -> int:
    """``nba-assets replay --start day --end day`` in this process; returns its exit code."""
    os.environ.clear()
    os.environ.update(replay_env(home, **settings))
    get_settings.cache_clear()
    return cli.main(["replay", "--start", day, "--end", day])


def table_hashes(warehouse: Path) -> dict[str, tuple[int, str]]:
    """Every table of the file: its rows and a hash of its content in a canonical order."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL"
        ).fetchall()
        for schema, table in tables:
            df = con.execute(f'SELECT * FROM "{schema}"."{table}"').pl()
            df = df.sort(df.columns, nulls_last=True)
            digest = hashlib.sha256(df.write_ipc(None).getvalue()).hexdigest()
            out[f"{schema}.{table}"] = (df.height, digest)
    return out


_CLEAN: dict[str, dict[str, tuple[int, str]]] = {}


def clean_tables(tmp_path_factory: pytest.TempPathFactory, day: str = DAY) -> dict:
    """The tables of an undisturbed replay of ``day`` on a fresh NBA_HOME (one per session).

    Call it before setting a test's own environment: it replaces the process environment.
    """
    if day not in _CLEAN:
        home = tmp_path_factory.mktemp("clean")
        saved = dict(os.environ)
        try:
            assert replay(home, day) == 0, f"the clean replay of {day} failed"
        finally:
            os.environ.clear()
            os.environ.update(saved)
            get_settings.cache_clear()
        _CLEAN[day] = table_hashes(home / "warehouse.duckdb")
    return _CLEAN[day]
