"""``moving_average_v1``: a weighted blend of recent and season averages with small
adjustments for back-to-backs, venue and the opponent."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


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


# Grid-searched on 2022-23..2024-25 player-games: benchmarks/results/model_quality.md.
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
