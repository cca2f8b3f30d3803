"""Checks of the grading tables, on the partitions of each run (the whole table on their own)."""

import dagster as dg
import polars as pl

from nba_assets.defs.checks import checked_range, failing_rows, key_check, table_check
from nba_assets.defs.table_asset import asset_key
from nba_assets.lib.predict import OVER, UNDER
from nba_assets.tables import predictions
from nba_assets.warehouse.resource import WarehouseResource

GRADING_RULES = "grading_rules_hold"
ACCURACY_KEYS = "prediction_accuracy_keys"
PERFORMANCE_KEYS = "system_daily_performance_keys"


@table_check(
    asset=asset_key(predictions.prediction_accuracy),
    name=GRADING_RULES,
    description="Only settled OVER / UNDER picks carry a hit or miss (never PASS, NO_LINE, a "
    "push or a void); voids have no points; graded rows have a line and an error.",
)
def grading_rules(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    df = warehouse.get().read(
        predictions.prediction_accuracy,
        start,
        end,
        ["game_date", "player_lookup", "system_id", "recommendation", "line", "actual_points"]
        + ["absolute_error", "prediction_correct", "is_push", "is_void", "graded"],
    )
    is_pick = pl.col("recommendation").is_in([OVER, UNDER])
    bad = df.filter(
        (pl.col("prediction_correct").is_not_null() & (~is_pick | pl.col("is_push")))
        | (pl.col("is_void") & (pl.col("actual_points").is_not_null() | pl.col("graded")))
        | (pl.col("graded") & (pl.col("line").is_null() | pl.col("absolute_error").is_null()))
    )
    return failing_rows(start, end, bad, "violations", rows=df.height)


KEY_CHECKS = [
    key_check(predictions.prediction_accuracy, ACCURACY_KEYS, blocking=False),
    key_check(predictions.system_daily_performance, PERFORMANCE_KEYS, blocking=False),
]
