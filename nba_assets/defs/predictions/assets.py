"""Phase 5: the walk-forward points model and every system's predictions for the day."""

import datetime as dt

import dagster as dg
import lightgbm as lgb
import polars as pl

from nba_assets.defs.lineage import STALE_WINDOW_DAYS, days_before, history_of
from nba_assets.defs.table_asset import asset_key, table_asset
from nba_assets.defs.util import TABLE_DAYS, each_date, partition_dates
from nba_assets.lib import predict
from nba_assets.lib.features import FEATURE_SET_VERSION
from nba_assets.lib.lines import (
    POINTS_MARKET,
    daily_points_lines,
    points_offers,
    pre_game_props,
    prediction_snapshot_times,
)
from nba_assets.lib.predict import market_blend, systems
from nba_assets.models.io_manager import PointsModels
from nba_assets.models.resource import ModelsResource
from nba_assets.models.store import ModelMetadata, ModelStore
from nba_assets.partitions import GAME_DATE_TIMEZONE
from nba_assets.tables import analytics, precompute, predictions, raw
from nba_assets.warehouse.resource import WarehouseResource

GROUP = "predictions"
POINTS_MODEL = asset_key(predictions.points_model)

_ACTUAL_COLUMNS = ["game_date", "player_id", "minutes", "pts"]
_DAY = dt.timedelta(days=1)
# How far back a day's predictions read: the market systems learn on three four-week windows of
# graded days before it (the ensemble weight on the last of them).
HISTORY_DAYS = market_blend.HISTORY_WINDOWS * market_blend.MARKET_PARAMS.window_days
assert predict.ENSEMBLE_PARAMS.window_days <= HISTORY_DAYS


def model_id_for(boundary: dt.date, cadence: predict.Cadence = predict.RETRAIN_CADENCE) -> str:
    return f"{predict.SYSTEM_LIGHTGBM}-{cadence}-{boundary:%Y%m%d}"


class PointsModelConfig(dg.Config):
    retrain: bool = False
    """Retrain even when the stored model for a boundary saw exactly the same training rows."""


def _read_features(
    warehouse: WarehouseResource,
    start: dt.date | None,
    end: dt.date,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    if columns is not None:
        columns = ["feature_set_version", *columns]
    df = warehouse.get().read(precompute.ml_feature_store, start, end, columns=columns)
    return df.filter(pl.col("feature_set_version") == FEATURE_SET_VERSION)


# What the points model reads of the feature store: the keys and the model's stored features
# (the moving average's inputs among them). It reads every row since 2017, and all the columns
# took 619 MB for the read and the training rows on the nine-season warehouse, these 313 MB.
_MODEL_COLUMNS = [
    "game_date",
    "player_id",
    *(name for name in predict.MODEL_FEATURES if name != predict.MA_FEATURE),
]


def _reusable(
    store: ModelStore, model_id: str, rows: pl.DataFrame, feature_names: list[str]
) -> ModelMetadata | None:
    """The stored model's metadata when it was trained on the same rows and features."""
    if not store.exists(model_id):
        return None
    meta = store.metadata(model_id)
    same = _same_rows(meta, rows) and meta.feature_names == feature_names and _same_recipe(meta)
    return meta if same else None


def _same_recipe(meta: ModelMetadata) -> bool:
    """Whether the stored model was trained with today's parameters and rounds."""
    return meta.params == {**predict.LIGHTGBM_PARAMS} and meta.rounds == predict.LIGHTGBM_ROUNDS


def _stored_previous(store: ModelStore, boundary: dt.date) -> ModelMetadata | None:
    """The stored model of the boundary before ``boundary``, when trained with today's recipe:
    a run starting in an off-season then serves it, as a run over both boundaries would,
    instead of fitting the same rows again."""
    model_id = model_id_for(predict.cadence_boundary(boundary - _DAY, predict.RETRAIN_CADENCE))
    if not store.exists(model_id):
        return None
    meta = store.metadata(model_id)
    return meta if _same_recipe(meta) else None


def _same_rows(meta: ModelMetadata, rows: pl.DataFrame) -> bool:
    return (
        meta.training_rows == rows.height
        and meta.trained_through == rows.get_column("game_date").max()
    )


def _metadata(model: predict.TrainedModel) -> ModelMetadata:
    return ModelMetadata(
        model_id=model_id_for(model.boundary),
        system_id=predict.SYSTEM_LIGHTGBM,
        cadence=predict.RETRAIN_CADENCE,
        boundary=model.boundary,
        train_start=model.train_start,
        trained_through=model.trained_through,
        training_rows=model.rows,
        feature_set_version=FEATURE_SET_VERSION,
        feature_names=model.feature_names,
        validation_mae=model.validation_mae,
        params={**predict.LIGHTGBM_PARAMS},
        rounds=predict.LIGHTGBM_ROUNDS,
        trained_at=dt.datetime.now(dt.UTC),
    )


@table_asset(
    predictions.points_model,
    group=GROUP,
    io_manager_key="points_model_io_manager",
    # Each day's model was trained on every game before its boundary and leaves out the features
    # the day's own rows miss: the day's features, and every earlier day's through the chain.
    deps=[
        dg.AssetDep(
            asset_key(precompute.ml_feature_store),
            partition_mapping=days_before(STALE_WINDOW_DAYS, same_day=True),
        ),
        *history_of(asset_key(analytics.player_game_summary), POINTS_MODEL),
    ],
    kinds=["lightgbm"],
)
def points_model(
    context: dg.AssetExecutionContext,
    config: PointsModelConfig,
    warehouse: WarehouseResource,
    models: ModelsResource,
) -> dg.Output[PointsModels]:
    """The LightGBM points model serving each day, retrained monthly on earlier games only.

    The IO manager stores the boosters (a local folder, or GCS in production) and the registry
    of which model serves each day; a model already stored for a boundary and trained on the
    same rows and features is reused rather than trained again.
    """
    start, end = partition_dates(context)
    boundaries = predict.boundaries_between(start, end, predict.RETRAIN_CADENCE)
    history_end = boundaries[-1] - _DAY
    # Through the range's end: each model leaves out the features missing from the rows it will
    # serve (their inputs only; features of a day come from games before it).
    # The model inputs once for every boundary's training and serving rows.
    features = predict.model_inputs(_read_features(warehouse, None, end, _MODEL_COLUMNS))
    actuals = warehouse.get().read(
        analytics.player_game_summary, None, history_end, columns=_ACTUAL_COLUMNS
    )
    store = models.get()
    candidates = list(predict.MODEL_FEATURES)
    # The rows of every boundary, binned once for all of them (see PointsTrainer).
    trainer = predict.PointsTrainer(predict.training_rows(features, actuals, boundaries[-1]))
    # Which boundary's model serves each boundary (None: no model): its own, stored before
    # (reused) or to train (planned), or the previous one's when no game came in between (the
    # previous one of this run, or the one stored before the range's first boundary).
    serves: dict[dt.date, dt.date | None] = {}
    reused: dict[dt.date, ModelMetadata] = {}
    planned: dict[dt.date, pl.DataFrame] = {}  # the boundaries to train and their serving rows
    fits: list[predict.FitKey] = []
    previous: tuple[dt.date, tuple[int, object, list[str]]] | None = None
    stored = None if config.retrain else _stored_previous(store, boundaries[0])
    if stored is not None:
        reused[stored.boundary] = stored
        previous = (
            stored.boundary,
            (stored.training_rows, stored.trained_through, stored.feature_names),
        )
    for boundary in boundaries:
        rows = trainer.rows_before(boundary)
        serving = features.filter(
            pl.col("game_date") >= boundary,
            pl.col("game_date") < predict.next_boundary(boundary, predict.RETRAIN_CADENCE),
        )
        names = predict.model_features(rows, candidates, serving)
        trained_on = (rows.height, rows.get_column("game_date").max(), names)
        if previous is not None and previous[1] == trained_on and not config.retrain:
            serves[boundary] = previous[0]  # no game since the last boundary (the off-season)
            continue
        meta = None
        if not (rows.is_empty() or config.retrain):
            meta = _reusable(store, model_id_for(boundary), rows, names)
        plan = trainer.plan(boundary, candidates, serving=serving) if meta is None else None
        if meta is not None:
            reused[boundary] = meta
        elif plan is not None:
            planned[boundary] = serving
            fits += [key for key in plan if key is not None]
        else:
            context.log.warning(
                f"no points model from {boundary}: {rows.height} training rows before it,"
                f" fewer than {predict.MIN_TRAINING_ROWS}; lightgbm_v1 skips the days it serves"
            )
            serves[boundary] = previous = None
            continue
        serves[boundary] = boundary
        previous = (boundary, trained_on)

    # Every fit of the range at once, side by side (see PointsTrainer.fit_all).
    trainer.fit_all(fits)
    metas = dict(reused)
    boosters: dict[str, lgb.Booster] = {}
    for boundary, serving in planned.items():
        model = trainer.train(boundary, candidates, serving=serving)
        assert model is not None, f"{boundary} was planned with enough rows"
        metas[boundary] = _metadata(model)
        boosters[metas[boundary].model_id] = model.booster
    by_boundary = {b: None if s is None else metas[s] for b, s in serves.items()}

    served = {
        day: by_boundary[predict.cadence_boundary(day, predict.RETRAIN_CADENCE)]
        for day in each_date(start, end)
    }
    distinct = {m.model_id: m for m in by_boundary.values() if m is not None}
    summary = "\n".join(
        f"| {m.boundary} | {m.model_id} | {m.trained_through} | {m.training_rows} | "
        + (f"{m.validation_mae:.3f} |" if m.validation_mae is not None else "- |")
        for m in distinct.values()
    )
    return dg.Output(
        PointsModels(served=served, boosters=boosters),
        metadata={
            "models_trained": len(boosters),
            "models_reused": len(distinct) - len(boosters),
            "days_without_model": sum(m is None for m in served.values()),
            "cadence": predict.RETRAIN_CADENCE,
            "feature_set_version": FEATURE_SET_VERSION,
            "models": dg.MetadataValue.md(
                "| boundary | model | trained through | rows | validation MAE |\n"
                "|---|---|---|---|---|\n" + summary
            ),
        },
    )


def _past_base(warehouse: WarehouseResource, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The base systems' recorded predictions of ``start..end`` in ``BASE_COLUMNS`` shape."""
    past = warehouse.get().read(
        predictions.player_prop_predictions,
        start,
        end,
        columns=["game_date", "player_id", "system_id", "predicted_points"],
    )
    wide = {predict.SYSTEM_MOVING_AVERAGE: "moving_average", predict.SYSTEM_LIGHTGBM: "lightgbm"}
    frames = [
        past.filter(pl.col("system_id") == system).select(
            "game_date", "player_id", pl.col("predicted_points").alias(name)
        )
        for system, name in wide.items()
    ]
    return frames[0].join(frames[1], on=["game_date", "player_id"], how="full", coalesce=True)


def _recorded(
    warehouse: WarehouseResource, system_id: str, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """``game_date, player_id, ensemble``: one system's recorded predictions of the days, in
    the column the market systems read them from."""
    past = warehouse.get().read(
        predictions.player_prop_predictions,
        start,
        end,
        columns=["game_date", "player_id", "system_id", "predicted_points"],
    )
    return past.filter(pl.col("system_id") == system_id).select(
        "game_date", "player_id", pl.col("predicted_points").alias("ensemble")
    )


def _read_props(warehouse: WarehouseResource, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The days' ``odds_player_props`` rows (every snapshot), in the columns lines come from."""
    return warehouse.get().read(
        raw.odds_player_props,
        start,
        end,
        columns=["game_date", "event_id", "snapshot_time", "commence_time", "bookmaker", "market"]
        + ["player_lookup", "line", "over_price", "under_price", "last_update"],
    )


def _pre_game_lines(props: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The days' points lines (the median across books), every book's offer and the offers left
    out as quoting errors, from each event's last snapshot before tip-off
    (:func:`pre_game_props`, :func:`points_offers`)."""
    pre_game = pre_game_props(props.filter(pl.col("market") == POINTS_MARKET))
    return daily_points_lines(pre_game), *points_offers(pre_game)


@table_asset(
    predictions.player_prop_predictions,
    group=GROUP,
    ins={"points_model": dg.AssetIn(POINTS_MODEL)},
    # The day's features and lines, and those of the HISTORY_DAYS before with their box scores
    # and this asset's own recorded predictions, which the ensemble and market systems learn on.
    deps=[
        dg.AssetDep(asset_key(spec), partition_mapping=days_before(HISTORY_DAYS, same_day=True))
        for spec in (precompute.ml_feature_store, raw.odds_player_props)
    ]
    + [
        dg.AssetDep(asset_key(spec), partition_mapping=days_before(HISTORY_DAYS))
        for spec in (analytics.player_game_summary, predictions.player_prop_predictions)
    ],
)
def player_prop_predictions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, points_model: PointsModels
) -> dg.Output:
    """Each expected player's points by every system, against the day's line: OVER/UNDER/PASS.

    The market systems (``market_blend_v1``, ``market_residual_v1``) learn on the graded days
    before each day: the recorded ensemble, features and lines of the three four-week windows
    before the range, and the range's own earlier days.
    """
    start, end = partition_dates(context)
    wh = warehouse.get()
    window = dt.timedelta(days=predict.ENSEMBLE_PARAMS.window_days)
    history_start = start - dt.timedelta(days=HISTORY_DAYS)
    with wh.reading("reading player_prop_predictions' inputs"):
        features = _read_features(warehouse, start, end)
        recorded = _past_base(warehouse, start - window, start - _DAY)
        actuals = wh.read(
            analytics.player_game_summary, start - window, end - _DAY, columns=_ACTUAL_COLUMNS
        )
        props = _read_props(warehouse, history_start, end)
        past_features = _read_features(warehouse, history_start, start - _DAY)
        past_ensemble = _recorded(warehouse, predict.SYSTEM_ENSEMBLE, history_start, start - _DAY)
        past_actuals = wh.read(
            analytics.player_game_summary, history_start, end - _DAY, _ACTUAL_COLUMNS
        )
    serving = points_model.model_ids()
    missing_days = sorted(set(features.get_column("game_date").unique()) - set(points_model.served))
    if missing_days:
        context.log.warning(
            f"points_model has no row for {len(missing_days)} day(s) from {missing_days[0]}:"
            " lightgbm_v1 skips them and ensemble_v1 is the moving average there"
        )
    base = predict.base_predictions(features, serving, points_model.boosters)

    # The ensemble weight of day D is learned on graded days before D: those recorded before
    # this run's range, then the days of the range itself (their box scores, if played yet).
    history = predict.graded_history(
        pl.concat([recorded, base.select(predict.BASE_COLUMNS)], how="vertical_relaxed"),
        actuals,
    )
    base = predict.ensemble_v1(base, history)

    all_lines, offers, suspect = _pre_game_lines(props)
    suspect = suspect.filter(pl.col("game_date") >= start)
    if not suspect.is_empty():
        context.log.warning(
            f"{suspect.height} book offers left out as quoting errors (their over probability"
            " contradicts most other books quoting the player), e.g. "
            + ", ".join(
                f"{r['bookmaker']} {r['player_lookup']} {r['line']}"
                for r in suspect.head(5).iter_rows(named=True)
            )
        )
    lines = all_lines.filter(pl.col("game_date") >= start)
    inputs = market_blend.market_inputs(
        pl.concat([past_features, features], how="vertical_relaxed"),
        pl.concat([past_ensemble, base.select("game_date", "player_id", "ensemble")]),
        all_lines,
        past_actuals,
    )
    market = market_blend.market_predictions(inputs, offers, start)
    unmatched = predict.unmatched_lines(lines, features)
    if not unmatched.is_empty():
        context.log.warning(
            f"{unmatched.height} points lines have no feature-store player that day, e.g. "
            + ", ".join(unmatched.get_column("player_lookup").head(10).to_list())
        )
    spec = predictions.player_prop_predictions
    # Every run is one version of the day's predictions: the latest snapshot it saw.
    columns = [c for c in spec.columns if c != "prediction_snapshot_time"]
    rows = pl.concat(
        [
            predict.prediction_rows(base, lines).select(columns),
            systems.market_rows(base, market, lines).select(columns),
        ],
        how="vertical_relaxed",
    )
    made = prediction_snapshot_times(
        props.filter(pl.col("game_date") >= start), list(each_date(start, end)), GAME_DATE_TIMEZONE
    )
    rows = rows.join(made, on="game_date", how="left")
    df = spec.conform(rows.sort("game_date", "player_lookup", "system_id"))
    weights = (
        base.select("game_date", "lightgbm_weight").unique().sort("game_date").tail(TABLE_DAYS)
    )
    market_days = (
        market.select(
            "game_date",
            "market_blend_weight",
            *(f"{s}_ev_threshold" for s in market_blend.MARKET_SYSTEMS),
        )
        .unique()
        .sort("game_date")
        .tail(TABLE_DAYS)
    )
    return dg.Output(
        df,
        metadata={
            "players": features.height,
            "players_with_line": df.filter(
                pl.col("system_id") == predict.SYSTEM_MOVING_AVERAGE, pl.col("line").is_not_null()
            ).height,
            "lines": lines.height,
            "lines_unmatched": unmatched.height,
            "offers": offers.filter(pl.col("game_date") >= start).height,
            "offers_left_out_as_quoting_errors": suspect.height,
            "picks": df.filter(
                pl.col("recommendation").is_in([predict.OVER, predict.UNDER])
            ).height,
            "days_without_model": len(missing_days)
            + serving.filter(pl.col("model_id").is_null()).height,
            "ensemble_lightgbm_weight": dg.MetadataValue.md(
                "| day | LightGBM weight |\n|---|---|\n"
                + "\n".join(f"| {d} | {w:.2f} |" for d, w in weights.iter_rows())
            ),
            "market_systems": dg.MetadataValue.md(
                "| day | blend weight | blend EV threshold | residual EV threshold |\n"
                "|---|---|---|---|\n"
                + "\n".join(
                    f"| {d} | {w:.2f} | {_threshold(tb)} | {_threshold(tr)} |"
                    for d, w, tb, tr in market_days.iter_rows()
                )
            ),
            "recommended_system": market_blend.RECOMMENDED_SYSTEM,
        },
    )


def _threshold(value: float | None) -> str:
    return "no picks" if value is None else f"{value:.2f}"


@table_asset(
    predictions.player_prop_prediction_history,
    group=GROUP,
    deps=[predictions.player_prop_predictions],
)
def player_prop_prediction_history(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output:
    """Every predictions run of the day kept, one version per lines snapshot: the day's rows of
    ``player_prop_predictions`` added to the versions already kept, replacing only their own.

    An append-only log, as the lines are: what a run knew is never overwritten by a later
    run, so grading can take the last prediction made before each game's tip-off. A re-run of
    a finished day recomputes its latest version from the same snapshot.
    """
    start, end = partition_dates(context)
    wh = warehouse.get()
    spec = predictions.player_prop_prediction_history
    with wh.reading("reading the day's predictions and their earlier versions"):
        current = wh.read(predictions.player_prop_predictions, start, end)
        earlier = wh.read(spec, start, end)
    versions = current.select("game_date", "prediction_snapshot_time").unique()
    kept = earlier.join(versions, on=["game_date", "prediction_snapshot_time"], how="anti")
    df = spec.conform(
        pl.concat([kept, current], how="vertical_relaxed").sort(
            "game_date", "prediction_snapshot_time", "player_lookup", "system_id"
        )
    )
    return dg.Output(
        df,
        metadata={
            "versions": df.select("game_date", "prediction_snapshot_time").unique().height,
            "versions_kept": kept.select("game_date", "prediction_snapshot_time").unique().height,
            "rows_added": current.height,
        },
    )
