"""Walk-forward: the model serving day D never saw a player-game on or after D."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from nba_assets.defs.predictions.assets import model_id_for, points_model
from nba_assets.lib import predict
from nba_assets.lib.features import FEATURE_SET_VERSION, FEATURES_V1
from nba_assets.models.io_manager import PointsModelIOManager
from nba_assets.models.resource import ModelsResource
from nba_assets.models.store import LocalModelStore
from nba_assets.tables import analytics, precompute, predictions
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.io_manager import WarehouseIOManager
from nba_assets.warehouse.resource import WarehouseResource

TEAMS = ("AAA", "BBB", "CCC", "DDD")
HISTORY_START = dt.date(2024, 1, 1)


def fill_spec(spec: TableSpec, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with the spec's other columns added as nulls, conformed to the spec."""
    missing = [pl.lit(None, dtype).alias(c) for c, dtype in spec.columns.items() if c not in df]
    return spec.conform(df.with_columns(missing))


def synthetic_history(
    start: dt.date, end: dt.date, players: int = 40, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Feature-store rows and box-score rows for every player on every day of ``start..end``.

    Points depend on two features, so a model has something to learn.
    """
    rng = np.random.default_rng(seed)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    n = len(days) * players
    features = {name: rng.normal(10, 3, n) for name in FEATURES_V1}
    features["is_home"] = rng.integers(0, 2, n).astype(float)
    features["back_to_back"] = np.zeros(n)
    pts = np.clip(
        np.round(features["points_avg_last_10"] + 0.5 * features["minutes_avg_last_10"] - 5)
        + rng.integers(-4, 5, n),
        0,
        None,
    )
    team = [TEAMS[p % 4] for _ in days for p in range(players)]
    keys = pl.DataFrame(
        {
            "game_date": [d for d in days for _ in range(players)],
            "player_id": [1000 + p for _ in days for p in range(players)],
            "team_abbr": team,
        }
    ).with_columns(
        game_id=pl.format("G{}-{}", pl.col("game_date").dt.strftime("%Y%m%d"), pl.col("team_abbr")),
        player_lookup=pl.format("player{}", pl.col("player_id")),
        opponent_team_abbr=pl.col("team_abbr").replace(
            {"AAA": "BBB", "BBB": "AAA", "CCC": "DDD", "DDD": "CCC"}
        ),
    )
    store = keys.with_columns(
        feature_set_version=pl.lit(FEATURE_SET_VERSION),
        feature_quality=pl.lit(100.0),
        missing_inputs=pl.lit(""),
        **{name: pl.Series(values) for name, values in features.items()},
    )
    box = keys.with_columns(
        minutes=pl.lit(30.0), pts=pl.Series(pts.astype(np.int64)), season=pl.lit("2023-24")
    )
    return (
        fill_spec(precompute.ml_feature_store, store),
        fill_spec(analytics.player_game_summary, box),
    )


def resources(tmp_path: Path) -> dict[str, object]:
    warehouse = WarehouseResource(backend="duckdb", duckdb_path=str(tmp_path / "wh.duckdb"))
    models = ModelsResource(root=str(tmp_path / "models"))
    return {
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "points_model_io_manager": PointsModelIOManager(models=models, warehouse=warehouse),
        "models": models,
    }


def write(res: dict[str, object], spec: TableSpec, df: pl.DataFrame) -> None:
    warehouse = res["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    lo, hi = df.get_column("game_date").min(), df.get_column("game_date").max()
    assert isinstance(lo, dt.date) and isinstance(hi, dt.date)
    warehouse.get().replace_partitions(spec, df, lo, hi)


def seeded(tmp_path: Path, end: dt.date) -> tuple[dict[str, object], pl.DataFrame, pl.DataFrame]:
    """Resources over a warehouse holding synthetic features and box scores through ``end``."""
    features, box = synthetic_history(HISTORY_START, end)
    res = resources(tmp_path)
    write(res, precompute.ml_feature_store, features)
    write(res, analytics.player_game_summary, box)
    return res, features, box


def materialize_range(
    assets: list,
    res: dict[str, object],
    start: dt.date,
    end: dt.date,
    selection: list[dg.AssetKey] | None = None,
    config: dict[str, object] | None = None,
) -> dg.ExecuteInProcessResult:
    """One single-run backfill of ``start..end``; ``config`` maps op names to their config."""
    run_config = {"ops": {k: {"config": v} for k, v in config.items()}} if config else None
    return dg.materialize(
        assets,
        selection=selection,
        resources=res,
        run_config=run_config,
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        },
    )


def test_cadence_boundaries_never_after_the_day() -> None:
    wednesday = dt.date(2024, 3, 13)
    assert predict.cadence_boundary(wednesday, "weekly") == dt.date(2024, 3, 11)
    assert predict.cadence_boundary(wednesday, "monthly") == dt.date(2024, 3, 1)
    assert predict.cadence_boundary(wednesday, "daily") == wednesday
    assert predict.boundaries_between(dt.date(2024, 3, 13), dt.date(2024, 3, 19), "weekly") == [
        dt.date(2024, 3, 11),
        dt.date(2024, 3, 18),
    ]


def test_training_refuses_rows_on_or_after_the_boundary() -> None:
    features, box = synthetic_history(HISTORY_START, dt.date(2024, 2, 15))
    boundary = dt.date(2024, 2, 1)
    rows = predict.training_rows(features, box, boundary)
    assert rows.get_column("game_date").max() == boundary - dt.timedelta(days=1)
    leaked = predict.training_rows(features, box, boundary + dt.timedelta(days=3))
    with pytest.raises(AssertionError, match="on or after the boundary"):
        predict.train_points_model(leaked, boundary, list(FEATURES_V1))


def test_a_model_leaves_out_features_missing_from_the_rows_it_serves() -> None:
    features, box = synthetic_history(HISTORY_START, dt.date(2024, 2, 15))
    boundary = dt.date(2024, 2, 1)
    rows = predict.training_rows(features, box, boundary)
    serving = features.filter(pl.col("game_date") >= boundary).with_columns(
        team_pace=pl.lit(None, pl.Float64)
    )
    model = predict.train_points_model(rows, boundary, list(FEATURES_V1), serving=serving)
    assert model is not None
    assert model.feature_names == [f for f in FEATURES_V1 if f != "team_pace"]
    assert model.booster.feature_name() == model.feature_names
    assert predict.predict_points(model.booster, serving).null_count() == 0
    # Without serving rows, the last training days stand in for them.
    recent = rows.with_columns(
        ts_pct_last_10=pl.when(pl.col("game_date") >= dt.date(2024, 1, 4))
        .then(None)
        .otherwise(pl.col("ts_pct_last_10"))
    )
    assert "ts_pct_last_10" not in predict.model_features(recent, list(FEATURES_V1))
    assert predict.model_features(rows, list(FEATURES_V1)) == list(FEATURES_V1)


def test_model_for_day_is_blind_to_that_day_and_later(tmp_path: Path) -> None:
    start, end = dt.date(2024, 2, 24), dt.date(2024, 3, 5)
    res, features, box = seeded(tmp_path, end)

    assert materialize_range([points_model], res, start, end).success
    warehouse = res["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    registry = warehouse.get().read(predictions.points_model)
    assert registry.height == 11 and registry.get_column("model_id").null_count() == 0
    assert (registry["trained_through"] < registry["game_date"]).all()
    assert (registry["boundary"] <= registry["game_date"]).all()
    store = LocalModelStore(tmp_path / "models")
    for model_id, day in registry.select("model_id", "game_date").iter_rows():
        meta = store.metadata(model_id)
        assert meta.trained_through < day and meta.boundary <= day
        assert meta.feature_set_version == FEATURE_SET_VERSION and meta.training_rows > 0

    # Poison every game from the boundary of the day on (a row on the day itself included):
    # the model serving that day must come out identical; the next month's must not.
    day = dt.date(2024, 2, 28)
    boundary = predict.cadence_boundary(day)
    served, later = model_id_for(boundary), model_id_for(dt.date(2024, 3, 1))
    before = {m: (tmp_path / "models" / f"{m}.txt").read_text() for m in (served, later)}
    poisoned = box.filter(pl.col("game_date") >= boundary).with_columns(pl.col("pts") * 10 + 7)
    write(res, analytics.player_game_summary, poisoned)
    assert materialize_range(
        [points_model], res, start, end, config={"nba_predictions__points_model": {"retrain": True}}
    ).success
    after = {m: (tmp_path / "models" / f"{m}.txt").read_text() for m in (served, later)}
    assert after[served] == before[served]
    assert after[later] != before[later]


def test_registry_reuses_a_model_trained_on_the_same_rows(tmp_path: Path) -> None:
    day = dt.date(2024, 2, 14)
    res, features, box = seeded(tmp_path, day)
    trained = []
    for _ in range(2):
        result = materialize_range([points_model], res, day, day)
        (event,) = result.asset_materializations_for_node("nba_predictions__points_model")
        trained.append(event.metadata["models_trained"].value)
    assert trained == [1, 0]


def test_months_without_games_keep_the_previous_model(tmp_path: Path) -> None:
    last_game = dt.date(2024, 2, 29)  # then two months without games, as in an off-season
    res, features, box = seeded(tmp_path, last_game)

    result = materialize_range([points_model], res, dt.date(2024, 3, 4), dt.date(2024, 4, 30))
    assert result.success
    events = result.asset_materializations_for_node("nba_predictions__points_model")
    assert {e.metadata["models_trained"].value for e in events} == {1}  # one per partition
    warehouse = res["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    registry = warehouse.get().read(predictions.points_model)
    assert registry.height == 58
    assert set(registry.get_column("model_id")) == {model_id_for(dt.date(2024, 3, 1))}
    assert (registry["trained_through"] == last_game).all()


def test_a_run_after_months_without_games_serves_the_stored_model(tmp_path: Path) -> None:
    # A long replay runs a season at a time: the next run's first boundary saw the same games
    # as the last one stored, and serves its model as one run over both would.
    last_game = dt.date(2024, 2, 29)
    res, features, box = seeded(tmp_path, last_game)
    assert materialize_range([points_model], res, dt.date(2024, 3, 4), dt.date(2024, 3, 31)).success
    result = materialize_range([points_model], res, dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    assert result.success
    events = result.asset_materializations_for_node("nba_predictions__points_model")
    assert {e.metadata["models_trained"].value for e in events} == {0}
    assert {e.metadata["models_reused"].value for e in events} == {1}
    warehouse = res["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    registry = warehouse.get().read(predictions.points_model, dt.date(2024, 4, 1))
    assert set(registry.get_column("model_id")) == {model_id_for(dt.date(2024, 3, 1))}
    # Once a game is played after it, the next boundary trains its own.
    played = dt.date(2024, 4, 15)
    for spec, frame in (
        (precompute.ml_feature_store, features),
        (analytics.player_game_summary, box),
    ):
        day = frame.filter(pl.col("game_date") == last_game).with_columns(game_date=pl.lit(played))
        write(res, spec, day)
    result = materialize_range([points_model], res, dt.date(2024, 5, 1), dt.date(2024, 5, 1))
    (event,) = result.asset_materializations_for_node("nba_predictions__points_model")
    assert event.metadata["models_trained"].value == 1


def test_predictions_load_the_served_models_through_the_io_manager(tmp_path: Path) -> None:
    from nba_assets.defs.predictions.assets import player_prop_predictions

    start, end = dt.date(2024, 2, 26), dt.date(2024, 3, 3)
    res, features, box = seeded(tmp_path, end)
    assert materialize_range([points_model], res, start, end).success

    # A run of the predictions alone: the models come from the store through the IO manager.
    assets = [points_model, player_prop_predictions]
    only_predictions = [player_prop_predictions.key]
    assert materialize_range(assets, res, start, end, selection=only_predictions).success
    warehouse = res["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    got = (
        warehouse.get()
        .read(predictions.player_prop_predictions)
        .filter(pl.col("system_id") == predict.SYSTEM_LIGHTGBM)
    )
    store = LocalModelStore(tmp_path / "models")
    registry = warehouse.get().read(predictions.points_model)
    served = features.filter(pl.col("game_date") >= start).join(
        registry.select("game_date", "model_id"), on="game_date"
    )
    assert served.get_column("model_id").n_unique() == 2  # the months of 02-01 and 03-01
    direct = pl.concat(
        part.with_columns(predict_points=predict.predict_points(store.load(str(m)), part))
        for (m,), part in served.group_by("model_id")
    )
    assert got.height == direct.height > 0
    assert got.sort("game_date", "player_lookup")["predicted_points"].to_list() == pytest.approx(
        direct.sort("game_date", "player_lookup")["predict_points"].to_list(), abs=0.051
    )

    # An artifact the registry names but the store lost: the load fails and names it.
    model_id = served.get_column("model_id")[0]
    (tmp_path / "models" / f"{model_id}.txt").unlink()
    with pytest.raises(FileNotFoundError, match=model_id):
        dg.materialize(
            assets,
            selection=only_predictions,
            resources=res,
            partition_key=start.isoformat(),
        )


def test_lightgbm_sees_the_moving_average_prediction_of_each_row() -> None:
    features, box = synthetic_history(HISTORY_START, dt.date(2024, 2, 15))
    boundary = dt.date(2024, 2, 1)
    rows = predict.training_rows(features, box, boundary)
    serving = features.filter(pl.col("game_date") >= boundary)
    model = predict.train_points_model(rows, boundary, list(predict.MODEL_FEATURES))
    assert model is not None and predict.MA_FEATURE in model.booster.feature_name()
    # Serving rows straight from the feature store get the same input the training rows had.
    assert predict.MA_FEATURE not in serving.columns
    expected = predict.moving_average_v1(serving)
    assert predict.model_inputs(serving)[predict.MA_FEATURE].to_list() == expected.to_list()
    assert predict.predict_points(model.booster, serving).null_count() == 0


SEASON_BREAK = dt.date(2023, 7, 1)  # the bins anchor of every boundary of 2023-07..2024-06
AUGUST = [dt.date(2023, 7, 31) + dt.timedelta(days=7 * i) for i in range(4)]  # Mondays


def test_a_season_s_models_share_bins_from_the_rows_before_it() -> None:
    features, box = synthetic_history(dt.date(2023, 5, 1), dt.date(2023, 8, 31))
    names = list(predict.MODEL_FEATURES)
    trainer = predict.PointsTrainer(predict.training_rows(features, box, AUGUST[-1]))
    for boundary in AUGUST:
        rows = predict.training_rows(features, box, boundary)
        assert trainer.rows_before(boundary).equals(rows)
        assert predict.bins_anchor(boundary) == SEASON_BREAK
        assert trainer.bins_from(boundary, names) == SEASON_BREAK
        shared = trainer.train(boundary, names)
        alone = predict.train_points_model(rows, boundary, names)
        assert shared is not None and alone is not None and shared.validation_mae is not None
        # Binned once for the season or alone for this boundary: the same model.
        assert shared.booster.model_to_string() == alone.booster.model_to_string()
        assert shared.validation_mae == alone.validation_mae
        assert shared.trained_through == boundary - dt.timedelta(days=1)

    # Feature values from the boundary on, even of rows only a later model trains on, never
    # reach a model's bins: the model of AUGUST[1] comes out identical.
    changed = features.with_columns(
        pl.when(pl.col("game_date") >= AUGUST[1])
        .then(pl.col(f) * 10 + 3)
        .otherwise(pl.col(f))
        .alias(f)
        for f in FEATURES_V1
    )
    poisoned = predict.PointsTrainer(predict.training_rows(changed, box, AUGUST[-1]))
    before = trainer.train(AUGUST[1], names)
    after = poisoned.train(AUGUST[1], names)
    later = trainer.train(AUGUST[2], names)
    later_poisoned = poisoned.train(AUGUST[2], names)
    assert before is not None and after is not None and later is not None
    assert later_poisoned is not None
    assert after.booster.model_to_string() == before.booster.model_to_string()
    assert later_poisoned.booster.model_to_string() != later.booster.model_to_string()


def test_fits_trained_side_by_side_are_the_fits_trained_one_at_a_time() -> None:
    features, box = synthetic_history(dt.date(2023, 5, 1), dt.date(2023, 8, 31))
    names = list(predict.MODEL_FEATURES)
    rows = predict.training_rows(features, box, AUGUST[-1])
    alone, together = predict.PointsTrainer(rows), predict.PointsTrainer(rows)
    plans = [together.plan(boundary, names) for boundary in AUGUST]
    keys = [key for plan in plans if plan is not None for key in plan if key is not None]
    # Four models and their held-out checks, some of which are an earlier boundary's model.
    assert len(keys) > len(set(keys)) >= len(AUGUST)
    fitted = together.fit_all(keys, threads=2)
    for boundary, plan in zip(AUGUST, plans, strict=True):
        one, other = alone.train(boundary, names), together.train(boundary, names)
        assert one is not None and other is not None and plan is not None
        assert fitted[plan.model].model_to_string() == one.booster.model_to_string()
        assert other.booster.model_to_string() == one.booster.model_to_string()
        assert other.validation_mae == one.validation_mae


def test_a_boundary_bins_its_own_rows_when_the_season_s_bins_cannot_serve_it() -> None:
    names = list(FEATURES_V1)
    # Too few rows before the anchor (the archive's first season).
    features, box = synthetic_history(dt.date(2023, 6, 25), dt.date(2023, 8, 31))
    trainer = predict.PointsTrainer(predict.training_rows(features, box, AUGUST[-1]))
    assert trainer.bins_from(AUGUST[0], names) == AUGUST[0]
    # A feature the rows before the anchor never carry (new this season).
    features, box = synthetic_history(dt.date(2023, 5, 1), dt.date(2023, 8, 31))
    new = features.with_columns(
        pl.when(pl.col("game_date") >= SEASON_BREAK)
        .then(pl.col("usage_last_10"))
        .alias("usage_last_10")
    )
    trainer = predict.PointsTrainer(predict.training_rows(new, box, AUGUST[-1]))
    assert trainer.bins_from(AUGUST[0], names) == AUGUST[0]
    assert trainer.bins_from(AUGUST[0], [f for f in names if f != "usage_last_10"]) == SEASON_BREAK
    model = trainer.train(AUGUST[0], names)
    assert model is not None and "usage_last_10" in model.booster.feature_name()
    # A held-out check is binned as the model that served the held-out days: the earlier
    # boundary's own bins, which never saw those days, so it is that model's fit.
    september, august = dt.date(2023, 9, 1), dt.date(2023, 8, 1)
    assert predict.held_out_boundary(september) == august
    later, earlier = trainer.plan(september, names), trainer.plan(august, names)
    assert later is not None and earlier is not None and later.held_out == earlier.model
    assert later.model.bins_day == september and later.held_out.bins_day == august


MONTHS = [dt.date(2023, 8, 1), dt.date(2023, 9, 1), dt.date(2023, 10, 1)]  # monthly boundaries


def test_a_boundary_s_model_is_the_same_whichever_run_trains_it(tmp_path: Path) -> None:
    features, box = synthetic_history(dt.date(2023, 5, 1), dt.date(2023, 10, 6))
    trained: dict[str, dict[str, str]] = {}
    registries: dict[str, pl.DataFrame] = {}
    for shape, ranges in {
        "ranged": [(MONTHS[0] + dt.timedelta(days=2), MONTHS[-1] + dt.timedelta(days=5))],
        "a day a month": [(b + dt.timedelta(days=2), b + dt.timedelta(days=2)) for b in MONTHS],
    }.items():
        res = resources(tmp_path / shape)
        write(res, precompute.ml_feature_store, features)
        write(res, analytics.player_game_summary, box)
        for start, end in ranges:
            assert materialize_range([points_model], res, start, end).success
        warehouse = res["warehouse"]
        assert isinstance(warehouse, WarehouseResource)
        registries[shape] = (
            warehouse.get()
            .read(predictions.points_model)
            .select("boundary", "model_id", "training_rows", "validation_mae")
            .unique()
            .sort("boundary")
        )
        models = tmp_path / shape / "models"
        trained[shape] = {p.name: p.read_text() for p in models.glob("*.txt")}
    assert len(trained["ranged"]) == len(MONTHS)
    assert trained["ranged"] == trained["a day a month"]
    assert registries["ranged"].equals(registries["a day a month"])
    assert registries["ranged"].get_column("validation_mae").null_count() == 0


def test_a_training_window_keeps_only_the_last_days_before_the_boundary() -> None:
    features, box = synthetic_history(dt.date(2023, 5, 1), dt.date(2023, 8, 31))
    rows = predict.training_rows(features, box, AUGUST[-1])
    trainer = predict.PointsTrainer(rows, window_days=60)
    model = trainer.train(AUGUST[2], list(FEATURES_V1))
    assert model is not None
    assert model.train_start == AUGUST[2] - dt.timedelta(days=60)
    assert model.trained_through == AUGUST[2] - dt.timedelta(days=1)
    assert (
        model.rows
        == rows.filter(
            pl.col("game_date") >= AUGUST[2] - dt.timedelta(days=60),
            pl.col("game_date") < AUGUST[2],
        ).height
    )
    everything = predict.PointsTrainer(rows, window_days=None).train(AUGUST[2], list(FEATURES_V1))
    assert everything is not None and everything.train_start == dt.date(2023, 5, 1)
