"""Checks of the points model registry and the predictions."""

import dagster as dg
import polars as pl

from nba_assets.lib import predict
from nba_assets.models_store import ModelsResource
from nba_assets.resources import WarehouseResource
from nba_assets.tables import predictions

WALK_FORWARD = "trained_only_on_earlier_games"
KEYS_UNIQUE = "keys_unique_and_not_null"
VALUES_VALID = "values_valid"

_RECOMMENDATIONS = [predict.OVER, predict.UNDER, predict.PASS, predict.NO_LINE]


@dg.asset_check(
    asset=dg.AssetKey([predictions.DATASET, predictions.points_model.name]),
    name=WALK_FORWARD,
    blocking=True,
    description="Every day's model was trained on games before it: trained_through < boundary "
    "<= game_date in the registry and in the stored model's metadata.",
)
def points_model_walk_forward(
    warehouse: WarehouseResource, models: ModelsResource
) -> dg.AssetCheckResult:
    registry = (
        warehouse.get().read(predictions.points_model).filter(pl.col("model_id").is_not_null())
    )
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
            "days_with_model": registry.height,
            "registry_violations": bad.height,
            "stored_metadata_violations": ", ".join(stored_bad) or "none",
            "models_missing_from_store": ", ".join(missing) or "none",
        },
    )


@dg.asset_check(
    asset=dg.AssetKey([predictions.DATASET, predictions.player_prop_predictions.name]),
    name=KEYS_UNIQUE,
    description="One row per game, player and system; no null key.",
)
def predictions_keys_unique(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    spec = predictions.player_prop_predictions
    df = warehouse.get().read(spec, columns=list(spec.key))
    nulls = df.filter(pl.any_horizontal(pl.all().is_null())).height
    dupes = df.height - df.unique().height
    return dg.AssetCheckResult(
        passed=nulls == 0 and dupes == 0,
        metadata={"rows": df.height, "null_keys": nulls, "duplicate_keys": dupes},
    )


@dg.asset_check(
    asset=dg.AssetKey([predictions.DATASET, predictions.player_prop_predictions.name]),
    name=VALUES_VALID,
    description="Points >= 0, confidence in 0..1, a known recommendation, NO_LINE exactly when "
    "there is no line, and edge = predicted - line.",
)
def predictions_values_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    df = warehouse.get().read(
        predictions.player_prop_predictions,
        columns=["predicted_points", "confidence", "line", "edge", "recommendation"],
    )
    bad = df.filter(
        (pl.col("predicted_points") < 0)
        | pl.col("predicted_points").is_null()
        | ~pl.col("confidence").is_between(0, 1)
        | ~pl.col("recommendation").is_in(_RECOMMENDATIONS)
        | ((pl.col("recommendation") == predict.NO_LINE) != pl.col("line").is_null())
        | ((pl.col("edge") - (pl.col("predicted_points") - pl.col("line"))).abs() > 1e-9)
    )
    return dg.AssetCheckResult(
        passed=bad.is_empty(),
        metadata={
            "rows": df.height,
            "invalid": bad.height,
            "examples": str(bad.head(5).to_dicts()),
        },
    )


CHECKS = [points_model_walk_forward, predictions_keys_unique, predictions_values_valid]
