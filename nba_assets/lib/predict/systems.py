"""The prediction systems by id, and the day's rows of every system as the assets serve them:
the base predictions, the graded history the ensemble learns from, one row per player-game and
system with its line and recommendation, and the lines no feature-store player matched."""

from __future__ import annotations

from collections.abc import Mapping

import lightgbm as lgb
import polars as pl

from nba_assets.lib.predict.lightgbm_model import predict_points
from nba_assets.lib.predict.market_blend import MARKET_SYSTEMS
from nba_assets.lib.predict.moving_average import moving_average_v1
from nba_assets.lib.predict.recommendation import (
    THRESHOLDS,
    Thresholds,
    confidence,
    recommendation_expr,
)
from nba_assets.tables.precompute import PLAYER_DAY_COLUMNS

SYSTEM_MOVING_AVERAGE = "moving_average_v1"
SYSTEM_LIGHTGBM = "lightgbm_v1"
SYSTEM_ENSEMBLE = "ensemble_v1"
SYSTEMS = (SYSTEM_MOVING_AVERAGE, SYSTEM_LIGHTGBM, SYSTEM_ENSEMBLE)
# The systems that start from the line predict only player-games that have one.
ALL_SYSTEMS = (*SYSTEMS, *MARKET_SYSTEMS)

PLAYER_GAME_KEYS = tuple(PLAYER_DAY_COLUMNS)
BASE_COLUMNS = ("game_date", "player_id", "moving_average", "lightgbm")
_OFFER_COLUMNS = ("line", "over_price", "under_price")


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
            (see :func:`nba_assets.lib.predict.ensemble.ensemble_v1`) and
            ``feature_set_version``.
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
        line_snapshot_time=pl.when(pl.col("line").is_not_null()).then(pl.col("line_snapshot_time")),
        commence_time=pl.when(pl.col("line").is_not_null()).then(pl.col("commence_time")),
        over_probability=pl.lit(None, pl.Float64),
    )
    return out.with_columns(
        recommendation=recommendation_expr(thresholds), line_bookmaker=pl.lit(None, pl.String)
    ).sort("game_date", "player_lookup", "system_id")


def market_rows(base: pl.DataFrame, market: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The market systems' rows, in :func:`prediction_rows`' shape, with ``over_probability``
    and the recommendation each made from it.

    Args:
        base: :func:`base_predictions` rows (the player-game keys and ``confidence``) with
            ``feature_set_version``.
        market: :func:`nba_assets.lib.predict.market_blend.market_predictions` rows.
        lines: :func:`nba_assets.lib.lines.daily_points_lines` rows.
    """
    keys = [*PLAYER_GAME_KEYS, "confidence", "feature_set_version"]
    df = base.select(keys).join(market, on=["game_date", "player_id"], how="inner")
    parts = []
    for system in MARKET_SYSTEMS:
        threshold = pl.col(f"{system}_ev_threshold").round(2).cast(pl.String).fill_null("none")
        weight = pl.col("market_blend_weight").round(2).cast(pl.String)
        version = (
            pl.format("{}:w={}:ev>={}", pl.lit(system), weight, threshold)
            if system == MARKET_SYSTEMS[0]
            else pl.format("{}:ev>={}", pl.lit(system), threshold)
        )
        parts.append(
            df.filter(pl.col(system).is_not_null()).select(
                *keys,
                system_id=pl.lit(system),
                model_version=version,
                predicted_points=pl.col(system),
                over_probability=pl.col(f"{system}_p_over"),
                recommendation=pl.col(f"{system}_recommendation"),
                line_bookmaker=pl.col(f"{system}_bet_bookmaker"),
                **{f"_bet_{c}": pl.col(f"{system}_bet_{c}") for c in _OFFER_COLUMNS},
            )
        )
    long = pl.concat(parts)
    # A pick's line and prices are those of the book offer it takes; the others', the median.
    return (
        long.join(lines, on=["game_date", "player_lookup"], how="inner")
        .with_columns(pl.coalesce(f"_bet_{c}", c).alias(c) for c in _OFFER_COLUMNS)
        .drop(f"_bet_{c}" for c in _OFFER_COLUMNS)
        .with_columns(edge=pl.col("predicted_points") - pl.col("line"))
        .sort("game_date", "player_lookup", "system_id")
    )


def unmatched_lines(lines: pl.DataFrame, features: pl.DataFrame) -> pl.DataFrame:
    """Lines whose player has no feature-store row that day (a name the books spell otherwise,
    or a player not expected to play)."""
    return lines.join(
        features.select("game_date", "player_lookup").unique(),
        on=["game_date", "player_lookup"],
        how="anti",
    )
