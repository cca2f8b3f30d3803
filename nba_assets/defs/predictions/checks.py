"""Checks of the points model registry and the predictions, on the partitions of each run.

Launched on their own, outside a partitioned run, they check the whole table. The walk-forward
check is blocking: no prediction is made with a model that saw the day it predicts.
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
from nba_assets.defs.table_asset import asset_key
from nba_assets.lib import predict
from nba_assets.models.resource import ModelsResource
from nba_assets.tables import predictions
from nba_assets.warehouse.resource import WarehouseResource

WALK_FORWARD = "trained_only_on_earlier_games"
PREDICTIONS_KEYS = "player_prop_predictions_keys"
PREDICTIONS_VALUES = "player_prop_predictions_values"
HISTORY_KEYS = "player_prop_prediction_history_keys"

_RECOMMENDATIONS = [predict.OVER, predict.UNDER, predict.PASS, predict.NO_LINE]


@table_check(
    asset=asset_key(predictions.points_model),
    name=WALK_FORWARD,
    blocking=True,
    description="Every day's model was trained on games before it: trained_through < boundary "
    "<= game_date in the registry and in the stored model's metadata.",
)
def points_model_walk_forward(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, models: ModelsResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    registry = warehouse.get().read(predictions.points_model, start, end)
    registry = registry.filter(pl.col("model_id").is_not_null())
    bad = registry.filter(
        (pl.col("trained_through") >= pl.col("boundary"))
        | (pl.col("boundary") > pl.col("game_date"))
    )
    store = models.get()
    stored_bad, missing = [], []
    for model_id, boundary in registry.select("model_id", "boundary").unique().iter_rows():
        if not store.exists(model_id):
            missing.append(model_id)
            continue
        meta = store.metadata(model_id)
        if meta.trained_through >= boundary or meta.boundary != boundary:
            stored_bad.append(model_id)
    return dg.AssetCheckResult(
        passed=bad.is_empty() and not stored_bad and not missing,
        metadata={
            "partitions": where(start, end),
            "days_with_model": registry.height,
            "registry_violations": bad.height,
            "sample": sample(bad),
            "stored_metadata_violations": ", ".join(sorted(stored_bad)) or "none",
            "models_missing_from_store": ", ".join(sorted(missing)) or "none",
        },
    )


@table_check(
    asset=asset_key(predictions.player_prop_predictions),
    name=PREDICTIONS_VALUES,
    description="Points >= 0, confidence in 0..1, a known recommendation, NO_LINE exactly when "
    "there is no line, and edge = predicted - line.",
)
def predictions_values_valid(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    df = warehouse.get().read(
        predictions.player_prop_predictions,
        start,
        end,
        ["game_date", "player_lookup", "system_id", "predicted_points", "confidence", "line"]
        + ["edge", "recommendation"],
    )
    bad = df.filter(
        (pl.col("predicted_points") < 0)
        | pl.col("predicted_points").is_null()
        | ~pl.col("confidence").is_between(0, 1)
        | ~pl.col("recommendation").is_in(_RECOMMENDATIONS)
        | ((pl.col("recommendation") == predict.NO_LINE) != pl.col("line").is_null())
        | ((pl.col("edge") - (pl.col("predicted_points") - pl.col("line"))).abs() > 1e-9)
    )
    return failing_rows(start, end, bad, "invalid", rows=df.height)


KEY_CHECKS = [
    key_check(predictions.player_prop_predictions, PREDICTIONS_KEYS, blocking=False),
    key_check(predictions.player_prop_prediction_history, HISTORY_KEYS, blocking=False),
]
