"""What the market knows before tip-off, per expected player and day: the related markets'
lines and prices, and which regular rotation players each team is without.

Market features (feature set ``v2``, see ``FEATURES_MARKET`` in ``tables/precompute.py``): for
each market of ``MARKETS`` the median line across books of the last snapshot before tip-off, the
number of books, and the median across books of the de-vigged probability of the over
(``1/over`` over ``1/over + 1/under``, decimal odds). Null where no book lists the player. A
book's line counts only when it was last updated before the game's tip-off (``last_update`` <=
``commence_time``; a row without ``last_update`` is the pre-game snapshot itself): a line posted
after tip-off already knows the game.

Availability: a regular rotation player of a team (at least ``ROTATION_MIN_GAMES`` games this
season, at least ``ROTATION_MIN_MINUTES`` minutes a game over his last 10) is absent

- by the day's listing: his team has at least ``LISTED_TEAM_MIN_LINES`` points lines that day
  and he has none (books post lines for the rotation players who are expected to play). Known on
  game day only; null for teams without listings (every day before the 2025-26 lines);
- by his last game: he did not play in his team's last game before the day. Known for every day
  with history; this is the pre-game proxy the models learn from in seasons without listings.

For each expected player, the teammates absent (the player himself left out), and the minutes
and points a game (last-10 averages) they leave, under each signal. Points stand in for usage:
the shooting box (the usage proxy's inputs) is missing for 2025-26.
"""

from __future__ import annotations

import polars as pl

from nba_assets.lib.lines import american_to_decimal, pre_game_props
from nba_assets.tables.precompute import (
    AVAILABILITY_FEATURES,
    MARKET_LINE_FEATURES,
    MARKETS,
    RELATED_POINTS,
)

ROTATION_MIN_GAMES = 3
ROTATION_MIN_MINUTES = 20.0
LISTED_TEAM_MIN_LINES = 3

_KEY = ["game_date", "player_id"]


def market_lines(props: pl.DataFrame) -> pl.DataFrame:
    """One row per ``game_date, player_lookup`` with ``MARKET_LINE_FEATURES`` (null: no line).

    Args:
        props: ``nba_raw.odds_player_props`` rows of the days (any markets; rows posted after
            tip-off are left out, see :func:`pre_game_props`).
    """
    rows = pre_game_props(props).filter(pl.col("market").is_in(list(MARKETS)))
    over = 1 / american_to_decimal(pl.col("over_price"))
    under = 1 / american_to_decimal(pl.col("under_price"))
    per_market = rows.group_by("game_date", "player_lookup", "market").agg(
        line=pl.col("line").median(),
        books=pl.col("bookmaker").n_unique().cast(pl.Float64),
        over_prob=(over / (over + under)).median(),
    )
    keys = per_market.select("game_date", "player_lookup").unique()
    for market, prefix in MARKETS.items():
        part = per_market.filter(pl.col("market") == market).select(
            "game_date",
            "player_lookup",
            pl.col("line").alias(f"{prefix}_line"),
            pl.col("books").alias(f"{prefix}_books"),
            pl.col("over_prob").alias(f"{prefix}_over_prob"),
        )
        keys = keys.join(part, on=["game_date", "player_lookup"], how="left")
    return keys.select(
        "game_date",
        "player_lookup",
        *(pl.col(c).cast(pl.Float64) for c in MARKET_LINE_FEATURES),
    )


def _absent_sums(players: pl.DataFrame, absent: pl.Expr, suffix: str) -> pl.DataFrame:
    """Per player: teammates flagged by ``absent`` (the player left out), their minutes and
    points; null where ``absent`` is null for the whole team-game."""
    flag = absent.cast(pl.Float64)
    team = ["game_date", "team_abbr"]
    minutes = pl.col("minutes_avg_last_10").fill_null(0.0)
    points = pl.col("points_avg_last_10").fill_null(0.0)
    df = players.with_columns(_a=flag).with_columns(
        _am=pl.col("_a") * minutes,
        _ap=pl.col("_a") * points,
        _known=pl.col("_a").is_not_null().any().over(team),
    )
    own = [pl.col(c).fill_null(0.0) for c in ("_a", "_am", "_ap")]
    sums = [pl.col(c).fill_null(0.0).sum().over(team) for c in ("_a", "_am", "_ap")]
    names = [f"teammates_absent{w}_{suffix}" for w in ("", "_minutes", "_points")]
    return df.select(
        *_KEY,
        *(
            pl.when(pl.col("_known")).then(total - mine).alias(name)
            for total, mine, name in zip(sums, own, names, strict=True)
        ),
    )


def availability(
    players: pl.DataFrame,
    cache: pl.DataFrame,
    lines: pl.DataFrame,
    team_last_games: pl.DataFrame,
) -> pl.DataFrame:
    """``game_date, player_id`` and ``AVAILABILITY_FEATURES`` for every expected player.

    Args:
        players: ``upcoming_player_game_context`` rows of the days.
        cache: ``player_daily_cache`` rows of the same days.
        lines: :func:`market_lines` of the days (its ``points_line`` is the day's listing).
        team_last_games: ``game_date, team_abbr``: each team's last game strictly before the
            day (see :func:`team_last_game`).
    """
    df = (
        players.select(*_KEY, "player_lookup", "team_abbr")
        .join(
            lines.select("game_date", "player_lookup", "points_line"),
            on=["game_date", "player_lookup"],
            how="left",
        )
        .join(
            cache.select(
                *_KEY,
                "games_played_season",
                "minutes_avg_last_10",
                "points_avg_last_10",
                "last_game_date",
            ),
            on=_KEY,
            how="left",
        )
        .join(team_last_games, on=["game_date", "team_abbr"], how="left")
        # Sums over a team in a fixed order: the same inputs give the same floats.
        .sort("game_date", "team_abbr", "player_id")
    )
    rotation = (pl.col("games_played_season").fill_null(0) >= ROTATION_MIN_GAMES) & (
        pl.col("minutes_avg_last_10").fill_null(0.0) >= ROTATION_MIN_MINUTES
    )
    team = ["game_date", "team_abbr"]
    listed_lines = pl.col("points_line").is_not_null().sum().over(team)
    listed = pl.when(listed_lines >= LISTED_TEAM_MIN_LINES).then(
        rotation & pl.col("points_line").is_null()
    )
    missed_last = rotation & (
        pl.col("last_game_date").is_null()
        | (pl.col("last_game_date") < pl.col("team_last_game_date"))
    )
    last_game = pl.when(pl.col("team_last_game_date").is_not_null()).then(missed_last)
    return _absent_sums(df, listed, "listed").join(
        _absent_sums(df, last_game, "last_game"), on=_KEY, how="left"
    )


def team_last_game(teams: pl.DataFrame, team_games: pl.DataFrame) -> pl.DataFrame:
    """``game_date, team_abbr, team_last_game_date``: each team's last game strictly before
    each day of ``teams``.

    Args:
        teams: ``upcoming_team_game_context`` rows of the days.
        team_games: ``team_offense_game_summary`` rows before the days (later ones ignored).
    """
    played = (
        team_games.select("team_abbr", team_last_game_date=pl.col("game_date"))
        .unique()
        .sort("team_last_game_date")
    )
    return (
        teams.select("game_date", "team_abbr")
        .unique()
        .sort("game_date")
        .join_asof(
            played,
            left_on="game_date",
            right_on="team_last_game_date",
            by="team_abbr",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
    )


def market_features(
    players: pl.DataFrame,
    cache: pl.DataFrame,
    props: pl.DataFrame,
    team_last_games: pl.DataFrame,
) -> pl.DataFrame:
    """``game_date, player_id`` and every market and availability feature of feature set v2.

    ``points_from_related`` is the points the related markets imply: the PRA line minus the
    rebounds and assists lines, where a book set lists all three.
    """
    lines = market_lines(props)
    return (
        players.select(*_KEY, "player_lookup")
        .join(lines, on=["game_date", "player_lookup"], how="left")
        .with_columns(
            (pl.col("pra_line") - pl.col("rebounds_line") - pl.col("assists_line")).alias(
                RELATED_POINTS
            )
        )
        .join(availability(players, cache, lines, team_last_games), on=_KEY, how="left")
        .select(*_KEY, *MARKET_LINE_FEATURES, RELATED_POINTS, *AVAILABILITY_FEATURES)
    )
