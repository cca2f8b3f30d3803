"""``lightgbm_v1``: a LightGBM points regressor retrained walk-forward on a fixed cadence; the
model serving day D was trained only on player-games before D.

Here: its parameters, the retraining cadence and its boundaries, the model's inputs, the
training rows of a boundary, which features a model keeps, training and prediction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import polars as pl

from nba_assets.lib.features import FEATURES_V1
from nba_assets.lib.predict.moving_average import moving_average_v1

Cadence = Literal["daily", "weekly", "monthly"]

# Objective and tree settings chosen on rolling-origin folds: benchmarks/results/model_quality.md.
LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "regression_l1",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 400,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    # One thread: OpenMP threads spin while they wait, so on a busy 2-core machine (other steps,
    # polars' own pool) two threads trained a model in 40 s against 3.5 s for one.
    "num_threads": 1,
    "verbose": -1,
}
LIGHTGBM_ROUNDS = 300
MIN_TRAINING_ROWS = 1000
# validation_mae in the model metadata: MAE on the last days before the boundary of a refit
# that did not see them.
VALIDATION_DAYS = 14

# Features null in more than this share of the served rows are left out (see model_features):
# benchmarks/results/model_quality.md.
MAX_NULL_SHARE = 0.95
AVAILABILITY_DAYS = 28

# LightGBM's inputs, the v1 features plus the moving average's prediction (see model_inputs):
# benchmarks/results/model_quality.md.
MA_FEATURE = "moving_average_points"
MODEL_FEATURES: tuple[str, ...] = (*FEATURES_V1, MA_FEATURE)

# How often a model is retrained, chosen on walk-forward MAE: benchmarks/results/model_quality.md.
RETRAIN_CADENCE: Cadence = "weekly"


def cadence_boundary(day: dt.date, cadence: Cadence = RETRAIN_CADENCE) -> dt.date:
    """The first day of the retraining period containing ``day``: the model serving ``day`` is
    trained on player-games strictly before this boundary (so never on ``day`` or later)."""
    if cadence == "daily":
        return day
    if cadence == "weekly":
        return day - dt.timedelta(days=day.weekday())  # Monday
    return day.replace(day=1)


def next_boundary(boundary: dt.date, cadence: Cadence = RETRAIN_CADENCE) -> dt.date:
    """The boundary after ``boundary``: the model of ``boundary`` serves the days before it."""
    if cadence == "daily":
        return boundary + dt.timedelta(days=1)
    if cadence == "weekly":
        return boundary + dt.timedelta(days=7)
    return (boundary.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def boundaries_between(
    start: dt.date, end: dt.date, cadence: Cadence = RETRAIN_CADENCE
) -> list[dt.date]:
    """Boundaries of the models serving ``start..end``; the first may precede ``start``."""
    days = (end - start).days + 1
    return sorted({cadence_boundary(start + dt.timedelta(days=i), cadence) for i in range(days)})


def model_inputs(features: pl.DataFrame) -> pl.DataFrame:
    """Feature-store rows plus ``MA_FEATURE``, the moving average's prediction from the same
    row, so LightGBM learns corrections to it rather than the whole scoring level again."""
    if features.is_empty() or MA_FEATURE in features.columns:
        return features
    return features.with_columns(moving_average_v1(features).alias(MA_FEATURE))


def training_rows(features: pl.DataFrame, actuals: pl.DataFrame, boundary: dt.date) -> pl.DataFrame:
    """Feature-store rows before ``boundary`` (with :func:`model_inputs`) joined to the points of
    players who played.

    Args:
        features: feature-store rows (``game_date``, ``player_id`` and the features).
        actuals: ``game_date``, ``player_id``, ``minutes``, ``pts`` of played games.
        boundary: first day the model will serve; only earlier rows are returned.
    """
    played = actuals.filter(pl.col("game_date") < boundary, pl.col("minutes") > 0).select(
        "game_date", "player_id", pl.col("pts").cast(pl.Float64).alias("target")
    )
    # Model inputs before the join: the moving average compares a day's opponents across every
    # expected player of the day, as it does when it serves.
    rows = model_inputs(features.filter(pl.col("game_date") < boundary)).join(
        played, on=["game_date", "player_id"], how="inner"
    )
    return rows.sort("game_date", "player_id")


@dataclass
class TrainedModel:
    """A points model and what it was trained on."""

    booster: lgb.Booster
    boundary: dt.date
    train_start: dt.date
    trained_through: dt.date
    rows: int
    validation_mae: float | None
    feature_names: list[str] = field(default_factory=list)


def model_features(
    rows: pl.DataFrame,
    feature_names: list[str],
    serving: pl.DataFrame | None = None,
    max_null_share: float = MAX_NULL_SHARE,
) -> list[str]:
    """``feature_names`` less those null in more than ``max_null_share`` of the serving rows.

    A model trains only on the features present in the rows it will serve: LightGBM would
    otherwise route a value it never saw missing in training by an arbitrary default.

    Args:
        rows: training rows (output of :func:`training_rows`); their last
            ``AVAILABILITY_DAYS`` stand in for the serving rows when there are none (at a
            season start, the end of the previous season).
        feature_names: candidate features, in order.
        serving: feature-store rows of the days the model will serve (inputs only: features of
            a day are built from games before it), or None.
    """
    pattern = model_inputs(serving) if serving is not None and not serving.is_empty() else None
    if pattern is None and not rows.is_empty():
        last = rows.get_column("game_date").max()
        assert isinstance(last, dt.date)
        since = last - dt.timedelta(days=AVAILABILITY_DAYS - 1)
        pattern = rows.filter(pl.col("game_date") >= since)
    if pattern is None:
        return list(feature_names)
    shares = pattern.select(pl.col(feature_names).is_null().mean()).row(0)
    kept = [f for f, share in zip(feature_names, shares, strict=True) if share <= max_null_share]
    return kept or list(feature_names)


def _fit(rows: pl.DataFrame, feature_names: list[str], params: dict[str, Any], rounds: int):
    data = lgb.Dataset(
        rows.select(pl.col(feature_names).cast(pl.Float64)).to_numpy(),
        label=rows.get_column("target").to_numpy(),
        feature_name=feature_names,
        free_raw_data=True,
    )
    return lgb.train(params, data, num_boost_round=rounds)


def train_points_model(
    rows: pl.DataFrame,
    boundary: dt.date,
    feature_names: list[str],
    params: dict[str, Any] | None = None,
    rounds: int = LIGHTGBM_ROUNDS,
    validation_days: int = VALIDATION_DAYS,
    serving: pl.DataFrame | None = None,
) -> TrainedModel | None:
    """Train the model that serves days from ``boundary`` on; None below MIN_TRAINING_ROWS.

    Args:
        rows: output of :func:`training_rows` (must all be before ``boundary``).
        boundary: first day the model serves.
        feature_names: candidate feature columns, in order; those mostly null in the serving
            rows are left out (see :func:`model_features`), the rest is what the booster
            expects and what ``feature_names`` of the result records.
        params, rounds: LightGBM parameters (``lightgbm.train``) and boosting rounds.
        validation_days: the last days before ``boundary`` held out of a second fit whose MAE
            on them is recorded as ``validation_mae``.
        serving: feature-store rows of the days the model will serve, if known.
    """
    if rows.is_empty() or rows.height < MIN_TRAINING_ROWS:
        return None
    last = rows.get_column("game_date").max()
    assert isinstance(last, dt.date)
    if last >= boundary:  # the walk-forward rule, enforced rather than trusted
        raise AssertionError(f"training rows reach {last}, on or after the boundary {boundary}")
    params = {**LIGHTGBM_PARAMS, **(params or {})}
    feature_names = model_features(rows, feature_names, serving)
    booster = _fit(rows, feature_names, params, rounds)
    cutoff = boundary - dt.timedelta(days=validation_days)
    early, late = (
        rows.filter(pl.col("game_date") < cutoff),
        rows.filter(pl.col("game_date") >= cutoff),
    )
    validation_mae = None
    if early.height >= MIN_TRAINING_ROWS and not late.is_empty():
        check = _fit(early, feature_names, params, rounds)
        predicted = check.predict(late.select(pl.col(feature_names).cast(pl.Float64)).to_numpy())
        validation_mae = float(np.mean(np.abs(np.asarray(predicted) - late["target"].to_numpy())))
    first = rows.get_column("game_date").min()
    assert isinstance(first, dt.date)
    return TrainedModel(
        booster=booster,
        boundary=boundary,
        train_start=first,
        trained_through=last,
        rows=rows.height,
        validation_mae=validation_mae,
        feature_names=list(feature_names),
    )


def predict_points(booster: lgb.Booster, features: pl.DataFrame) -> pl.Series:
    """The booster's predicted points for each row, using the features it was trained on."""
    names = booster.feature_name()
    if features.is_empty():
        return pl.Series("predicted_points", [], dtype=pl.Float64)
    matrix = model_inputs(features).select(pl.col(names).cast(pl.Float64)).to_numpy()
    predicted = np.clip(np.asarray(booster.predict(matrix), dtype=np.float64), 0.0, None)
    return pl.Series("predicted_points", predicted, dtype=pl.Float64)
