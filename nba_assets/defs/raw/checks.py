"""Data-quality checks of the raw tables."""

import dagster as dg
import polars as pl

from nba_assets.defs.checks import checked_range, failing_rows, key_check, table_check
from nba_assets.defs.table_asset import asset_key
from nba_assets.tables import raw
from nba_assets.warehouse.resource import WarehouseResource

KEYS_UNIQUE = "keys_unique_and_not_null"
MINUTES_AND_POINTS_IN_RANGE = "minutes_and_points_in_range"


@table_check(
    asset=asset_key(raw.nbac_player_boxscores),
    name=MINUTES_AND_POINTS_IN_RANGE,
    blocking=True,
    description="Minutes within 0..70 and points within 0..100 on every player row.",
)
def player_box_ranges(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    columns = ["game_date", "game_id", "player_id", "minutes", "pts"]
    df = warehouse.get().read(raw.nbac_player_boxscores, start, end, columns)
    bad = df.filter(~pl.col("minutes").is_between(0, 70) | ~pl.col("pts").is_between(0, 100))
    return failing_rows(start, end, bad, "out_of_range", rows=df.height)


KEY_CHECKS = [
    key_check(spec, KEYS_UNIQUE, blocking=spec is raw.nbac_player_boxscores) for spec in raw.TABLES
]
