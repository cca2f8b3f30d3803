"""One model-store contract for the local folder and GCS (on the emulator)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from google.cloud import storage

from nba_assets.models.gcs import GcsModelStore
from nba_assets.models.store import LocalModelStore, ModelMetadata, ModelStore


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.gcs)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ModelStore:
    if request.param == "local":
        return LocalModelStore(tmp_path / "models")
    client: storage.Client = request.getfixturevalue("gcs_client")
    bucket = f"models-{uuid.uuid4().hex[:12]}"
    client.create_bucket(bucket)
    return GcsModelStore(bucket, client, prefix="test_")


def _booster() -> lgb.Booster:
    rng = np.random.default_rng(7)
    features = rng.normal(size=(60, 3))
    target = features @ np.array([3.0, -1.0, 0.5]) + 20
    data = lgb.Dataset(features, target, feature_name=["f0", "f1", "f2"])
    params = {"objective": "regression", "verbose": -1, "min_data_in_leaf": 5}
    return lgb.train(params, data, num_boost_round=3)


def _metadata(model_id: str) -> ModelMetadata:
    return ModelMetadata(
        model_id=model_id,
        system_id="lightgbm_v1",
        cadence="weekly",
        boundary=dt.date(2024, 1, 15),
        train_start=dt.date(2023, 10, 24),
        trained_through=dt.date(2024, 1, 14),
        training_rows=60,
        feature_set_version="v1",
        feature_names=["f0", "f1", "f2"],
        validation_mae=4.9,
        params={"objective": "regression"},
        rounds=3,
        trained_at=dt.datetime(2024, 1, 15, 6, 30, tzinfo=dt.UTC),
    )


def test_save_then_load_gives_the_same_predictions(store: ModelStore) -> None:
    booster, metadata = _booster(), _metadata("points_2024-01-15")
    assert not store.exists(metadata.model_id)
    uri = store.save(booster, metadata)
    assert uri == store.uri(metadata.model_id)
    assert store.exists(metadata.model_id)
    probe = np.array([[0.1, -0.2, 0.3], [1.0, 1.0, 1.0]])
    loaded = np.asarray(store.load(metadata.model_id).predict(probe))
    np.testing.assert_allclose(loaded, np.asarray(booster.predict(probe)))
    assert store.metadata(metadata.model_id) == metadata


def test_a_missing_model_is_a_file_not_found_error(store: ModelStore) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        store.load("nope")
    with pytest.raises(FileNotFoundError, match="nope"):
        store.metadata("nope")


def test_model_ids_cannot_reach_outside_the_store(store: ModelStore) -> None:
    with pytest.raises(ValueError, match="invalid model id"):
        store.uri("../elsewhere")


@pytest.mark.gcs
def test_gcs_model_objects_and_uri(gcs_client: storage.Client) -> None:
    bucket = f"models-{uuid.uuid4().hex[:12]}"
    gcs_client.create_bucket(bucket)
    store = GcsModelStore(bucket, gcs_client, prefix="test_")
    assert store.save(_booster(), _metadata("m1")) == f"gs://{bucket}/test_/m1.txt"
    names = sorted(b.name for b in gcs_client.list_blobs(bucket))
    assert names == ["test_/m1.json", "test_/m1.txt"]


@pytest.mark.gcs
def test_points_model_io_manager_keeps_models_in_the_bucket(
    tmp_path: Path, gcs_emulator: str, gcs_client: storage.Client
) -> None:
    import polars as pl

    from nba_assets.defs.predictions.assets import player_prop_predictions, points_model
    from nba_assets.lib.predict import SYSTEM_LIGHTGBM
    from nba_assets.models.io_manager import PointsModelIOManager
    from nba_assets.models.resource import ModelsResource
    from nba_assets.tables import predictions
    from nba_assets_tests.test_walk_forward import materialize_range, seeded

    bucket = f"models-{uuid.uuid4().hex[:12]}"
    gcs_client.create_bucket(bucket)
    start, end = dt.date(2024, 2, 26), dt.date(2024, 3, 3)
    res, _, _ = seeded(tmp_path, end)
    models = ModelsResource(
        root=str(tmp_path / "local-models"),
        prefix="test_",
        gcs_bucket=bucket,
        gcs_endpoint=gcs_emulator,
        gcp_project=gcs_client.project,
    )
    res["models"] = models
    res["points_model_io_manager"] = PointsModelIOManager(models=models, warehouse=res["warehouse"])

    assert materialize_range([points_model], res, start, end).success
    names = sorted(b.name for b in gcs_client.list_blobs(bucket))
    months = ["lightgbm_v1-monthly-20240201", "lightgbm_v1-monthly-20240301"]
    assert names == sorted(f"models/test/{m}.{ext}" for m in months for ext in ("json", "txt"))
    assert not (tmp_path / "local-models").exists()
    warehouse = res["warehouse"].get()  # type: ignore[attr-defined]
    uris = set(warehouse.read(predictions.points_model)["artifact_uri"])
    assert uris == {f"gs://{bucket}/models/test/{m}.txt" for m in months}

    # The predictions alone: the boosters come back from the bucket through the IO manager.
    assets = [points_model, player_prop_predictions]
    selection = [player_prop_predictions.key]
    assert materialize_range(assets, res, start, end, selection=selection).success
    lightgbm = warehouse.read(predictions.player_prop_predictions).filter(
        pl.col("system_id") == SYSTEM_LIGHTGBM
    )
    assert lightgbm.height > 0 and lightgbm["predicted_points"].null_count() == 0
