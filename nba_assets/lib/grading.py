"""Grading: each prediction against the player's real points, the line and the recorded price."""

from __future__ import annotations

import polars as pl

from nba_assets.lib.predict import OVER, UNDER
from nba_assets.tables.predictions import system_daily_performance

# The price assumed for a pick whose line came without one (the usual two-way price).
STANDARD_PRICE = -110.0

RESULT_COLUMNS = ("game_date", "player_id", "team_abbr", "minutes", "pts")

# The figures of a system's day: system_daily_performance's columns after its key.
PERFORMANCE_SCHEMA = pl.Schema(
    {
        c: t
        for c, t in system_daily_performance.columns.items()
        if c not in system_daily_performance.key
    }
)


def predictions_of_record(history: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The prediction graded for each player-game and system, and how many player-game-system
    keys had none: of the day's predictions runs (``player_prop_prediction_history``), the last
    one made from a lines snapshot taken before the game's tip-off.

    A game's tip-off is the earliest ``commence_time`` among its rows (the lines' events); a
    game without any line has none, and its last run counts. A run made once the game had
    started (a later snapshot of the same day) is never graded for it: what was knowable before
    tip-off is what is graded.
    """
    if history.is_empty():
        return history, 0
    tip = pl.col("commence_time").min().over("game_date", "game_id")
    made = pl.col("prediction_snapshot_time")
    keys = ["game_date", "game_id", "player_lookup", "system_id"]
    before = history.filter(tip.is_null() | made.is_null() | (made < tip))
    record = before.filter(made.eq_missing(made.max().over(keys)))
    missing = history.select(keys).unique().join(record.select(keys), on=keys, how="anti")
    return record, missing.height


def win_profit(price: pl.Expr) -> pl.Expr:
    """Profit of a winning 1-unit bet at an American price: -110 -> 0.909, +120 -> 1.2."""
    return pl.when(price > 0).then(price / 100).otherwise(100 / price.abs())


def grade(predictions: pl.DataFrame, results: pl.DataFrame) -> pl.DataFrame:
    """``predictions`` plus actual points, errors, hit / miss, push, void and payout.

    Args:
        predictions: ``nba_predictions.player_prop_predictions`` rows.
        results: ``nba_analytics.player_game_summary`` rows (at least :data:`RESULT_COLUMNS`)
            for the same days.

    Rules: a game with no box-score rows for either team has no result yet (nothing graded,
    nothing void). Otherwise a player without a row or with 0 minutes is void. A played
    prediction with a line is graded (MAE, line MAE). OVER / UNDER picks are hits or misses,
    a push when the points equal the line; PASS and NO_LINE are not bets.
    """
    teams_done = results.select("game_date", "team_abbr").unique()
    played = results.select(
        "game_date",
        "player_id",
        pl.col("minutes").alias("_minutes"),
        pl.col("pts").cast(pl.Int64).alias("_pts"),
    ).unique(subset=["game_date", "player_id"], keep="first")
    df = (
        predictions.join(
            teams_done.with_columns(_team_done=pl.lit(True)),
            on=["game_date", "team_abbr"],
            how="left",
        )
        .join(
            teams_done.rename({"team_abbr": "opponent_team_abbr"}).with_columns(
                _opponent_done=pl.lit(True)
            ),
            on=["game_date", "opponent_team_abbr"],
            how="left",
        )
        .join(played, on=["game_date", "player_id"], how="left")
    )
    has_result = pl.col("_team_done").fill_null(False) | pl.col("_opponent_done").fill_null(False)
    did_play = pl.col("_minutes").fill_null(0.0) > 0
    actual = pl.when(did_play).then(pl.col("_pts"))
    error = pl.col("predicted_points") - actual.cast(pl.Float64)
    is_bet = pl.col("recommendation").is_in([OVER, UNDER])
    settled = is_bet & did_play & pl.col("line").is_not_null()
    is_push = did_play & (actual.cast(pl.Float64) == pl.col("line"))
    over_hit = actual.cast(pl.Float64) > pl.col("line")
    correct = pl.when(settled & ~is_push).then(
        pl.when(pl.col("recommendation") == OVER).then(over_hit).otherwise(~over_hit)
    )
    price = (
        pl.when(pl.col("recommendation") == OVER)
        .then(pl.col("over_price"))
        .otherwise(pl.col("under_price"))
        .fill_null(STANDARD_PRICE)
    )
    units = (
        pl.when(settled & is_push)
        .then(0.0)
        .when(settled & correct)
        .then(win_profit(price))
        .when(settled)
        .then(-1.0)
    )
    graded = df.with_columns(
        actual_points=actual,
        minutes=pl.col("_minutes"),
        absolute_error=error.abs(),
        signed_error=error,
        line_absolute_error=(pl.col("line") - actual.cast(pl.Float64)).abs(),
        within_3=error.abs() <= 3,
        within_5=error.abs() <= 5,
        prediction_correct=correct,
        is_push=is_push.fill_null(False) & pl.col("line").is_not_null(),
        is_void=has_result & ~did_play,
        graded=did_play & pl.col("line").is_not_null(),
        units=units,
    )
    return graded.drop("_team_done", "_opponent_done", "_minutes", "_pts")


def performance(accuracy: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """MAE, the line's MAE on the same player-games, hit rate and ROI per group of ``by``.

    Args:
        accuracy: output of :func:`grade` (``prediction_accuracy`` rows).
        by: grouping columns, e.g. ``["game_date", "system_id"]``.

    Returns:
        ``by`` then :data:`PERFORMANCE_SCHEMA`; hit_rate / roi are null without settled picks.
    """
    graded = pl.col("graded")
    is_bet = pl.col("units").is_not_null()
    push = is_bet & pl.col("is_push")
    out = (
        accuracy.group_by(by)
        .agg(
            predictions=pl.len(),
            voids=pl.col("is_void").sum(),
            graded=graded.sum(),
            mae=pl.col("absolute_error").filter(graded).mean(),
            line_mae=pl.col("line_absolute_error").filter(graded).mean(),
            bias=pl.col("signed_error").filter(graded).mean(),
            picks=is_bet.sum(),
            hits=(pl.col("prediction_correct") == True).sum(),  # noqa: E712 (null is not a hit)
            misses=(pl.col("prediction_correct") == False).sum(),  # noqa: E712
            pushes=push.sum(),
            units=pl.col("units").sum(),
        )
        .with_columns(
            hit_rate=pl.when(pl.col("hits") + pl.col("misses") > 0).then(
                pl.col("hits") / (pl.col("hits") + pl.col("misses"))
            ),
            roi=pl.when(pl.col("picks") > 0).then(pl.col("units") / pl.col("picks")),
        )
    )
    return out.select(*by, *(pl.col(c).cast(t) for c, t in PERFORMANCE_SCHEMA.items())).sort(by)


def daily_performance(accuracy: pl.DataFrame) -> pl.DataFrame:
    """``nba_predictions.system_daily_performance`` rows: :func:`performance` per day and system."""
    return performance(accuracy, ["game_date", "system_id"])
