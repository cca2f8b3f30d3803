"""End to end: ``nba-assets replay`` against the replay server into a fresh DuckDB warehouse."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import polars as pl
import pytest

from nba_assets import cli
from nba_assets.pipeline import raw_frames
from nba_assets.replay.archive import load_archive
from nba_assets.settings import get_settings
from nba_assets.tables import raw

RAW_TABLES = [spec.name for spec in raw.TABLES]


def replay(home: Path, start: str, end: str, *extra: str) -> int:
    os.environ["NBA_HOME"] = str(home)
    os.environ.pop("DAGSTER_HOME", None)
    get_settings.cache_clear()
    return cli.main(["replay", "--start", start, "--end", end, *extra])


def snapshot(home: Path) -> dict[str, pl.DataFrame]:
    """Every raw table, sorted, for comparing two warehouses."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        out = {}
        for spec in raw.TABLES:
            df = con.execute(f"SELECT * FROM nba_raw.{spec.name}").pl()
            out[spec.name] = df.sort(df.columns, nulls_last=True)
        return out


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch):
    for var in ("NBA_HOME", "DAGSTER_HOME", "NBA_NBA_STATS_BASE_URL", "NBA_ODDS_BASE_URL",
                "NBA_ODDS_API_KEY", "NBA_EXECUTOR", "NBA_DATASET_PREFIX"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pl.DataFrame]]:
    home = tmp_path_factory.mktemp("clean")
    with pytest.MonkeyPatch.context() as mp:
        for var in (
            "DAGSTER_HOME",
            "NBA_NBA_STATS_BASE_URL",
            "NBA_ODDS_BASE_URL",
            "NBA_ODDS_API_KEY",
        ):
            mp.delenv(var, raising=False)
        assert replay(home, "2025-11-01", "2025-11-03") == 0
    return home, snapshot(home)


def test_replay_fills_raw_with_the_days_players(clean_run) -> None:
    home, tables = clean_run
    box = tables["nbac_player_boxscores"]
    nov2 = box.filter(pl.col("game_date") == dt.date(2025, 11, 2))
    # The archive's player games, as recorded (see the archive's PROVENANCE.md).
    source = load_archive().player_games.filter(pl.col("GAME_DATE") == "2025-11-02")
    assert nov2.height == source.height == 182
    assert sorted(nov2.get_column("pts").to_list()) == sorted(source.get_column("PTS").to_list())
    assert tables["odds_player_props"].filter(pl.col("market") == "player_points").height > 0
    assert {d for d in tables["nbac_schedule"].get_column("game_date")} == {
        dt.date(2025, 11, 1), dt.date(2025, 11, 2), dt.date(2025, 11, 3)
    }  # fmt: skip


def test_rerun_leaves_tables_identical(clean_run) -> None:
    home, before = clean_run
    assert replay(home, "2025-11-01", "2025-11-03") == 0
    after = snapshot(home)
    for name in RAW_TABLES:
        assert after[name].equals(before[name]), name


def test_faulty_sources_end_with_the_clean_tables(clean_run, tmp_path: Path) -> None:
    _, clean = clean_run
    assert replay(tmp_path, "2025-11-01", "2025-11-03", "--faults", "429:0.3,500:0.2") == 0
    faulty = snapshot(tmp_path)
    for name in RAW_TABLES:
        assert faulty[name].equals(clean[name]), name


def test_day_without_games_is_an_empty_partition(tmp_path: Path) -> None:
    assert replay(tmp_path, "2025-11-26", "2025-11-28") == 0
    tables = snapshot(tmp_path)
    days = set(tables["nbac_schedule"].get_column("game_date"))
    assert dt.date(2025, 11, 26) in days and dt.date(2025, 11, 28) in days
    assert dt.date(2025, 11, 27) not in days  # Thanksgiving: no games, but the tables exist


@pytest.mark.slow
def test_multiprocess_executor_gives_the_same_tables(clean_run, tmp_path: Path) -> None:
    _, clean = clean_run
    assert replay(tmp_path, "2025-11-01", "2025-11-03", "--executor", "multiprocess") == 0
    parallel = snapshot(tmp_path)
    for name in RAW_TABLES:
        assert parallel[name].equals(clean[name]), name


def test_pipeline_raw_frames_are_the_tables_a_replay_writes(clean_run) -> None:
    # Tests and benchmarks build their raw inputs with nba_assets.pipeline: it must give what
    # the scrape and raw assets land and parse, row for row.
    _, tables = clean_run
    frames = raw_frames(dt.date(2025, 11, 1), dt.date(2025, 11, 3))
    for spec in raw.TABLES:
        df, stored = frames[spec.name], spec.conform(tables[spec.name])  # DuckDB says Etc/UTC
        assert df.height == stored.height > 0, spec.name
        assert df.sort(df.columns, nulls_last=True).equals(stored), spec.name
