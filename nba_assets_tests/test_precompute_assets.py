"""Phases 3 and 4 as Dagster assets on a real DuckDB file: a range run, and a blocking check.

The raw tables are those a replay of the shipped archive writes (``nba_assets.pipeline``).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from nba_assets.defs.analytics import assets as analytics_assets
from nba_assets.defs.analytics import checks as analytics_checks
from nba_assets.defs.precompute import assets as precompute_assets
from nba_assets.defs.precompute import checks as precompute_checks
from nba_assets.lib import analytics
from nba_assets.pipeline import compute_phases, raw_frames
from nba_assets.tables import analytics as analytics_tables
from nba_assets.tables import precompute as precompute_tables
from nba_assets.tables import raw
from nba_assets.warehouse.duckdb import DuckDBWarehouse
from nba_assets.warehouse.io_manager import WarehouseIOManager
from nba_assets.warehouse.resource import WarehouseResource

HISTORY_START = dt.date(2024, 10, 1)
START, END = dt.date(2025, 11, 10), dt.date(2025, 11, 12)
ASSETS = dg.load_assets_from_modules([analytics_assets, precompute_assets])
CHECKS = dg.load_asset_checks_from_modules([analytics_checks, precompute_checks])
RANGE_TAGS = {
    "dagster/asset_partition_range_start": START.isoformat(),
    "dagster/asset_partition_range_end": END.isoformat(),
}


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return raw_frames(HISTORY_START, END)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, frames: dict[str, pl.DataFrame]) -> Path:
    """A warehouse with raw tables through END and game summaries up to the day before START."""
    path = tmp_path_factory.mktemp("seed") / "warehouse.duckdb"
    wh = DuckDBWarehouse(path)
    for spec in raw.TABLES:
        wh.replace_partitions(spec, frames[spec.name], HISTORY_START, END)
    history = {k: v.filter(pl.col("game_date") < START) for k, v in frames.items()}
    team_box = history["nbac_team_boxscores"]
    before = START - dt.timedelta(days=1)
    for spec, df in (
        (
            analytics_tables.player_game_summary,
            analytics.player_game_summary(
                history["nbac_player_boxscores"], team_box, history["odds_player_props"]
            ),
        ),
        (analytics_tables.team_offense_game_summary, analytics.team_offense_game_summary(team_box)),
        (analytics_tables.team_defense_game_summary, analytics.team_defense_game_summary(team_box)),
    ):
        wh.replace_partitions(spec, df, HISTORY_START, before)
    return path


def _warehouse_copy(seeded: Path, tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(seeded, path)
    return path


def _materialize(path: Path, partition_key: str | None = None) -> dg.ExecuteInProcessResult:
    warehouse = WarehouseResource(duckdb_path=str(path))
    return dg.materialize(
        [*ASSETS, *CHECKS],
        resources={
            "warehouse": warehouse,
            "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        },
        partition_key=partition_key,
        tags=None if partition_key else RANGE_TAGS,
        raise_on_error=False,
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.asset_key.path[-1]
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }


def test_a_range_run_builds_the_feature_store_as_the_pure_transforms_do(
    seeded: Path, tmp_path: Path, frames: dict[str, pl.DataFrame]
) -> None:
    path = _warehouse_copy(seeded, tmp_path)
    result = _materialize(path)
    assert result.success
    assert _materialized(result) == {spec.name for spec in precompute_tables.TABLES} | {
        spec.name for spec in analytics_tables.TABLES
    }
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(CHECKS)
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    # Each check read exactly the run's partition range.
    assert {str(e.metadata["partitions"].value) for e in evaluations} == {f"{START}..{END}"}

    wh = DuckDBWarehouse(path)
    expected = compute_phases(frames, START, END)
    for spec in (
        analytics_tables.upcoming_player_game_context,
        precompute_tables.player_daily_cache,
        precompute_tables.ml_feature_store,
    ):
        stored = wh.read(spec, START, END).sort(list(spec.key))
        want = expected[spec.name].sort(list(spec.key))
        assert stored.height == want.height > 500, spec.name
        assert stored.equals(want), spec.name
    stored_days = wh.read(precompute_tables.ml_feature_store).get_column("game_date").unique()
    assert stored_days.min() == START and stored_days.max() == END


def test_a_blocking_check_stops_downstream_assets_on_corrupt_box_scores(
    seeded: Path, tmp_path: Path, frames: dict[str, pl.DataFrame]
) -> None:
    path = _warehouse_copy(seeded, tmp_path)
    wh = DuckDBWarehouse(path)
    box = frames["nbac_player_boxscores"].filter(pl.col("game_date").is_between(START, END))
    corrupt = box.with_columns(
        minutes=pl.when(pl.int_range(pl.len()) == 0).then(-12.0).otherwise(pl.col("minutes"))
    )
    wh.replace_partitions(raw.nbac_player_boxscores, corrupt, START, END)

    result = _materialize(path)
    assert not result.success
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert failed == {analytics_checks.PLAYER_GAME_SUMMARY_RANGES}
    built = _materialized(result)
    assert analytics_tables.player_game_summary.name in built  # written, then stopped at
    assert analytics_tables.upcoming_player_game_context.name in built  # not downstream
    for spec in (
        precompute_tables.player_daily_cache,
        precompute_tables.player_composite_factors,
        precompute_tables.ml_feature_store,
    ):
        assert spec.name not in built, spec.name
        assert wh.read(spec, START, END).is_empty(), spec.name


def test_a_day_without_games_is_an_empty_partition(seeded: Path, tmp_path: Path) -> None:
    path = _warehouse_copy(seeded, tmp_path)
    result = _materialize(path, partition_key="2025-07-15")
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    wh = DuckDBWarehouse(path)
    day = dt.date(2025, 7, 15)
    for spec in (*analytics_tables.TABLES, *precompute_tables.TABLES):
        assert wh.read(spec, day, day).is_empty(), spec.name
