"""Phase 4 transforms: form as of a day, situational factors and the ML feature vector.

Every value for day D is computed from games strictly before D: each history is rolled over a
player's (or team's) games in date order, then joined as of the day with exact matches
excluded. A change to a game on or after D cannot move D's features (the tests prove it).

One module for the four phase-4 tables (over 350 lines on purpose): they share the as-of joins
and rolling windows that carry the before-D rule, and keeping them together keeps that rule in
one place.

Windows: "last N" means the last N games before D of any season and season type (a player's
first game of a season uses the end of the previous one), averaged over the games available when
fewer than N; "season" means games of D's season before D (none on the first game of a season).

Feature set ``v1`` (``FEATURES_V1``, all Float64):

=============================  =====================================================================
points_avg_last_5 / _10         mean points over the last 5 / 10 games
points_avg_season               mean points this season; null before the player's first game of it
points_std_last_10              sample standard deviation of points, last 10 games (needs 2)
points_avg_prev_season          mean points over the previous season's regular season; null when
                                the player did not play in it
minutes_avg_last_10             mean minutes, last 10 games
minutes_change                  mean minutes of the last 3 games minus minutes_avg_last_10 (needs 3)
points_per_minute_last_10       points / minutes over the last 10 games
games_played_season             games this season before D (0 on the first)
games_last_7_days               the player's games in D-7 .. D-1
days_rest                       full days off since the player's last game (0 = back-to-back);
                                null when he has no earlier game
back_to_back                    1 when the player's last game was on D-1, else 0
fatigue_score                   0-100, higher is more tired: 50 + 20 per back-to-back
                                + 8 per game in the last 7 days beyond 2
                                + 1.5 per minute of minutes_avg_last_10 beyond 30
                                - 5 per rest day beyond 1 (counted up to 4); null without history
rest_advantage                  team's rest days minus the opponent's, each capped at 3
usage_last_10                   mean usage proxy (fga + 0.44 fta + tov over the team's same) over
                                the last 10 games that have it
usage_trend                     mean usage of the last 3 games minus usage_last_10 (needs 3)
recent_trend                    mean points of the last 3 games minus points_avg_last_10 (needs 3)
is_home                         1 at home, 0 away
is_playoffs                     1 for play-in and playoff games, 0 in the regular season
three_pt_rate_last_10           3-point attempts / field-goal attempts, last 10 games with a box
ft_rate_last_10                 free-throw attempts / field-goal attempts, last 10 games with a box
ts_pct_last_10                  points / (2 (fga + 0.44 fta)), last 10 games with a box
opponent_points_allowed_avg     points the opponent allowed per game, its last 10 games
opponent_def_rating             100 x points the opponent allowed / possessions, its last 10 games
opponent_pace                   the opponent's mean pace (possessions per 48 min), last 10 games
team_pace                       the player's team's mean pace, last 10 games
team_off_rating                 100 x the team's points / possessions, last 10 games
team_win_rate                   the team's share of games won this season; null before its first
=============================  =====================================================================

Feature set ``v2`` (``FEATURES_V2``) is ``v1`` plus ``FEATURES_MARKET``: the related markets'
lines and prices and the teammates absent, all known before tip-off (``lib/market.py`` says how
each is made). ``feature_quality`` stays the weighted share of the v1 features.

Null for seasons without the shooting box (box scores without FGA / FTA / 3PA / OREB; in the
real data players have it only for 2022-23 and 2023-24, teams' game logs up to 2024-25):
usage_last_10, usage_trend, three_pt_rate_last_10, ft_rate_last_10 and ts_pct_last_10 when none
of the player's last 10 games has the box; opponent_def_rating, opponent_pace, team_pace and
team_off_rating when none of the team's last 10 games has it. So for the 2025-26 days with real
lines all of these are null. They are never filled in or estimated; feature_quality drops and
missing_inputs names them instead. Other nulls: the player's first game ever (every player
form feature), the first game of a season (points_avg_season, team_win_rate), a rookie season
(points_avg_prev_season), fewer than 3 earlier games (minutes_change, recent_trend, usage_trend).
"""

from __future__ import annotations

import polars as pl

from nba_assets.lib.analytics import is_postseason, previous_season
from nba_assets.tables.precompute import (
    CACHE_FEATURES,
    FEATURE_SET_V1,
    FEATURE_SET_V2,
    FEATURE_SET_VERSION,
    FEATURES_MARKET,
    FEATURES_V1,
    FEATURES_V2,
    PLAYER_DAY_COLUMNS,
)

__all__ = [
    "FEATURE_SET_V1",
    "FEATURE_SET_V2",
    "FEATURE_SET_VERSION",
    "FEATURES_MARKET",
    "FEATURES_V1",
    "FEATURES_V2",
]

# Scoring form counts most; context that is never null (venue, game counts) counts too, so a
# vector with only those has a low but non-zero quality.
FEATURE_WEIGHTS: dict[str, float] = {name: 1.0 for name in FEATURES_V1} | {
    "points_avg_last_5": 3.0,
    "points_avg_last_10": 3.0,
    "points_avg_season": 3.0,
    "minutes_avg_last_10": 3.0,
    "points_per_minute_last_10": 2.0,
    "points_std_last_10": 2.0,
    "points_avg_prev_season": 2.0,
    "opponent_points_allowed_avg": 2.0,
}

REST_CAP_DAYS = 3
_STRICTLY_BEFORE = {"strategy": "backward", "allow_exact_matches": False}

_PLAYER_DAY = tuple(PLAYER_DAY_COLUMNS)
PLAYER_DAILY_CACHE_COLUMNS = (*_PLAYER_DAY, "season", "last_game_date", *CACHE_FEATURES)
PLAYER_COMPOSITE_COLUMNS = (
    *_PLAYER_DAY,
    "fatigue_score",
    "rest_advantage",
    "pace_factor",
    "usage_trend",
    "recent_trend",
)
TEAM_DEFENSE_PROFILE_COLUMNS = (
    "game_date",
    "game_id",
    "team_id",
    "team_abbr",
    "opponent_team_abbr",
    "games_played_season",
    "points_allowed_avg_last_10",
    "points_allowed_avg_season",
    "def_rating_last_10",
    "def_rating_season",
    "opp_efg_pct_last_10",
    "pace_last_10",
)
ML_FEATURE_STORE_COLUMNS = (
    *_PLAYER_DAY,
    "feature_set_version",
    *FEATURES_V2,
    "feature_quality",
    "missing_inputs",
)


def _window(expr: pl.Expr, n: int | None, by: str | list[str]) -> pl.Expr:
    """Sum of ``expr`` (nulls as 0) over the last ``n`` rows (all rows when None) of ``by``.

    The frame must be sorted by ``by`` and date.
    """
    total = expr.fill_null(0).cum_sum()
    if n is None:
        return total.over(by)
    return (total - total.shift(n, fill_value=0)).over(by)


def _game_number(by: str | list[str]) -> pl.Expr:
    """1, 2, ... over the rows of ``by`` (the frame sorted by ``by`` and date)."""
    return pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by)


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den)


def _as_of(targets: pl.DataFrame, rolled: pl.DataFrame, by: str) -> pl.DataFrame:
    """``targets`` with the ``rolled`` row of ``by``'s last game strictly before game_date."""
    right = rolled.rename({"game_date": "last_game_date"}).sort("last_game_date")
    return targets.sort("game_date").join_asof(
        right,
        left_on="game_date",
        right_on="last_game_date",
        by=by,
        check_sortedness=False,
        suffix="_last",
        **_STRICTLY_BEFORE,  # type: ignore[arg-type]
    )


def _player_rolling(games: pl.DataFrame) -> pl.DataFrame:
    """Per player game: sums and counts over windows ending with (and including) that game."""
    p = "player_id"
    s = ["player_id", "season"]
    has_box = pl.all_horizontal(pl.col("fga", "fta", "fg3a").is_not_null())
    boxed = lambda c: pl.when(has_box).then(pl.col(c).cast(pl.Float64))  # noqa: E731
    return (
        games.select(
            "player_id",
            "game_date",
            "season",
            pts=pl.col("pts").cast(pl.Float64),
            minutes=pl.col("minutes").cast(pl.Float64),
            usage=pl.col("usage_rate"),
            box_pts=boxed("pts"),
            box_fga=boxed("fga"),
            box_fta=boxed("fta"),
            box_fg3a=boxed("fg3a"),
        )
        .sort(p, "game_date")
        .with_columns(
            k=_game_number(p),
            pts_3=_window(pl.col("pts"), 3, p),
            pts_5=_window(pl.col("pts"), 5, p),
            pts_10=_window(pl.col("pts"), 10, p),
            pts_std_10=pl.col("pts").rolling_std(10, min_samples=2).over(p),
            min_3=_window(pl.col("minutes"), 3, p),
            min_10=_window(pl.col("minutes"), 10, p),
            min_n_10=_window(pl.col("minutes").is_not_null().cast(pl.Int64), 10, p),
            usage_3=_window(pl.col("usage"), 3, p),
            usage_n_3=_window(pl.col("usage").is_not_null().cast(pl.Int64), 3, p),
            usage_10=_window(pl.col("usage"), 10, p),
            usage_n_10=_window(pl.col("usage").is_not_null().cast(pl.Int64), 10, p),
            box_pts_10=_window(pl.col("box_pts"), 10, p),
            box_fga_10=_window(pl.col("box_fga"), 10, p),
            box_fta_10=_window(pl.col("box_fta"), 10, p),
            box_fg3a_10=_window(pl.col("box_fg3a"), 10, p),
            season_k=_game_number(s),
            season_pts=_window(pl.col("pts"), None, s),
        )
    )


def player_daily_cache(players: pl.DataFrame, games: pl.DataFrame) -> pl.DataFrame:
    """Each expected player's form as of each day, from his games strictly before it.

    Args:
        players: ``upcoming_player_game_context`` rows (the players and days to describe).
        games: ``player_game_summary`` rows with every game that can matter: at least the
            previous season and the current one up to the last day (later games are ignored).
    """
    prev = (
        games.filter(~is_postseason(pl.col("season_type")))
        .group_by("player_id", "season")
        .agg(points_avg_prev_season=pl.col("pts").cast(pl.Float64).mean())
        .rename({"season": "_prev_season"})
    )
    targets = players.select(*_PLAYER_DAY, "season").with_columns(
        _prev_season=previous_season(pl.col("season"))
    )
    df = _as_of(targets, _player_rolling(games), "player_id")
    this_season = pl.col("season_last") == pl.col("season")
    n = lambda w: pl.min_horizontal(pl.col("k"), pl.lit(w))  # noqa: E731
    three = pl.col("k") >= 3
    df = df.join(prev, on=["player_id", "_prev_season"], how="left").with_columns(
        games_played_season=pl.when(this_season).then(pl.col("season_k")).otherwise(0),
        points_avg_last_5=pl.col("pts_5") / n(5),
        points_avg_last_10=pl.col("pts_10") / n(10),
        points_avg_season=pl.when(this_season).then(pl.col("season_pts") / pl.col("season_k")),
        points_std_last_10=pl.col("pts_std_10"),
        minutes_avg_last_10=_ratio(pl.col("min_10"), pl.col("min_n_10")),
        points_per_minute_last_10=_ratio(pl.col("pts_10"), pl.col("min_10")),
        usage_last_10=_ratio(pl.col("usage_10"), pl.col("usage_n_10")),
        three_pt_rate_last_10=_ratio(pl.col("box_fg3a_10"), pl.col("box_fga_10")),
        ft_rate_last_10=_ratio(pl.col("box_fta_10"), pl.col("box_fga_10")),
        ts_pct_last_10=_ratio(
            pl.col("box_pts_10"), 2 * (pl.col("box_fga_10") + 0.44 * pl.col("box_fta_10"))
        ),
    )
    df = df.with_columns(
        minutes_change=pl.when(three).then(pl.col("min_3") / 3 - pl.col("minutes_avg_last_10")),
        recent_trend=pl.when(three).then(pl.col("pts_3") / 3 - pl.col("points_avg_last_10")),
        usage_trend=pl.when(pl.col("usage_n_3") == 3).then(
            pl.col("usage_3") / 3 - pl.col("usage_last_10")
        ),
    )
    return df.select(PLAYER_DAILY_CACHE_COLUMNS)


def _team_defense_rolling(defense: pl.DataFrame) -> pl.DataFrame:
    """Per team game: windows over what it allowed, ending with that game."""
    t = "team_id"
    s = ["team_id", "season"]
    rated = pl.col("game_possessions").is_not_null()
    allowed = pl.col("points_allowed").cast(pl.Float64)
    opp_efg_num = pl.when(pl.col("opp_fga").is_not_null()).then(
        pl.col("opp_fgm") + 0.5 * pl.col("opp_fg3m")
    )
    return (
        defense.select(
            "team_id",
            "game_date",
            "season",
            "game_possessions",
            "pace",
            "opp_fga",
            allowed=allowed,
            rated_allowed=pl.when(rated).then(allowed),
            opp_efg_num=opp_efg_num,
        )
        .sort(t, "game_date")
        .with_columns(
            k=_game_number(t),
            allowed_10=_window(pl.col("allowed"), 10, t),
            rated_allowed_10=_window(pl.col("rated_allowed"), 10, t),
            poss_10=_window(pl.col("game_possessions"), 10, t),
            pace_10=_window(pl.col("pace"), 10, t),
            pace_n_10=_window(pl.col("pace").is_not_null().cast(pl.Int64), 10, t),
            opp_efg_num_10=_window(pl.col("opp_efg_num"), 10, t),
            opp_fga_10=_window(pl.col("opp_fga"), 10, t),
            season_k=_game_number(s),
            season_allowed=_window(pl.col("allowed"), None, s),
            season_rated_allowed=_window(pl.col("rated_allowed"), None, s),
            season_poss=_window(pl.col("game_possessions"), None, s),
        )
    )


def _team_targets(teams: pl.DataFrame) -> pl.DataFrame:
    return teams.select(
        "game_date", "game_id", "team_id", "team_abbr", "opponent_team_abbr", "season"
    )


def team_defense_profile(teams: pl.DataFrame, defense: pl.DataFrame) -> pl.DataFrame:
    """Each team playing on each day: what it allowed and its pace, from games before the day.

    Args:
        teams: ``upcoming_team_game_context`` rows.
        defense: ``team_defense_game_summary`` rows up to the last day, with at least the
            current season (later games are ignored).
    """
    df = _as_of(_team_targets(teams), _team_defense_rolling(defense), "team_id")
    this_season = pl.col("season_last") == pl.col("season")
    n10 = pl.min_horizontal(pl.col("k"), pl.lit(10))
    return df.with_columns(
        games_played_season=pl.when(this_season).then(pl.col("season_k")).otherwise(0),
        points_allowed_avg_last_10=pl.col("allowed_10") / n10,
        points_allowed_avg_season=pl.when(this_season).then(
            pl.col("season_allowed") / pl.col("season_k")
        ),
        def_rating_last_10=_ratio(100 * pl.col("rated_allowed_10"), pl.col("poss_10")),
        def_rating_season=pl.when(this_season).then(
            _ratio(100 * pl.col("season_rated_allowed"), pl.col("season_poss"))
        ),
        opp_efg_pct_last_10=_ratio(pl.col("opp_efg_num_10"), pl.col("opp_fga_10")),
        pace_last_10=_ratio(pl.col("pace_10"), pl.col("pace_n_10")),
    ).select(TEAM_DEFENSE_PROFILE_COLUMNS)


def team_offense_form(teams: pl.DataFrame, offense: pl.DataFrame) -> pl.DataFrame:
    """``game_date, team_abbr, off_rating_last_10, win_rate_season`` from games before the day.

    Args:
        teams: ``upcoming_team_game_context`` rows.
        offense: ``team_offense_game_summary`` rows up to the last day (this season at least).
    """
    t = "team_id"
    s = ["team_id", "season"]
    rated = pl.col("game_possessions").is_not_null()
    rolled = (
        offense.select(
            "team_id",
            "game_date",
            "season",
            "game_possessions",
            rated_pts=pl.when(rated).then(pl.col("pts").cast(pl.Float64)),
            won=(pl.col("wl") == "W").cast(pl.Int64),
        )
        .sort(t, "game_date")
        .with_columns(
            rated_pts_10=_window(pl.col("rated_pts"), 10, t),
            poss_10=_window(pl.col("game_possessions"), 10, t),
            season_k=_game_number(s),
            season_wins=_window(pl.col("won"), None, s),
        )
    )
    df = _as_of(_team_targets(teams), rolled, "team_id")
    this_season = pl.col("season_last") == pl.col("season")
    return df.select(
        "game_date",
        "team_abbr",
        off_rating_last_10=_ratio(100 * pl.col("rated_pts_10"), pl.col("poss_10")),
        win_rate_season=pl.when(this_season).then(pl.col("season_wins") / pl.col("season_k")),
    )


def fatigue_score(
    back_to_back: pl.Expr, games_last_7_days: pl.Expr, minutes_avg: pl.Expr, days_rest: pl.Expr
) -> pl.Expr:
    """0-100 load score (higher is more tired); null when minutes or rest are unknown."""
    score = (
        50
        + 20 * back_to_back.cast(pl.Float64)
        + 8 * (games_last_7_days.cast(pl.Float64) - 2)
        + 1.5 * (minutes_avg - 30)
        - 5 * (pl.min_horizontal(days_rest, pl.lit(4)).cast(pl.Float64) - 1)
    )
    return score.clip(0, 100)


def _capped_rest(days: pl.Expr) -> pl.Expr:
    return pl.min_horizontal(days, pl.lit(REST_CAP_DAYS)).cast(pl.Float64)


def player_composite_factors(
    players: pl.DataFrame,
    teams: pl.DataFrame,
    cache: pl.DataFrame,
    profile: pl.DataFrame,
) -> pl.DataFrame:
    """Each expected player's situational factors for the day.

    Args:
        players: ``upcoming_player_game_context`` rows.
        teams: ``upcoming_team_game_context`` rows of the same days.
        cache: ``player_daily_cache`` rows of the same days.
        profile: ``team_defense_profile`` rows of the same days.
    """
    pace = profile.select("game_date", "team_abbr", "pace_last_10")
    df = (
        players.select(*_PLAYER_DAY, "team_id", "days_rest", "back_to_back", "games_last_7_days")
        .join(
            cache.select(
                "game_date", "player_id", "minutes_avg_last_10", "usage_trend", "recent_trend"
            ),
            on=["game_date", "player_id"],
            how="left",
        )
        .join(
            teams.select(
                "game_date",
                "team_id",
                team_rest=pl.col("days_rest"),
                opponent_rest=pl.col("opponent_days_rest"),
            ),
            on=["game_date", "team_id"],
            how="left",
        )
        .join(pace.rename({"pace_last_10": "team_pace"}), on=["game_date", "team_abbr"], how="left")
        .join(
            pace.rename({"team_abbr": "opponent_team_abbr", "pace_last_10": "opponent_pace"}),
            on=["game_date", "opponent_team_abbr"],
            how="left",
        )
    )
    return df.with_columns(
        fatigue_score=fatigue_score(
            pl.col("back_to_back"),
            pl.col("games_last_7_days"),
            pl.col("minutes_avg_last_10"),
            pl.col("days_rest"),
        ),
        rest_advantage=_capped_rest(pl.col("team_rest")) - _capped_rest(pl.col("opponent_rest")),
        pace_factor=(pl.col("team_pace") + pl.col("opponent_pace")) / 2,
    ).select(PLAYER_COMPOSITE_COLUMNS)


def feature_quality(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with ``feature_quality`` (weighted non-null share, 0-100) and ``missing_inputs``."""
    total = sum(FEATURE_WEIGHTS.values())
    present = pl.sum_horizontal(
        [
            pl.col(name).is_not_null().cast(pl.Float64) * FEATURE_WEIGHTS[name]
            for name in FEATURES_V1
        ]
    )
    missing = pl.concat_str(
        [pl.when(pl.col(name).is_null()).then(pl.lit(name)) for name in FEATURES_V1],
        separator=",",
        ignore_nulls=True,
    )
    return df.with_columns(
        feature_quality=(100 * present / total).round(1), missing_inputs=missing.fill_null("")
    )


def ml_feature_store(
    players: pl.DataFrame,
    cache: pl.DataFrame,
    composite: pl.DataFrame,
    profile: pl.DataFrame,
    offense_form: pl.DataFrame,
    market: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One feature vector per expected player per day: ``FEATURES_V2`` with ``market``, else
    ``FEATURES_V1`` (feature set v1, the market columns null, exactly as before v2).

    Args:
        players: ``upcoming_player_game_context`` rows.
        cache: ``player_daily_cache`` rows of the same days.
        composite: ``player_composite_factors`` rows of the same days.
        profile: ``team_defense_profile`` rows of the same days (every team playing).
        offense_form: ``team_offense_form`` rows of the same days.
        market: :func:`nba_assets.lib.market.market_features` rows of the same days.
    """
    key = ["game_date", "player_id"]
    own = profile.select("game_date", "team_abbr", team_pace="pace_last_10").join(
        offense_form.select(
            "game_date",
            "team_abbr",
            team_off_rating="off_rating_last_10",
            team_win_rate="win_rate_season",
        ),
        on=["game_date", "team_abbr"],
        how="full",
        coalesce=True,
    )
    opponent = profile.select(
        "game_date",
        opponent_team_abbr="team_abbr",
        opponent_points_allowed_avg="points_allowed_avg_last_10",
        opponent_def_rating="def_rating_last_10",
        opponent_pace="pace_last_10",
    )
    from_cache = [c for c in FEATURES_V1 if c in cache.columns]
    df = (
        players.select(
            *_PLAYER_DAY,
            "season_type",
            "is_home",
            "days_rest",
            "back_to_back",
            "games_last_7_days",
        )
        .join(cache.select(*key, *from_cache), on=key, how="left")
        .join(composite.select(*key, "fatigue_score", "rest_advantage"), on=key, how="left")
        .join(own, on=["game_date", "team_abbr"], how="left")
        .join(opponent, on=["game_date", "opponent_team_abbr"], how="left")
        .with_columns(
            is_playoffs=is_postseason(pl.col("season_type")),
            feature_set_version=pl.lit(FEATURE_SET_V1 if market is None else FEATURE_SET_V2),
        )
    )
    if market is None:
        df = df.with_columns(pl.lit(None, pl.Float64).alias(c) for c in FEATURES_MARKET)
    else:
        df = df.join(market.select(*key, *FEATURES_MARKET), on=key, how="left")
    df = df.with_columns(pl.col(name).cast(pl.Float64) for name in FEATURES_V2)
    return feature_quality(df).select(ML_FEATURE_STORE_COLUMNS)
