"""Fault matrix: real ``nba-assets replay`` runs against the replay server over HTTP.

Transient faults (429 storms with Retry-After, 500s, timeouts, truncated and malformed bodies)
end with raw tables identical, by content hash, to one clean run. Permanent data faults fail the
raw asset that reads them, naming source, endpoint, game_date and column, keep the landed
payload and leave the tables (and everything downstream) as they were:
- schema drift (a renamed field, a field gone null) comes from the replay server's drift faults,
  the answers of a source that changed;
- content problems (duplicate rows, one book's spelling of a player) come from a ``--data``
  folder derived from the shipped archive, served as recorded. Exact duplicates are dropped,
  counted and logged; duplicates that differ fail the asset. An unknown spelling stays in the
  table with no player_id and is counted and named as unmatched; a spelling the alias table
  knows matches the player.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest

from nba_assets import cli
from nba_assets.replay.archive import Archive, load_archive
from nba_assets.settings import get_settings
from nba_assets.tables import analytics, raw
from nba_assets.tables.spec import TableSpec

START, END = "2025-11-01", "2025-11-02"
DRIFT_DAY = "2025-11-02"  # the day the derived data folders change
# Retries short enough for the whole matrix to run in minutes: every transient fault hits a
# request on its first attempt only, so two attempts would do; the timeout is well under the
# slow fault's delay and well over a normal answer.
FAST_HTTP = {
    "NBA_HTTP_MAX_ATTEMPTS": "4",
    "NBA_HTTP_BACKOFF_MAX_SECONDS": "0.3",
    "NBA_HTTP_TIMEOUT_SECONDS": "1.5",
}
PLAYER_BOX_STEP = "nba_raw__nbac_player_boxscores"
TEAM_BOX_STEP = "nba_raw__nbac_team_boxscores"
PROPS_STEP = "nba_raw__odds_player_props"
SUMMARY_STEP = "nba_analytics__player_game_summary"


@contextmanager
def replay_environment() -> Iterator[None]:
    """The CLI exports settings to the environment; give the caller's environment back."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def replay(home: Path, *extra: str) -> int:
    """``nba-assets replay`` of START..END into ``home``, with short retries."""
    for var in ("DAGSTER_HOME", "NBA_NBA_STATS_BASE_URL", "NBA_ODDS_BASE_URL", "NBA_ODDS_API_KEY",
                "NBA_EXECUTOR", "NBA_DATASET_PREFIX"):  # fmt: skip
        os.environ.pop(var, None)
    os.environ.update(FAST_HTTP, NBA_HOME=str(home))
    get_settings.cache_clear()
    return cli.main(["replay", "--start", START, "--end", END, *extra])


def table(home: Path, spec: TableSpec) -> pl.DataFrame:
    """A warehouse table's rows, sorted on every column."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        df = con.execute(f"SELECT * FROM {spec.qualified_name()}").pl()
    return df.sort(df.columns, nulls_last=True)


def content_hash(home: Path, spec: TableSpec) -> str:
    return hashlib.sha256(table(home, spec).write_csv().encode()).hexdigest()


def raw_hashes(home: Path) -> dict[str, str]:
    return {spec.name: content_hash(home, spec) for spec in raw.TABLES}


@dataclass(frozen=True)
class RunRecord:
    """What the Dagster instance under a home recorded of its latest run."""

    succeeded: set[str]
    failures: dict[str, str]  # step key -> the error and its causes, joined
    warnings: list[str]
    metadata: dict[str, dict[str, Any]]  # asset table name -> latest materialization metadata


def latest_run(home: Path) -> RunRecord:
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        run_id = instance.get_runs(limit=1)[0].run_id
        succeeded, failures, warnings = set(), {}, []
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None:
                if isinstance(entry.level, int) and entry.level >= logging.WARNING:
                    warnings.append(entry.user_message)
            elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                succeeded.add(entry.step_key)
            elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
                error, messages = event.step_failure_data.error, []
                while error is not None:
                    messages.append(error.message)
                    error = error.cause
                failures[entry.step_key] = "\n".join(messages)
        metadata = {}
        for spec in raw.TABLES:
            latest = instance.get_latest_materialization_event(
                dg.AssetKey([spec.dataset, spec.name])
            )
            if latest is not None and latest.asset_materialization is not None:
                values = latest.asset_materialization.metadata.items()
                metadata[spec.name] = {k: v.value for k, v in values}
    return RunRecord(succeeded, failures, warnings, metadata)


def landed_attempts(home: Path) -> int:
    """Attempts beyond the first, over every payload the scrapes landed."""
    manifests = (home / "landing").rglob("_manifest.json")
    return sum(f["attempts"] - 1 for m in manifests for f in json.loads(m.read_text()))


@dataclass(frozen=True)
class Clean:
    home: Path
    hashes: dict[str, str]
    summary_hash: str
    run: RunRecord


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Clean:
    home = tmp_path_factory.mktemp("clean")
    with replay_environment():
        assert replay(home) == 0
    return Clean(
        home,
        raw_hashes(home),
        content_hash(home, analytics.player_game_summary),
        latest_run(home),
    )


@pytest.fixture(scope="module")
def shipped() -> Archive:
    return load_archive(None)


def derived_data(shipped: Archive, out: Path, change: Callable[[Archive], Archive]) -> Path:
    """A ``--data`` folder: the shipped archive with ``change`` applied."""
    change(shipped).save(out, sources=["nba_assets/replay/archive (changed for a test)"])
    return out


# --- transient faults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    ["429:0.8", "500:0.5", "slow:0.3:3s", "truncated:0.5", "malformed:0.5"],
    ids=["429_storm_with_retry_after", "500", "timeout", "truncated", "malformed"],
)
def test_transient_faults_end_with_the_clean_tables(
    clean: Clean, tmp_path: Path, faults: str
) -> None:
    assert replay(tmp_path, "--faults", faults) == 0
    assert landed_attempts(tmp_path) > 0, "the faults were met and retried"
    assert raw_hashes(tmp_path) == clean.hashes


# --- permanent faults: schema drift ---------------------------------------------------------


def rerun_on_a_copy(clean: Clean, tmp_path: Path, *extra: str) -> tuple[Path, int]:
    """Replay the clean run's days again, on a copy of its home, with ``extra`` arguments."""
    home = tmp_path / "home"
    shutil.copytree(clean.home, home)
    return home, replay(home, *extra)


def game_log_column(payload: dict, header: str) -> list:
    (found,) = payload["resultSets"]
    at = found["headers"].index(header)
    return [row[at] for row in found["rowSet"]]


def points(payload: dict) -> list:
    # A finished day's odds are the historical snapshot before tip-off: the event is its data.
    event = payload.get("data", payload)
    markets = [m for b in event["bookmakers"] for m in b["markets"]]
    return [o.get("point") for m in markets for o in m["outcomes"]]


BOX_STEPS = {PLAYER_BOX_STEP, TEAM_BOX_STEP}


@pytest.mark.parametrize(
    ("faults", "steps", "endpoint", "column", "as_sent"),
    [
        ("null:1:REB", BOX_STEPS, "leaguegamelog_players", "'reb'",
         lambda p: set(game_log_column(p, "REB")) == {None}),
        ("rename:1:REB", BOX_STEPS, "leaguegamelog_players", "['REB']",
         lambda p: len(game_log_column(p, "REB_RENAMED")) > 0),
        ("null:1:point", {PROPS_STEP}, "event_odds", "field point missing or null",
         lambda p: set(points(p)) == {None}),
    ],
    ids=["column_gone_null", "column_renamed", "odds_point_gone_null"],
)  # fmt: skip
def test_drift_fails_its_raw_asset_keeps_the_payload_and_the_tables(
    clean: Clean,
    tmp_path: Path,
    faults: str,
    steps: set[str],
    endpoint: str,
    column: str,
    as_sent: Callable[[dict], bool],
) -> None:
    home, code = rerun_on_a_copy(clean, tmp_path, "--faults", faults)
    assert code == 1
    run = latest_run(home)
    assert set(run.failures) == steps
    source = "odds_api" if endpoint == "event_odds" else "nba_stats"
    first_failure = run.failures[min(steps)]
    assert f"{source}/{endpoint} for game_date {START}" in first_failure
    assert column in first_failure
    # The error names the landed file, and the file is still there, as the source sent it.
    landed = Path(first_failure.split("(landed file: ")[1].split(")")[0])
    assert landed.is_file() and landed.is_relative_to(home / "landing" / source / endpoint)
    assert as_sent(json.loads(landed.read_bytes()))
    # Nothing downstream ran, and the tables are the clean run's.
    assert SUMMARY_STEP not in run.succeeded
    assert raw_hashes(home) == clean.hashes
    assert content_hash(home, analytics.player_game_summary) == clean.summary_hash


# --- permanent faults: content --------------------------------------------------------------


def duplicate_player_rows(differ: bool) -> Callable[[Archive], Archive]:
    def change(archive: Archive) -> Archive:
        games = archive.player_games
        copies = games.filter(pl.col("GAME_DATE") == DRIFT_DAY).head(3)
        if differ:
            copies = copies.with_columns(pl.col("PTS") + 1)
        return Archive(**{**vars(archive), "player_games": pl.concat([games, copies])})

    return change


def test_exact_duplicate_rows_are_dropped_counted_and_logged(
    clean: Clean, shipped: Archive, tmp_path: Path
) -> None:
    data = derived_data(shipped, tmp_path / "data", duplicate_player_rows(differ=False))
    home = tmp_path / "home"
    assert replay(home, "--data", str(data)) == 0
    assert raw_hashes(home) == clean.hashes
    run = latest_run(home)
    assert run.metadata["nbac_player_boxscores"]["duplicate_rows_dropped"] == 3
    assert clean.run.metadata["nbac_player_boxscores"]["duplicate_rows_dropped"] == 0
    assert any(
        f"leaguegamelog_players for game_date {DRIFT_DAY}: dropped 3 exact duplicate" in w
        for w in run.warnings
    ), run.warnings


def test_duplicate_rows_that_differ_fail_the_asset(
    clean: Clean, shipped: Archive, tmp_path: Path
) -> None:
    data = derived_data(shipped, tmp_path / "data", duplicate_player_rows(differ=True))
    home, code = rerun_on_a_copy(clean, tmp_path, "--data", str(data))
    assert code == 1
    run = latest_run(home)
    assert set(run.failures) == {PLAYER_BOX_STEP}
    message = run.failures[PLAYER_BOX_STEP]
    assert f"nba_stats/leaguegamelog_players for game_date {DRIFT_DAY}" in message
    assert "share a key (game_id, player_id) but differ" in message and "['pts']" in message
    assert (home / "landing/nba_stats/leaguegamelog_players" / DRIFT_DAY).is_dir()
    assert raw_hashes(home) == clean.hashes


UNKNOWN, MISSPELT = "Jalen Brunson", "Jalen Brunsen"
# The books spell him "Nicolas Claxton" (in the alias table); NBA.com says "Nic Claxton".
ALIASED, NBA_SPELLING = "Nicolas Claxton", "Nic Claxton"


def test_one_books_spelling_is_matched_or_reported_never_dropped(
    clean: Clean, shipped: Archive, tmp_path: Path
) -> None:
    day = pl.col("game_date") == DRIFT_DAY
    books = {
        name: sorted(shipped.props.filter(day & (pl.col("player") == name))["bookmaker"].unique())
        for name in (UNKNOWN, ALIASED)
    }
    assert len(books[UNKNOWN]) > 1 and len(books[ALIASED]) > 1, "several books list both"
    odd_book = {UNKNOWN: books[UNKNOWN][0], ALIASED: books[ALIASED][0]}

    def respell(archive: Archive) -> Archive:
        props = archive.props
        for name, spelling in ((UNKNOWN, MISSPELT), (ALIASED, NBA_SPELLING)):
            hit = day & (pl.col("player") == name) & (pl.col("bookmaker") == odd_book[name])
            respelt = pl.when(hit).then(pl.lit(spelling)).otherwise(pl.col("player"))
            props = props.with_columns(player=respelt)
        return Archive(**{**vars(archive), "props": props})

    data = derived_data(shipped, tmp_path / "data", respell)
    home = tmp_path / "home"
    assert replay(home, "--data", str(data)) == 0
    hashes = raw_hashes(home)
    assert {k for k in hashes if hashes[k] != clean.hashes[k]} == {"odds_player_props"}

    props, clean_props = (
        table(home, raw.odds_player_props),
        table(clean.home, raw.odds_player_props),
    )
    assert props.height == clean_props.height, "no row is dropped"
    misspelt = props.filter(pl.col("player_name") == MISSPELT)
    assert misspelt.height > 0 and misspelt["player_id"].null_count() == misspelt.height
    on_day = pl.col("game_date") == dt.date.fromisoformat(DRIFT_DAY)
    claxton = props.filter(pl.col("player_name").is_in([ALIASED, NBA_SPELLING]) & on_day)
    assert set(claxton["player_name"]) == {ALIASED, NBA_SPELLING}
    assert claxton["player_id"].null_count() == 0 and claxton["player_id"].n_unique() == 1

    run, before = latest_run(home), clean.run.metadata["odds_player_props"]
    after = run.metadata["odds_player_props"]
    assert after["unmatched_players"] == before["unmatched_players"] + 1
    assert after["unmatched_rows"] == before["unmatched_rows"] + misspelt.height
    assert MISSPELT in str(after["unmatched_names"]) and NBA_SPELLING not in str(
        after["unmatched_names"]
    )
    assert any("matched no NBA.com player" in w and MISSPELT in w for w in run.warnings)
