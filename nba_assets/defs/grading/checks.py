"""Checks of the grading tables."""

import dagster as dg
import polars as pl

from nba_assets.lib.predict import OVER, UNDER
from nba_assets.resources import WarehouseResource
from nba_assets.tables import predictions

GRADING_RULES = "grading_rules_hold"


@dg.asset_check(
    asset=dg.AssetKey([predictions.DATASET, predictions.prediction_accuracy.name]),
    name=GRADING_RULES,
    description="Only settled OVER / UNDER picks carry a hit or miss (never PASS, NO_LINE, a "
    "push or a void); voids have no points; graded rows have a line and an error.",
)
def grading_rules(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    df = warehouse.get().read(
        predictions.prediction_accuracy,
        columns=[
            "recommendation",
            "line",
            "actual_points",
            "absolute_error",
            "prediction_correct",
            "is_push",
            "is_void",
            "graded",
        ],
    )
    is_pick = pl.col("recommendation").is_in([OVER, UNDER])
    bad = df.filter(
        (pl.col("prediction_correct").is_not_null() & (~is_pick | pl.col("is_push")))
        | (pl.col("is_void") & (pl.col("actual_points").is_not_null() | pl.col("graded")))
        | (pl.col("graded") & (pl.col("line").is_null() | pl.col("absolute_error").is_null()))
    )
    return dg.AssetCheckResult(
        passed=bad.is_empty(),
        metadata={"rows": df.height, "violations": bad.height},
    )


CHECKS = [grading_rules]
