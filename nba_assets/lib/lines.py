"""The day's points line per player, from the sportsbooks' player-props snapshot."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl

POINTS_MARKET = "player_points"
LINE_SOURCE = "odds_api"

LINE_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date(),
        "player_lookup": pl.String(),
        "line": pl.Float64(),
        "line_books": pl.Int64(),
        "over_price": pl.Float64(),
        "under_price": pl.Float64(),
        "line_source": pl.String(),
        "line_snapshot_time": pl.Datetime("us", "UTC"),
        "commence_time": pl.Datetime("us", "UTC"),
    }
)


def prediction_snapshot_times(
    props: pl.DataFrame, days: list[dt.date], timezone: str
) -> pl.DataFrame:
    """``game_date, prediction_snapshot_time``: per day, the latest lines snapshot among its
    ``odds_player_props`` rows, or the day's first second in ``timezone`` when none had landed
    (the morning's predictions, before the first pull)."""
    latest = props.group_by("game_date").agg(latest=pl.col("snapshot_time").max())
    first_second = pl.DataFrame(
        {
            "game_date": days,
            "first_second": [
                dt.datetime.combine(day, dt.time(0), ZoneInfo(timezone)).astimezone(dt.UTC)
                for day in days
            ],
        },
        schema={"game_date": pl.Date(), "first_second": pl.Datetime("us", "UTC")},
    )
    return first_second.join(latest, on="game_date", how="left").select(
        "game_date",
        prediction_snapshot_time=pl.coalesce(
            pl.col("latest").cast(pl.Datetime("us", "UTC")), "first_second"
        ),
    )


def american_to_decimal(price: pl.Expr) -> pl.Expr:
    """Decimal odds (stake included) of an American price: -110 -> 1.909, +120 -> 2.2."""
    return pl.when(price > 0).then(1 + price / 100).otherwise(1 + 100 / price.abs())


def decimal_to_american(decimal: pl.Expr) -> pl.Expr:
    """American price of decimal odds: 1.909 -> -110, 2.2 -> +120 (1.0 or less gives null)."""
    profit = decimal - 1
    return (
        pl.when(profit >= 1).then(profit * 100).when(profit > 0).then(-100 / profit).otherwise(None)
    )


def pre_game_props(props: pl.DataFrame) -> pl.DataFrame:
    """The market as it stood at tip-off: per event, the rows of its last lines snapshot taken
    before tip-off, with a line that was posted before it.

    ``odds_player_props`` is append-only (a row per snapshot); an event's snapshot holds all of
    its lines at that time, so a line missing from the last one was taken down.
    """
    taken = pl.col("snapshot_time")
    before_tip = pl.col("last_update").is_null() | (
        pl.col("last_update") <= pl.col("commence_time")
    )
    pre_game = props.filter(taken < pl.col("commence_time"))
    return pre_game.filter(
        taken == taken.max().over("game_date", "event_id"),
        pl.col("line").is_not_null(),
        pl.col("player_lookup").is_not_null(),
        before_tip,
    )


def daily_points_lines(props: pl.DataFrame) -> pl.DataFrame:
    """One row per game_date and player: the median points line across books.

    Prices are combined as the median of their decimal odds, turned back into American odds:
    American odds jump from -100 to +100, so a median taken on them directly is skewed when
    books straddle even money.

    Args:
        props: ``nba_raw.odds_player_props`` rows (any markets; only ``player_points`` is used).

    Returns:
        Frame with :data:`LINE_SCHEMA`; rows without a line or a ``player_lookup`` are ignored.
        ``line_snapshot_time`` is when the snapshot the line comes from was taken,
        ``commence_time`` the tip-off of the player's game.
    """
    points = props.filter(
        (pl.col("market") == POINTS_MARKET)
        & pl.col("line").is_not_null()
        & pl.col("player_lookup").is_not_null()
    )
    lines = (
        points.group_by("game_date", "player_lookup")
        .agg(
            line=pl.col("line").median(),
            line_books=pl.col("bookmaker").n_unique().cast(pl.Int64),
            over_decimal=american_to_decimal(pl.col("over_price")).median(),
            under_decimal=american_to_decimal(pl.col("under_price")).median(),
            line_snapshot_time=pl.col("snapshot_time").max(),
            commence_time=pl.col("commence_time").min(),
        )
        .with_columns(
            over_price=decimal_to_american(pl.col("over_decimal")).round(1),
            under_price=decimal_to_american(pl.col("under_decimal")).round(1),
            line_source=pl.lit(LINE_SOURCE),
        )
    )
    return lines.select(pl.col(c).cast(t) for c, t in LINE_SCHEMA.items()).sort(
        "game_date", "player_lookup"
    )


# An offer is taken for a quoting error (over and under prices swapped, a stale quote) when it
# contradicts most of the other books quoting the player: its de-vigged probability of the over
# is more than SAME_LINE_GAP from theirs at the same line, or more than ORDER_GAP below theirs at
# a higher line (above at a lower one), where an over must be likelier. Books void such bets, and
# a bettor shopping for the best price would otherwise take exactly those. In the 2025-26 points
# snapshots every book is within 0.055 of the median of the books at its line (none flagged);
# in the 2024-25 threes lines 1,001 offers are flagged, swapped prices among them.
SAME_LINE_GAP = 0.15
ORDER_GAP = 0.10


OFFER_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date(),
        "player_lookup": pl.String(),
        "bookmaker": pl.String(),
        "line": pl.Float64(),
        "over_price": pl.Float64(),
        "under_price": pl.Float64(),
    }
)


def points_offers(props: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every book's points offer per game_date and player, the line and both prices a bettor
    could take (where :func:`daily_points_lines` keeps only their median), and the offers left
    out as quoting errors (:data:`SAME_LINE_GAP`, :data:`ORDER_GAP`).

    Args:
        props: :func:`pre_game_props` rows (any markets; only ``player_points`` rows with a
            line and both prices are offers).

    Returns:
        ``(offers, suspect)``, both with :data:`OFFER_SCHEMA`, one row per day, player and
        book.
    """
    offers = (
        props.filter(
            pl.col("market") == POINTS_MARKET,
            pl.col("line").is_not_null(),
            pl.col("player_lookup").is_not_null(),
            pl.col("over_price").is_not_null(),
            pl.col("under_price").is_not_null(),
        )
        .select(pl.col(c).cast(t) for c, t in OFFER_SCHEMA.items())
        .sort("game_date", "player_lookup", "bookmaker", "line")
        .unique(["game_date", "player_lookup", "bookmaker"], keep="first", maintain_order=True)
    )
    over = 1 / american_to_decimal(pl.col("over_price"))
    under = 1 / american_to_decimal(pl.col("under_price"))
    player = ["game_date", "player_lookup"]
    rated = offers.with_columns(_q=over / (over + under))
    pairs = rated.join(
        rated.select(*player, "bookmaker", "line", "_q"), on=player, suffix="_other"
    ).filter(pl.col("bookmaker") != pl.col("bookmaker_other"))
    gap = pl.col("_q") - pl.col("_q_other")
    contradicts = (
        pl.when(pl.col("line") == pl.col("line_other"))
        .then(gap.abs() > SAME_LINE_GAP)
        .when(pl.col("line") < pl.col("line_other"))
        .then(gap < -ORDER_GAP)
        .otherwise(gap > ORDER_GAP)
    )
    votes = pairs.group_by(*player, "bookmaker").agg(others=pl.len(), against=contradicts.sum())
    suspect_keys = votes.filter(pl.col("others") >= 2, 2 * pl.col("against") > pl.col("others"))
    keys = [*player, "bookmaker"]
    return (
        offers.join(suspect_keys, on=keys, how="anti").sort(keys),
        offers.join(suspect_keys.select(keys), on=keys, how="semi").sort(keys),
    )
