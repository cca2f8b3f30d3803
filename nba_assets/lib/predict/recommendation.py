"""The recommendation rule every system shares: OVER / UNDER when a prediction clears the pick
thresholds against the line, PASS when it does not, NO_LINE without a line."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

OVER, UNDER, PASS, NO_LINE = "OVER", "UNDER", "PASS", "NO_LINE"


@dataclass(frozen=True)
class Thresholds:
    """A pick is OVER / UNDER when |edge| >= min_edge and confidence >= min_confidence."""

    min_edge: float
    min_confidence: float


# Pick thresholds, set against real sportsbook lines: benchmarks/results/model_quality.md.
THRESHOLDS = Thresholds(min_edge=6.0, min_confidence=0.3)


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
