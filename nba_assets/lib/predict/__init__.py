"""Points prediction systems, walk-forward training and OVER / UNDER recommendations.

Every system takes rows of the ML feature store (one expected player per game day, features
built from games before that day) and returns predicted points per row:

- ``moving_average_v1``: a weighted blend of recent and season averages with small adjustments;
- ``lightgbm_v1``: a LightGBM regressor retrained walk-forward on a fixed cadence; the model
  serving day D was trained only on player-games before D;
- ``ensemble_v1``: a blend of the two, its weight learned on graded days before D only.

How every constant below was chosen is in ``benchmarks/model_quality.py`` (``--tune``), which
validates on earlier seasons (rolling origin) and never on the reported 2025-26 days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import polars as pl

from nba_assets.lib.features import FEATURES_V1

SYSTEM_MOVING_AVERAGE = "moving_average_v1"
SYSTEM_LIGHTGBM = "lightgbm_v1"
SYSTEM_ENSEMBLE = "ensemble_v1"
SYSTEMS = (SYSTEM_MOVING_AVERAGE, SYSTEM_LIGHTGBM, SYSTEM_ENSEMBLE)

OVER, UNDER, PASS, NO_LINE = "OVER", "UNDER", "PASS", "NO_LINE"

Cadence = Literal["daily", "weekly", "monthly"]


# --------------------------------------------------------------------------------------------
# Tuned constants: all chosen on earlier seasons (see the module docstring), kept in one place.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovingAverageParams:
    """Weights and adjustments of ``moving_average_v1``."""

    weight_last_5: float
    weight_last_10: float
    weight_season: float
    # The season-to-date average is shrunk toward the previous season's as if that one had
    # contributed this many games: early in a season a handful of games is mostly noise.
    prior_games: float
    back_to_back: float  # relative change on the second night of a back-to-back
    home: float  # relative change at home (and the opposite away)
    opponent: float  # elasticity to the opponent's points allowed relative to the day's mean
    default_points: float  # players without any history (mostly debuts)


@dataclass(frozen=True)
class EnsembleParams:
    """How ``ensemble_v1`` learns the LightGBM weight from graded days before D."""

    window_days: int  # graded days looked back on
    min_rows: int  # fewer graded rows than this: use prior_weight
    prior_weight: float  # LightGBM weight before there is enough graded history
    shrink_rows: int  # the learned weight is shrunk toward the prior with this many pseudo-rows


@dataclass(frozen=True)
class Thresholds:
    """A pick is OVER / UNDER when |edge| >= min_edge and confidence >= min_confidence."""

    min_edge: float
    min_confidence: float


# Grid search of MAE over every played player-game of 2022-23, 2023-24 and 2024-25: blend weights
# and prior first (MAE 4.603), then the adjustments on top (4.594).
MOVING_AVERAGE_PARAMS = MovingAverageParams(
    weight_last_5=0.3,
    weight_last_10=0.1,
    weight_season=0.6,
    prior_games=3.0,
    back_to_back=-0.02,
    home=0.01,
    opponent=0.5,
    default_points=2.0,
)

# Rolling origin: train on every season before N, validate on season N, for N = 2022-23,
# 2023-24 and 2024-25. Best of 12 (leaves 15/31/63, min rows per leaf 100/400, 300/600 rounds at
# rate 0.05): mean MAE 4.558; the spread across the grid was only 0.03, larger trees overfit.
# Then, on the same folds (mean MAE; per season 2022-23 / 2023-24 / 2024-25):
# - objective L1 4.505 (4.550 / 4.440 / 4.525) against squared error's 4.558 (4.600 / 4.503 /
#   4.571), better in every season: points are skewed (a few big nights), the squared-error
#   mean sits above the typical game, and MAE is scored against the median. Huber (delta 4)
#   4.516. With L1, 31 leaves 4.505, 600 rounds 4.506, 100 rows per leaf no better than 400.
# - not adopted: the target as the residual over moving_average_v1 (4.550 alone, 4.501 with
#   L1), its prediction as a feature (4.552, with L1 4.503): under 0.005 on top of L1, not
#   worth serving a second model's output into this one; sample weights halving every 365 /
#   730 days back (4.571 / 4.564, worse). The moving average scores 4.595 on these folds.
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

# A model trains only on the features present in the rows it will serve: a feature null in more
# than this share of them is left out (LightGBM would otherwise route a value it never saw
# missing in training by an arbitrary default). Without serving rows the pattern is that of the
# last AVAILABILITY_DAYS of training rows (at a season start, the end of the previous season).
# Validation on 2023-24 and 2024-25 with the features null in every 2025-26 row (team pace,
# ratings, usage and shooting rates) nulled in the validated season's rows, MAE per season
# 2023-24 / 2024-25:
# - one model trained before the season: all features 4.594 / 4.638, features present in the
#   serving rows 4.451 / 4.523 (without the nulling, all features: 4.440 / 4.525);
# - monthly walk-forward (the season's own training rows carry the nulls, so later models learn
#   them): all features 4.455 / 4.542 (mean 4.499), present only 4.448 / 4.523 (mean 4.486).
# Better in every season and setting, most at a season start, where the served days meet missing
# values no training row had. (benchmarks/model_quality.py --tune --parts availability)
MAX_NULL_SHARE = 0.95
AVAILABILITY_DAYS = 28

# LightGBM's inputs: the feature store's v1 features and the moving average's prediction from
# them (see model_inputs). Weekly walk-forward MAE, v1 alone against v1 plus the moving average,
# whole season / its first 26 days: 2023-24 4.4347 / 4.3118 against 4.4320 / 4.2891, 2024-25
# 4.5217 / 4.4319 against 4.5193 / 4.4128 (the moving average alone: 4.5267 / 4.4274 and
# 4.6096 / 4.4951). Small over a season, 0.02 in its first weeks, where the averages are thin.
# (benchmarks/model_quality.py --tune --parts stacking)
MA_FEATURE = "moving_average_points"
MODEL_FEATURES: tuple[str, ...] = (*FEATURES_V1, MA_FEATURE)

# Walk-forward MAE over 2023-24 and 2024-25 (every played player-game): one model trained before
# the season 4.537, monthly retraining 4.531, weekly 4.529 (70 models, about 5 s each). Daily,
# compared on 2024-11 only: 4.468 against weekly's 4.469 for seven times the training.
RETRAIN_CADENCE: Cadence = "weekly"

# Same walk-forward predictions (weekly, 2023-24 and 2024-25, v1 + the moving average): the
# weight minimising absolute error on the last 28 days, shrunk with 500 pseudo-rows, 4.4779;
# without shrinkage 4.4767, 7-21 day windows 4.477-4.491; a half-half blend 4.4999, inverse-MAE
# weights 4.499, LightGBM alone 4.4755, the moving average alone 4.5680. A squared-error weight
# (as before the L1 objective) pulled a median predictor toward the moving average and cost
# 0.008; the absolute-error weight costs 0.002 against LightGBM alone, within noise, and keeps
# a second opinion where the two systems part. (--tune --parts ensemble)
ENSEMBLE_PARAMS = EnsembleParams(window_days=28, min_rows=300, prior_weight=0.5, shrink_rows=500)

# Points lines exist in the data only for the reported days, so nothing about hit rates can be
# learned from points lines of earlier seasons. Two measurements on 2023-24 and 2024-25 chose:
# - against a proxy line (the season-to-date average as an x.5 line) ensemble_v1 "hits" 62% at
#   |edge| >= 1 and 75% at 3: the proxy is far weaker than a market and cannot set a threshold;
# - against real sportsbook lines of the same seasons (points+rebounds+assists, the only real
#   player lines before 2025-26), the same moving-average method hit 49-51% at every |edge| up
#   to 1.0 x its MAE, and break-even (52.4%, n >= 200) only from 1.2 x its MAE.
# So a pick needs |edge| >= 1.2 x the points MAE of those player-games (5.1): 6.1, rounded to 6.
# Picks are then rare and expected near a coin flip: the market leaves averages no edge.
# The LightGBM points model (weekly walk-forward) plus the moving average of rebounds+assists,
# against the same PRA lines (8,689 player-games): 50.6% at |edge| >= 1 (5,904), 51.1% at 2,
# 50.8% at 3, 50.2% at 4, 52.0% at 6 (627), 51.5% at 8 (272): no lower threshold beats
# break-even on a real market either. (--tune --parts market,market_lightgbm)
# min_confidence only keeps picks off players with about five games of history or fewer
# (confidence did not move hit rates against either line: 49.1-49.7% against the market).
THRESHOLDS = Thresholds(min_edge=6.0, min_confidence=0.3)


# --------------------------------------------------------------------------------------------
# moving_average_v1
# --------------------------------------------------------------------------------------------


def _season_estimate(params: MovingAverageParams) -> pl.Expr:
    season, prev = pl.col("points_avg_season"), pl.col("points_avg_prev_season")
    games = pl.col("games_played_season").fill_null(0)
    shrunk = (games * season + params.prior_games * prev) / (games + params.prior_games)
    return (
        pl.when(season.is_not_null() & (games > 0) & prev.is_not_null())
        .then(shrunk)
        .when(season.is_not_null() & (games > 0))
        .then(season)
        .otherwise(prev)
    )


def moving_average_v1(
    features: pl.DataFrame, params: MovingAverageParams = MOVING_AVERAGE_PARAMS
) -> pl.Series:
    """Predicted points per feature-store row (same order), named ``predicted_points``.

    A weighted blend of the last-5, last-10 and season averages over whichever are known (a
    player new this season falls back on the previous season's average, a debut on
    ``default_points``), times small factors for back-to-backs, venue and the opponent's
    points allowed.
    """
    season = _season_estimate(params)
    parts = [
        (params.weight_last_5, pl.col("points_avg_last_5")),
        (params.weight_last_10, pl.col("points_avg_last_10")),
        (params.weight_season, season),
    ]
    numerator = pl.sum_horizontal([w * x.fill_null(0.0) for w, x in parts])
    denominator = pl.sum_horizontal([w * x.is_not_null().cast(pl.Float64) for w, x in parts])
    base = pl.when(denominator > 0).then(numerator / denominator).otherwise(params.default_points)
    allowed = pl.col("opponent_points_allowed_avg")
    opponent = (allowed / allowed.mean().over("game_date")).pow(params.opponent).fill_null(1.0)
    venue = pl.col("is_home").fill_null(0.5) * 2 - 1  # +1 home, -1 away
    adjust = (
        (1 + params.back_to_back * pl.col("back_to_back").fill_null(0.0))
        * (1 + params.home * venue)
        * opponent
    )
    out = features.select((base * adjust).clip(lower_bound=0.0).alias("predicted_points"))
    return out.get_column("predicted_points").cast(pl.Float64)


# --------------------------------------------------------------------------------------------
# confidence and recommendations
# --------------------------------------------------------------------------------------------


def confidence(features: pl.DataFrame) -> pl.Series:
    """0..1 per row: how much history stands behind a prediction and how steady the player is.

    The product of a sample factor (games this season, a previous season counting as a few) and
    a steadiness factor ``1 / (1 + cv)`` with cv the last-10 points deviation over their mean.
    """
    games = pl.col("games_played_season").fill_null(0) + pl.when(
        pl.col("points_avg_prev_season").is_not_null()
    ).then(3.0).otherwise(0.0)
    sample = (games / 10).clip(0.0, 1.0)
    mean = pl.max_horizontal(pl.col("points_avg_last_10").fill_null(0.0), pl.lit(5.0))
    cv = (pl.col("points_std_last_10") / mean).fill_null(1.0)
    out = features.select((sample / (1 + cv)).clip(0.0, 1.0).alias("confidence"))
    return out.get_column("confidence").cast(pl.Float64)


def recommend(
    predicted: float | None,
    line: float | None,
    confidence: float | None,
    thresholds: Thresholds = THRESHOLDS,
) -> str:
    """OVER / UNDER when |predicted - line| and confidence clear the thresholds, else PASS;
    NO_LINE without a line."""
    if line is None:
        return NO_LINE
    if predicted is None or confidence is None:
        return PASS
    edge = predicted - line
    if abs(edge) >= thresholds.min_edge and confidence >= thresholds.min_confidence:
        return OVER if edge > 0 else UNDER
    return PASS


def recommendation_expr(thresholds: Thresholds = THRESHOLDS) -> pl.Expr:
    """:func:`recommend` over the columns ``predicted_points``, ``line`` and ``confidence``."""
    edge = pl.col("predicted_points") - pl.col("line")
    clears = (edge.abs() >= thresholds.min_edge) & (
        pl.col("confidence") >= thresholds.min_confidence
    )
    return (
        pl.when(pl.col("line").is_null())
        .then(pl.lit(NO_LINE))
        .when(clears.fill_null(False) & (edge > 0))
        .then(pl.lit(OVER))
        .when(clears.fill_null(False) & (edge < 0))
        .then(pl.lit(UNDER))
        .otherwise(pl.lit(PASS))
    )


# --------------------------------------------------------------------------------------------
# lightgbm_v1: walk-forward training
# --------------------------------------------------------------------------------------------


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

    Args:
        rows: training rows (output of :func:`training_rows`); their last
            ``AVAILABILITY_DAYS`` stand in for the serving rows when there are none.
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


# --------------------------------------------------------------------------------------------
# ensemble_v1
# --------------------------------------------------------------------------------------------


_WEIGHT_GRID = np.linspace(0.0, 1.0, 21)


def ensemble_weight(
    history: pl.DataFrame, day: dt.date, params: EnsembleParams = ENSEMBLE_PARAMS
) -> float:
    """LightGBM weight for ``day``, learned on graded rows of the window before it.

    The weight in 0, 0.05, ..., 1 minimising the absolute error of
    ``w * lightgbm + (1 - w) * moving_average`` on the window (absolute, as the systems are
    graded and as LightGBM is trained), shrunk toward ``prior_weight``.

    Args:
        history: ``game_date``, ``moving_average``, ``lightgbm``, ``actual`` per graded row;
            rows on or after ``day`` are ignored.
    """
    window = history.filter(
        pl.col("game_date") < day,
        pl.col("game_date") >= day - dt.timedelta(days=params.window_days),
        pl.col("actual").is_not_null(),
        pl.col("moving_average").is_not_null(),
        pl.col("lightgbm").is_not_null(),
    )
    if window.height < params.min_rows:
        return params.prior_weight
    late = window.get_column("game_date").max()
    assert isinstance(late, dt.date) and late < day
    ma = window.get_column("moving_average").to_numpy()
    diff = window.get_column("lightgbm").to_numpy() - ma
    residual = window.get_column("actual").to_numpy() - ma
    errors = np.abs(residual[None, :] - _WEIGHT_GRID[:, None] * diff[None, :]).mean(axis=1)
    learned = float(_WEIGHT_GRID[int(np.argmin(errors))])
    n = window.height
    return (n * learned + params.shrink_rows * params.prior_weight) / (n + params.shrink_rows)


def ensemble_v1(
    base: pl.DataFrame, history: pl.DataFrame, params: EnsembleParams = ENSEMBLE_PARAMS
) -> pl.DataFrame:
    """``base`` plus ``ensemble`` and ``lightgbm_weight`` columns.

    Args:
        base: rows with ``game_date``, ``moving_average`` and ``lightgbm`` (null without a
            model: the ensemble is then the moving average).
        history: graded rows, see :func:`ensemble_weight`; each day uses only earlier ones.
    """
    days = base.get_column("game_date").unique().sort().to_list()
    weights = pl.DataFrame(
        {"game_date": days, "lightgbm_weight": [ensemble_weight(history, d, params) for d in days]},
        schema={"game_date": pl.Date, "lightgbm_weight": pl.Float64},
    )
    out = base.join(weights, on="game_date", how="left")
    w = pl.col("lightgbm_weight")
    blended = w * pl.col("lightgbm") + (1 - w) * pl.col("moving_average")
    return out.with_columns(ensemble=pl.coalesce(blended, pl.col("moving_average")))


# --------------------------------------------------------------------------------------------
# the day's predictions of every system
# --------------------------------------------------------------------------------------------

PLAYER_GAME_KEYS = (
    "game_date",
    "game_id",
    "player_id",
    "player_lookup",
    "team_abbr",
    "opponent_team_abbr",
)
BASE_COLUMNS = ("game_date", "player_id", "moving_average", "lightgbm")


def base_predictions(
    features: pl.DataFrame,
    serving: pl.DataFrame,
    boosters: Mapping[str, lgb.Booster],
) -> pl.DataFrame:
    """Feature rows plus ``moving_average``, ``lightgbm`` (null where no model serves the day),
    ``model_id`` and ``confidence``.

    Args:
        features: feature-store rows of the days to predict.
        serving: ``game_date``, ``model_id`` (null: no model) of those days.
        boosters: the boosters by model id.
    """
    rows = features.with_columns(
        moving_average=moving_average_v1(features), confidence=confidence(features)
    ).join(serving.select("game_date", "model_id"), on="game_date", how="left")
    parts = []
    for (model_id,), part in rows.group_by("model_id", maintain_order=True):
        if model_id is None:
            parts.append(part.with_columns(lightgbm=pl.lit(None, pl.Float64)))
        else:
            parts.append(
                part.with_columns(predict_points(boosters[str(model_id)], part).alias("lightgbm"))
            )
    if not parts:
        return rows.with_columns(lightgbm=pl.lit(None, pl.Float64))
    return pl.concat(parts).sort("game_date", "player_lookup", "player_id")


def graded_history(base: pl.DataFrame, actuals: pl.DataFrame) -> pl.DataFrame:
    """``BASE_COLUMNS`` rows with the points of players who played as ``actual``."""
    played = actuals.filter(pl.col("minutes") > 0).select(
        "game_date", "player_id", pl.col("pts").cast(pl.Float64).alias("actual")
    )
    return base.select(BASE_COLUMNS).join(played, on=["game_date", "player_id"], how="inner")


def prediction_rows(
    base: pl.DataFrame, lines: pl.DataFrame, thresholds: Thresholds = THRESHOLDS
) -> pl.DataFrame:
    """One row per player-game and system, with the line, edge and recommendation.

    Args:
        base: :func:`base_predictions` rows with ``ensemble`` and ``lightgbm_weight`` added
            (see :func:`ensemble_v1`) and ``feature_set_version``.
        lines: :func:`nba_assets.lib.lines.daily_points_lines` rows.
    """
    keys = [*PLAYER_GAME_KEYS, "confidence", "feature_set_version"]
    weight = pl.col("lightgbm_weight").round(2).cast(pl.String)
    systems = [
        (SYSTEM_MOVING_AVERAGE, pl.col("moving_average"), pl.lit(SYSTEM_MOVING_AVERAGE)),
        (SYSTEM_LIGHTGBM, pl.col("lightgbm"), pl.col("model_id")),
        (
            SYSTEM_ENSEMBLE,
            pl.col("ensemble"),
            pl.when(pl.col("lightgbm").is_null())
            .then(pl.lit(f"{SYSTEM_ENSEMBLE}:no-model"))
            .otherwise(
                pl.format("{}:w={}:{}", pl.lit(SYSTEM_ENSEMBLE), weight, pl.col("model_id"))
            ),
        ),
    ]
    long = pl.concat(
        [
            base.filter(predicted.is_not_null()).select(
                *keys,
                system_id=pl.lit(system_id),
                model_version=version,
                predicted_points=predicted,
            )
            for system_id, predicted, version in systems
        ]
    )
    out = long.join(lines, on=["game_date", "player_lookup"], how="left").with_columns(
        edge=pl.col("predicted_points") - pl.col("line"),
        line_source=pl.when(pl.col("line").is_not_null()).then(pl.col("line_source")),
    )
    return out.with_columns(recommendation=recommendation_expr(thresholds)).sort(
        "game_date", "player_lookup", "system_id"
    )


def unmatched_lines(lines: pl.DataFrame, features: pl.DataFrame) -> pl.DataFrame:
    """Lines whose player has no feature-store row that day (a name the books spell otherwise,
    or a player not expected to play)."""
    return lines.join(
        features.select("game_date", "player_lookup").unique(),
        on=["game_date", "player_lookup"],
        how="anti",
    )
