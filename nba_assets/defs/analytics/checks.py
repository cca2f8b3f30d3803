"""Data-quality checks of phase 3, run on the partitions each run materializes.

An asset check runs in the run of its asset and sees that run's partitions: one day, or the
whole range of a single-run backfill (``context.partition_key_range``). The checks read exactly
those partitions. A check launched on its own, outside a partitioned run, has no partition and
checks the whole table. (Dagster 1.13 can also partition a check itself, but only as a preview
feature; the run's range gives the same coverage without it.)
"""

import dagster as dg
import polars as pl

from nba_assets.defs.checks import (
    checked_range,
    failing_rows,
    key_check,
    sample,
    table_check,
    where,
)
from nba_assets.tables import analytics as tables
from nba_assets.tables import raw
from nba_assets.warehouse.resource import WarehouseResource

PLAYER_GAME_SUMMARY_KEYS = "player_game_summary_keys"
PLAYER_GAME_SUMMARY_RANGES = "player_game_summary_ranges"
PLAYER_GAME_SUMMARY_COVERS_BOX_SCORES = "player_game_summary_covers_box_scores"
TEAM_POINTS_MATCH_PLAYER_POINTS = "team_points_match_player_points"
UPCOMING_PLAYER_CONTEXT_KEYS = "upcoming_player_game_context_keys"

MAX_MINUTES = 70.0
MAX_POINTS = 100


@table_check(
    asset=dg.AssetKey([tables.DATASET, tables.player_game_summary.name]),
    name=PLAYER_GAME_SUMMARY_RANGES,
    blocking=True,
    description=f"Minutes within 0..{MAX_MINUTES:.0f} and points within 0..{MAX_POINTS}.",
)
def player_game_summary_ranges(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    df = warehouse.get().read(
        tables.player_game_summary,
        start,
        end,
        ["game_date", "game_id", "player_id", "player_name", "minutes", "pts"],
    )
    bad = df.filter(
        ~pl.col("minutes").is_between(0, MAX_MINUTES).fill_null(False)
        | ~pl.col("pts").is_between(0, MAX_POINTS).fill_null(False)
    )
    return failing_rows(start, end, bad, "out_of_range", rows=df.height)


@table_check(
    asset=dg.AssetKey([tables.DATASET, tables.player_game_summary.name]),
    name=PLAYER_GAME_SUMMARY_COVERS_BOX_SCORES,
    additional_deps=[dg.AssetKey([raw.DATASET, raw.nbac_player_boxscores.name])],
    description="Every player in the day's box scores has a summary row.",
)
def player_game_summary_covers_box_scores(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    wh = warehouse.get()
    key = ["game_id", "player_id"]
    with wh.reading("checking player_game_summary covers the box scores"):
        box = wh.read(raw.nbac_player_boxscores, start, end, ["game_date", *key, "player_name"])
        summary = wh.read(tables.player_game_summary, start, end, key)
    missing = box.join(summary, on=key, how="anti")
    return failing_rows(start, end, missing, "missing", box_score_rows=box.height)


@table_check(
    asset=dg.AssetKey([tables.DATASET, tables.team_offense_game_summary.name]),
    name=TEAM_POINTS_MATCH_PLAYER_POINTS,
    additional_deps=[dg.AssetKey([raw.DATASET, raw.nbac_player_boxscores.name])],
    description="Each team's points equal the sum of its players' points (team vs player box).",
)
def team_points_match_player_points(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    wh = warehouse.get()
    key = ["game_id", "team_id"]
    with wh.reading("checking team points against player points"):
        teams = wh.read(tables.team_offense_game_summary, start, end, ["game_date", *key, "pts"])
        box = wh.read(raw.nbac_player_boxscores, start, end, [*key, "pts"])
    players = box.group_by(key).agg(player_pts=pl.col("pts").sum())
    compared = teams.join(players, on=key, how="left")
    bad = compared.filter(pl.col("player_pts").is_null() | (pl.col("pts") != pl.col("player_pts")))
    return dg.AssetCheckResult(
        passed=bad.is_empty(),
        metadata={
            "partitions": where(start, end),
            "team_games": teams.height,
            "mismatched": bad.height,
            "without_player_rows": bad.filter(pl.col("player_pts").is_null()).height,
            "sample": sample(bad),
        },
    )


KEY_CHECKS = [
    key_check(tables.player_game_summary, PLAYER_GAME_SUMMARY_KEYS, blocking=True),
    key_check(tables.upcoming_player_game_context, UPCOMING_PLAYER_CONTEXT_KEYS, blocking=True),
    *(
        key_check(spec, f"{spec.name}_keys", blocking=False)
        for spec in (
            tables.team_offense_game_summary,
            tables.team_defense_game_summary,
            tables.upcoming_team_game_context,
        )
    ),
]
