"""``ensemble_v1``: a blend of ``lightgbm_v1`` and ``moving_average_v1`` whose LightGBM weight
for day D is learned on graded days before D only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class EnsembleParams:
    """How ``ensemble_v1`` learns the LightGBM weight from graded days before D."""

    window_days: int  # graded days looked back on
    min_rows: int  # fewer graded rows than this: use prior_weight
    prior_weight: float  # LightGBM weight before there is enough graded history
    shrink_rows: int  # the learned weight is shrunk toward the prior with this many pseudo-rows


# Window and shrinkage chosen on weekly walk-forward 2023-24..2024-25:
# benchmarks/results/model_quality.md.
ENSEMBLE_PARAMS = EnsembleParams(window_days=28, min_rows=300, prior_weight=0.5, shrink_rows=500)

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
