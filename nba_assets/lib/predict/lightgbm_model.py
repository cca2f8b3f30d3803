"""``lightgbm_v1``: a LightGBM points regressor retrained walk-forward on a fixed cadence; the
model serving day D was trained only on player-games before D.

Here: its parameters, the retraining cadence and its boundaries, the model's inputs, the
training rows of a boundary, which features a model keeps, training and prediction.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import lightgbm as lgb
import numpy as np
import polars as pl

from nba_assets.lib.features import FEATURES_V1
from nba_assets.lib.predict.moving_average import moving_average_v1

Cadence = Literal["daily", "weekly", "fortnightly", "monthly"]

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
    # One thread: OpenMP threads spin while they wait on a busy machine (other steps, polars'
    # own pool): benchmarks/results/model_quality.md, "Threads".
    "num_threads": 1,
    "verbose": -1,
}
# Fits trained side by side (see PointsTrainer.fit_all): one per core, two at most, as the
# in-process executor runs the points model alone and this machine has two cores.
TRAINING_THREADS = min(2, os.cpu_count() or 1)
# Rounds (and the training window below) chosen on a curve of MAE against training time.
LIGHTGBM_ROUNDS = 250
MIN_TRAINING_ROWS = 1000
# validation_mae in the model metadata: MAE on the last days before the boundary of a refit
# that did not see them, from the boundary at least this many days earlier (see
# held_out_boundary): that refit is the model that served those days.
VALIDATION_DAYS = 14

# Features null in more than this share of the served rows are left out (see model_features):
# benchmarks/results/model_quality.md.
MAX_NULL_SHARE = 0.95
AVAILABILITY_DAYS = 28

# LightGBM's inputs, the v1 features plus the moving average's prediction (see model_inputs):
# benchmarks/results/model_quality.md.
MA_FEATURE = "moving_average_points"
MODEL_FEATURES: tuple[str, ...] = (*FEATURES_V1, MA_FEATURE)

# How often a model is retrained and on how much history, chosen on walk-forward MAE against
# training time (benchmarks/results/model_quality.md, "curve"): monthly scores 4.4749 against
# weekly's 4.4754 at 250 rounds, for a quarter of the training.
RETRAIN_CADENCE: Cadence = "monthly"
# All the history: a window of the last seasons drops 2017-18..2021-22, the only rows without
# usage and shooting features, as many of 2025-26's are (see the results file).
TRAINING_WINDOW_DAYS: int | None = None  # None: all the history before the boundary

# The month between two seasons: a season's models share feature bins from the rows before it.
SEASON_BREAK_MONTH = 7


# Fortnights are counted from a fixed Monday, so a boundary never depends on a run's range.
_FORTNIGHT_EPOCH = dt.date(1970, 1, 5)


def cadence_boundary(day: dt.date, cadence: Cadence = RETRAIN_CADENCE) -> dt.date:
    """The first day of the retraining period containing ``day``: the model serving ``day`` is
    trained on player-games strictly before this boundary (so never on ``day`` or later)."""
    if cadence == "daily":
        return day
    monday = day - dt.timedelta(days=day.weekday())
    if cadence == "weekly":
        return monday
    if cadence == "fortnightly":
        odd_week = ((monday - _FORTNIGHT_EPOCH).days // 7) % 2
        return monday - dt.timedelta(days=7 * odd_week)
    return day.replace(day=1)


def next_boundary(boundary: dt.date, cadence: Cadence = RETRAIN_CADENCE) -> dt.date:
    """The boundary after ``boundary``: the model of ``boundary`` serves the days before it."""
    if cadence == "daily":
        return boundary + dt.timedelta(days=1)
    if cadence == "weekly":
        return boundary + dt.timedelta(days=7)
    if cadence == "fortnightly":
        return boundary + dt.timedelta(days=14)
    return (boundary.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def held_out_boundary(
    boundary: dt.date,
    validation_days: int = VALIDATION_DAYS,
    cadence: Cadence = RETRAIN_CADENCE,
) -> dt.date:
    """Where the held-out days of ``boundary``'s model start: the boundary at least
    ``validation_days`` before it. The held-out refit is then the model of that boundary."""
    return cadence_boundary(boundary - dt.timedelta(days=validation_days), cadence)


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


def bins_anchor(boundary: dt.date) -> dt.date:
    """The off-season day (July 1, between two seasons) on or before ``boundary`` whose earlier
    rows set the feature bins of ``boundary``'s model (see :class:`PointsTrainer`)."""
    year = boundary.year if boundary.month >= SEASON_BREAK_MONTH else boundary.year - 1
    return dt.date(year, SEASON_BREAK_MONTH, 1)


class FitKey(NamedTuple):
    """One booster of a :class:`PointsTrainer`: rows ``first..last-1`` binned like
    ``bins_day``'s models, on the features ``names``."""

    bins_day: dt.date
    names: tuple[str, ...]
    first: int
    last: int


class FitPlan(NamedTuple):
    """The fits of one boundary's model: the model itself and its held-out check, if any."""

    model: FitKey
    held_out: FitKey | None


class PointsTrainer:
    """Trains the points models of many boundaries on one set of binned training rows.

    LightGBM spends a share of every fit binning the rows (finding each feature's bin edges,
    then mapping every value to its bin). Here the rows are binned once per season and feature
    list, and each boundary's fit trains on a ``Dataset.subset`` of them, which shares the bin
    mappers. The bins of a season's models are computed from the rows before the season's
    :func:`bins_anchor` only, so no model sees, even as bin edges, a feature value from on or
    after its boundary, and a boundary's model is the same whichever run (one day or nine
    seasons) trains it. A boundary bins its own rows instead when fewer than
    ``MIN_TRAINING_ROWS`` precede the anchor (the archive's first season) or when one of its
    features is null in more than ``MAX_NULL_SHARE`` of them (a feature new this season).
    A run that trains many boundaries plans their fits (:meth:`plan`), fits them all side by
    side (:meth:`fit_all`), then assembles each model (:meth:`train`) from those fits.

    Args:
        rows: output of :func:`training_rows` for the last boundary to train: every row any
            boundary needs (boundary ``b`` trains on those before ``b``).
        params, rounds: LightGBM parameters (over ``LIGHTGBM_PARAMS``) and boosting rounds.
        window_days: train each model on the last ``window_days`` before its boundary only
            (None: on all the history before it).
    """

    def __init__(
        self,
        rows: pl.DataFrame,
        params: dict[str, Any] | None = None,
        rounds: int = LIGHTGBM_ROUNDS,
        window_days: int | None = TRAINING_WINDOW_DAYS,
    ):
        self.rows = rows.sort("game_date", "player_id")
        self.params = {**LIGHTGBM_PARAMS, **(params or {})}
        self.rounds = rounds
        self.window_days = window_days
        self._dates = self.rows.get_column("game_date").to_numpy()
        self._binned: dict[tuple[dt.date, tuple[str, ...]], lgb.Dataset] = {}
        # Fits by their exact inputs: the held-out check of a boundary is often the model of an
        # earlier boundary of the same run (see held_out_boundary).
        self._fits: dict[FitKey, lgb.Booster] = {}

    def _before(self, day: dt.date) -> int:
        """How many rows are before ``day`` (rows are sorted by date)."""
        return int(np.searchsorted(self._dates, np.datetime64(day, "D"), side="left"))

    def _window(self, boundary: dt.date) -> tuple[int, int]:
        """The row range a model of ``boundary`` trains on."""
        first = 0
        if self.window_days is not None:
            first = self._before(boundary - dt.timedelta(days=self.window_days))
        return first, self._before(boundary)

    def rows_before(self, boundary: dt.date) -> pl.DataFrame:
        """The training rows of ``boundary``'s model."""
        first, last = self._window(boundary)
        return self.rows.slice(first, last - first)

    def _matrix(self, first: int, last: int, names: list[str]) -> np.ndarray:
        part = self.rows.slice(first, last - first)
        return part.select(pl.col(names).cast(pl.Float64)).to_numpy()

    def bins_from(self, boundary: dt.date, names: list[str]) -> dt.date:
        """The day before which the rows that bin ``boundary``'s model lie."""
        anchor = bins_anchor(boundary)
        count = self._before(anchor)
        if count < MIN_TRAINING_ROWS:
            return boundary
        nulls = self.rows.head(count).select(pl.col(names).is_null().mean()).row(0)
        return boundary if max(nulls) > MAX_NULL_SHARE else anchor

    def _dataset(self, bins_day: dt.date, names: list[str]) -> lgb.Dataset:
        """Every row a model binned like ``bins_day``'s can train on, binned once."""
        key = (bins_day, tuple(names))
        if key not in self._binned:
            # A run walks forward: the bins of an earlier season (or boundary) serve no later
            # boundary, and nine seasons of them would hold memory for nothing. Out of order,
            # they are simply built again. (A fitted booster holds no rows: it stays.)
            self._binned = {k: d for k, d in self._binned.items() if k[0] == bins_day}
            count = self._before(bins_day)
            binning = lgb.Dataset(
                self._matrix(0, count, names),
                label=self.rows.get_column("target").head(count).to_numpy(),
                feature_name=names,
                params=self.params,
            ).construct()
            # An anchor's bins serve every boundary of its season: the season's rows are pushed
            # into them. A boundary that bins its own rows needs no others.
            end = count
            if bins_day == bins_anchor(bins_day):
                end = self._before(dt.date(bins_day.year + 1, SEASON_BREAK_MONTH, 1))
            if end <= count:
                self._binned[key] = binning
            else:
                self._binned[key] = lgb.Dataset(
                    self._matrix(0, end, names),
                    label=self.rows.get_column("target").head(end).to_numpy(),
                    feature_name=names,
                    reference=binning,
                    params=self.params,
                ).construct()
        return self._binned[key]

    def fit(
        self,
        bins_day: dt.date,
        names: tuple[str, ...],
        first: int,
        last: int,
        callbacks: list[Any] | None = None,
    ) -> lgb.Booster:
        """A booster on rows ``first..last-1`` binned like ``bins_day``'s models.

        ``callbacks`` go to ``lightgbm.train`` (the benchmarks time the rounds with one).
        """
        key = FitKey(bins_day, names, first, last)
        if key not in self._fits or callbacks:
            data = self._dataset(bins_day, list(names)).subset(list(range(first, last)))
            self._fits[key] = lgb.train(
                self.params, data, num_boost_round=self.rounds, callbacks=callbacks
            )
        return self._fits[key]

    def plan(
        self,
        boundary: dt.date,
        feature_names: list[str],
        validation_days: int = VALIDATION_DAYS,
        serving: pl.DataFrame | None = None,
    ) -> FitPlan | None:
        """What :meth:`train` fits for ``boundary`` (arguments as there); None below
        MIN_TRAINING_ROWS."""
        first, last = self._window(boundary)
        if last - first < MIN_TRAINING_ROWS:
            return None
        names = model_features(self.rows.slice(first, last - first), feature_names, serving)
        bins_day = self.bins_from(boundary, names)
        held_out = None
        if validation_days > 0:
            early = held_out_boundary(boundary, validation_days)
            early_first, early_last = self._window(early)
            if early_last - early_first >= MIN_TRAINING_ROWS and early_last < last:
                # Binned as the held-out boundary's own model (its bins never saw the held-out
                # days), so the check is usually that model's fit, not a second one.
                held_out = FitKey(
                    self.bins_from(early, names), tuple(names), early_first, early_last
                )
        return FitPlan(FitKey(bins_day, tuple(names), first, last), held_out)

    def fit_all(
        self, keys: list[FitKey], threads: int = TRAINING_THREADS
    ) -> dict[FitKey, lgb.Booster]:
        """The booster of each of ``keys``, fitting those not fitted yet ``threads`` at a time;
        :meth:`train` and :meth:`fit` then find them.

        Each fit boosts on one LightGBM thread and LightGBM releases the GIL while it boosts,
        so the fits of two threads run side by side on two cores (1.6x on this machine's two),
        and each booster is the one :meth:`fit` trains alone: the same rows, bins and one
        thread.
        """
        # The latest bins first, largest fits first among them: each dataset is built once (see
        # _dataset) and neither thread is left with a long last fit.
        todo = sorted(
            set(keys) - self._fits.keys(),
            key=lambda k: (k.bins_day, k.last - k.first),
            reverse=True,
        )
        if threads <= 1 or len(todo) < 2:
            return {key: self.fit(*key) for key in keys}
        # One thread at a time bins rows (LightGBM releases the GIL there too, so the other
        # thread's fit goes on) and cuts its subset, which reads the parent dataset's bins.
        lock = threading.Lock()

        def train(key: FitKey) -> lgb.Booster:
            with lock:
                data = self._dataset(key.bins_day, list(key.names))
                data = data.subset(list(range(key.first, key.last))).construct()
            return lgb.train(self.params, data, num_boost_round=self.rounds)

        with ThreadPoolExecutor(threads, thread_name_prefix="points-model-fit") as pool:
            self._fits.update(zip(todo, pool.map(train, todo), strict=True))
        return {key: self._fits[key] for key in keys}

    def train(
        self,
        boundary: dt.date,
        feature_names: list[str],
        validation_days: int = VALIDATION_DAYS,
        serving: pl.DataFrame | None = None,
        callbacks: list[Any] | None = None,
    ) -> TrainedModel | None:
        """The model that serves days from ``boundary`` on; None below MIN_TRAINING_ROWS.

        Args:
            boundary: first day the model serves; it trains on the rows before it only.
            feature_names: candidate feature columns, in order; those mostly null in the
                serving rows are left out (see :func:`model_features`), the rest is what the
                booster expects and what ``feature_names`` of the result records.
            validation_days: the last days before ``boundary`` held out of a second fit (the
                recipe of the model at :func:`held_out_boundary`, its bins included: the model
                that served them) whose MAE on them is recorded as ``validation_mae``; 0: no
                second fit.
            serving: feature-store rows of the days the model will serve, if known.
            callbacks: passed to ``lightgbm.train`` for the model itself.
        """
        plan = self.plan(boundary, feature_names, validation_days, serving)
        if plan is None:
            return None
        key, names = plan.model, list(plan.model.names)
        booster = self.fit(*key, callbacks=callbacks)
        validation_mae = None
        if plan.held_out is not None:
            early_last = plan.held_out.last
            check = self.fit(*plan.held_out)
            predicted = check.predict(self._matrix(early_last, key.last, names))
            actual = self.rows.get_column("target").slice(early_last, key.last - early_last)
            validation_mae = float(np.mean(np.abs(predicted - actual.to_numpy())))
        rows = self.rows.slice(key.first, key.last - key.first)
        train_start, trained_through = rows.get_column("game_date").min(), rows["game_date"][-1]
        assert isinstance(train_start, dt.date) and isinstance(trained_through, dt.date)
        return TrainedModel(
            booster=booster,
            boundary=boundary,
            train_start=train_start,
            trained_through=trained_through,
            rows=rows.height,
            validation_mae=validation_mae,
            feature_names=names,
        )


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

    One boundary's :meth:`PointsTrainer.train`, the same model a trainer of many boundaries
    gives it. ``rows`` (output of :func:`training_rows`) must all be before ``boundary``.
    """
    if rows.is_empty():
        return None
    last = rows.get_column("game_date").max()
    assert isinstance(last, dt.date)
    if last >= boundary:  # the walk-forward rule, enforced rather than trusted
        raise AssertionError(f"training rows reach {last}, on or after the boundary {boundary}")
    trainer = PointsTrainer(rows, params, rounds)
    return trainer.train(boundary, feature_names, validation_days, serving)


def predict_points(
    booster: lgb.Booster, features: pl.DataFrame, rounds: int | None = None
) -> pl.Series:
    """The booster's predicted points for each row, using the features it was trained on
    (and its first ``rounds`` trees only, when given)."""
    names = booster.feature_name()
    if features.is_empty():
        return pl.Series("predicted_points", [], dtype=pl.Float64)
    matrix = model_inputs(features).select(pl.col(names).cast(pl.Float64)).to_numpy()
    raw = booster.predict(matrix, num_iteration=rounds)
    predicted = np.clip(np.asarray(raw, dtype=np.float64), 0.0, None)
    return pl.Series("predicted_points", predicted, dtype=pl.Float64)
