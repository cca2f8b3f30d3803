"""The IO manager of the ``points_model`` asset: boosters to the model store, the registry to
the warehouse, and both back as the models serving each day of a partition range."""

import dataclasses
import datetime as dt

import dagster as dg
import lightgbm as lgb
import polars as pl

from nba_assets.lib import predict
from nba_assets.lib.features import FEATURE_SET_VERSION
from nba_assets.models.resource import ModelsResource
from nba_assets.models.store import ModelMetadata
from nba_assets.tables import predictions
from nba_assets.warehouse.resource import WarehouseResource


@dataclasses.dataclass(frozen=True)
class PointsModels:
    """The LightGBM model serving each day of a partition range.

    ``served`` maps every day of the range to its model's metadata (None: no model, too few
    training rows). ``boosters`` holds the boosters by model id: on output only the ones trained
    in this run (the others are in the store already), on input every one that serves a day.
    """

    served: dict[dt.date, ModelMetadata | None]
    boosters: dict[str, lgb.Booster]
    system_id: str = predict.SYSTEM_LIGHTGBM
    cadence: predict.Cadence = predict.RETRAIN_CADENCE
    feature_set_version: str = FEATURE_SET_VERSION

    def model_ids(self) -> pl.DataFrame:
        """``game_date`` and the ``model_id`` serving it (null: none), one row per day."""
        return pl.DataFrame(
            {
                "game_date": list(self.served),
                "model_id": [m.model_id if m else None for m in self.served.values()],
            },
            schema={"game_date": pl.Date, "model_id": pl.String},
        )

    def registry(self, uri: dict[str, str]) -> pl.DataFrame:
        """The ``nba_predictions.points_model`` rows: which model served each day."""
        records = []
        for day, meta in sorted(self.served.items()):
            records.append(
                {
                    "game_date": day,
                    "system_id": self.system_id,
                    "model_id": meta.model_id if meta else None,
                    "cadence": self.cadence,
                    # the serving model's cut-off; without one, the boundary it would have had
                    "boundary": meta.boundary
                    if meta
                    else predict.cadence_boundary(day, self.cadence),
                    "train_start": meta.train_start if meta else None,
                    "trained_through": meta.trained_through if meta else None,
                    "training_rows": meta.training_rows if meta else 0,
                    "validation_mae": meta.validation_mae if meta else None,
                    "feature_set_version": self.feature_set_version,
                    "artifact_uri": uri[meta.model_id] if meta else None,
                }
            )
        return pl.DataFrame(records, schema=predictions.points_model.schema)


def _range(context: dg.OutputContext | dg.InputContext) -> tuple[dt.date, dt.date]:
    keys = sorted(context.asset_partition_keys)
    return dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])


class PointsModelIOManager(dg.ConfigurableIOManager):
    """Stores each new booster with its metadata sidecar (training window, rows, feature-set
    version, features, validation MAE) in the model store (a local folder, or GCS in
    production), then replaces the range's rows of the ``points_model`` registry table.

    Loading reads the registry of the range and the boosters it names, so a downstream asset
    predicts with exactly the models recorded as serving its days.
    """

    models: dg.ResourceDependency[ModelsResource]
    warehouse: dg.ResourceDependency[WarehouseResource]

    def handle_output(self, context: dg.OutputContext, obj: PointsModels) -> None:
        if not isinstance(obj, PointsModels):
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__},"
                " the points model IO manager stores PointsModels"
            )
        start, end = _range(context)
        store = self.models.get()
        metas = {m.model_id: m for m in obj.served.values() if m is not None}
        missing = set(obj.boosters) - set(metas)
        if missing:
            raise ValueError(f"boosters without a day they serve: {sorted(missing)}")
        # Boosters before the registry: a registry row never names a model not yet stored.
        uri = {model_id: store.uri(model_id) for model_id in metas}
        for model_id, booster in obj.boosters.items():
            store.save(booster, metas[model_id])
        absent = [m for m in metas if m not in obj.boosters and not store.exists(m)]
        if absent:
            raise FileNotFoundError(f"models served but neither trained nor stored: {absent}")
        warehouse = self.warehouse.get()
        rows = warehouse.replace_partitions(predictions.points_model, obj.registry(uri), start, end)
        context.add_output_metadata(
            {
                "dagster/row_count": rows,
                "partitions": f"{start}..{end}",
                "artifacts_written": len(obj.boosters),
                "artifacts": dg.MetadataValue.md("\n".join(f"- {uri[m]}" for m in sorted(uri))),
            }
        )

    def load_input(self, context: dg.InputContext) -> PointsModels:
        start, end = _range(context)
        registry = self.warehouse.get().read(predictions.points_model, start, end)
        store = self.models.get()
        served: dict[dt.date, ModelMetadata | None] = {}
        metas: dict[str, ModelMetadata] = {}
        for day, model_id in registry.select("game_date", "model_id").iter_rows():
            if model_id is not None and model_id not in metas:
                metas[model_id] = store.metadata(model_id)
            served[day] = metas[model_id] if model_id is not None else None
        return PointsModels(served=served, boosters={m: store.load(m) for m in metas})
