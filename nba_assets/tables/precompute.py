"""``nba_precompute``: each expected player's and team's form as of the morning of the day."""

import polars as pl

from nba_assets.tables.spec import TableSpec

DATASET = "nba_precompute"

# The feature vector of ml_feature_store, by feature-set version (lib/features computes it):
# v1 is box-score history only; v2 adds what the market knows before tip-off (lib/market).
# The assets write v2; v1 rows (the market columns null) are still what the transforms give
# without the day's listings.
FEATURE_SET_V1 = "v1"
FEATURE_SET_V2 = "v2"
FEATURE_SET_VERSION = FEATURE_SET_V2

FEATURES_V1: tuple[str, ...] = (
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "points_avg_prev_season",
    "minutes_avg_last_10",
    "minutes_change",
    "points_per_minute_last_10",
    "games_played_season",
    "games_last_7_days",
    "days_rest",
    "back_to_back",
    "fatigue_score",
    "rest_advantage",
    "usage_last_10",
    "usage_trend",
    "recent_trend",
    "is_home",
    "is_playoffs",
    "three_pt_rate_last_10",
    "ft_rate_last_10",
    "ts_pct_last_10",
    "opponent_points_allowed_avg",
    "opponent_def_rating",
    "opponent_pace",
    "team_pace",
    "team_off_rating",
    "team_win_rate",
)

# Market key in odds_player_props -> the prefix of its features.
MARKETS: dict[str, str] = {
    "player_points": "points",
    "player_points_rebounds_assists": "pra",
    "player_rebounds": "rebounds",
    "player_assists": "assists",
    "player_threes": "threes",
}
MARKET_LINE_FEATURES: tuple[str, ...] = tuple(
    f"{prefix}_{part}" for prefix in MARKETS.values() for part in ("line", "books", "over_prob")
)
RELATED_POINTS = "points_from_related"
AVAILABILITY_SIGNALS = ("listed", "last_game")
AVAILABILITY_FEATURES: tuple[str, ...] = tuple(
    f"teammates_absent{what}_{signal}"
    for signal in AVAILABILITY_SIGNALS
    for what in ("", "_minutes", "_points")
)
FEATURES_MARKET: tuple[str, ...] = (*MARKET_LINE_FEATURES, RELATED_POINTS, *AVAILABILITY_FEATURES)
FEATURES_V2: tuple[str, ...] = (*FEATURES_V1, *FEATURES_MARKET)

_MARKET_DESCRIPTIONS: dict[str, str] = {
    **{
        f"{prefix}_line": f"median {market} line across books before tip-off; null without one"
        for market, prefix in MARKETS.items()
    },
    **{
        f"{prefix}_books": f"books listing the player's {market} line before tip-off"
        for market, prefix in MARKETS.items()
    },
    **{
        f"{prefix}_over_prob": f"median de-vigged probability of the {market} over across books"
        for market, prefix in MARKETS.items()
    },
    RELATED_POINTS: "PRA line minus the rebounds and assists lines: the points they imply",
    **{
        f"teammates_absent_{signal}": f"regular rotation teammates absent ({how})"
        for signal, how in (
            ("listed", "no points line while the team has lines; null without listings"),
            ("last_game", "did not play the team's last game"),
        )
    },
    **{
        f"teammates_absent_{what}_{signal}": f"last-10 {what} a game those teammates leave"
        for signal in AVAILABILITY_SIGNALS
        for what in ("minutes", "points")
    },
}

FEATURE_DESCRIPTIONS: dict[str, str] = {
    "points_avg_last_5": "mean points over the last 5 games before the day (any season)",
    "points_avg_last_10": "mean points over the last 10 games before the day (any season)",
    "points_avg_season": "mean points this season before the day; null before the first game",
    "points_std_last_10": "standard deviation of points over the last 10 games (needs 2)",
    "points_avg_prev_season": "mean points in the previous regular season; null if absent",
    "minutes_avg_last_10": "mean minutes over the last 10 games",
    "minutes_change": "mean minutes of the last 3 games minus the last-10 mean (needs 3)",
    "points_per_minute_last_10": "points per minute over the last 10 games",
    "games_played_season": "games this season before the day",
    "games_last_7_days": "the player's games in the 7 days before the day",
    "days_rest": "full days off since the player's last game; null without one",
    "back_to_back": "1 when the player's last game was the day before",
    "fatigue_score": "0-100 load score from back-to-backs, games in 7 days, minutes and rest",
    "rest_advantage": "team's rest days minus the opponent's, each capped at 3",
    "usage_last_10": "mean usage proxy over the last 10 games with a shooting box",
    "usage_trend": "mean usage of the last 3 games minus usage_last_10 (needs 3)",
    "recent_trend": "mean points of the last 3 games minus points_avg_last_10 (needs 3)",
    "is_home": "1 at home, 0 away",
    "is_playoffs": "1 for play-in and playoff games",
    "three_pt_rate_last_10": "3PA / FGA over the last 10 games with a shooting box",
    "ft_rate_last_10": "FTA / FGA over the last 10 games with a shooting box",
    "ts_pct_last_10": "true shooting over the last 10 games with a shooting box",
    "opponent_points_allowed_avg": "points per game the opponent allowed, its last 10 games",
    "opponent_def_rating": "points per 100 possessions the opponent allowed, its last 10 games",
    "opponent_pace": "the opponent's mean pace over its last 10 games",
    "team_pace": "the team's mean pace over its last 10 games",
    "team_off_rating": "the team's points per 100 possessions over its last 10 games",
    "team_win_rate": "the team's share of wins this season; null before its first game",
    **_MARKET_DESCRIPTIONS,
}

# The player's own form as of the day: the player_daily_cache columns after its keys.
CACHE_FEATURES = (
    "games_played_season",
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "points_avg_prev_season",
    "minutes_avg_last_10",
    "minutes_change",
    "points_per_minute_last_10",
    "usage_last_10",
    "usage_trend",
    "recent_trend",
    "three_pt_rate_last_10",
    "ft_rate_last_10",
    "ts_pct_last_10",
)

# The expected player and game a per-player row of the day is about.
PLAYER_DAY_COLUMNS = {
    "game_date": pl.Date(),
    "game_id": pl.String(),
    "player_id": pl.Int64(),
    "player_lookup": pl.String(),
    "team_abbr": pl.String(),
    "opponent_team_abbr": pl.String(),
}
_ONLY_BEFORE = " Uses only games before game_date."

player_daily_cache = TableSpec(
    dataset=DATASET,
    name="player_daily_cache",
    columns={
        **PLAYER_DAY_COLUMNS,
        "season": pl.String(),
        "last_game_date": pl.Date(),
        "games_played_season": pl.Int64(),
        **{c: pl.Float64() for c in CACHE_FEATURES[1:]},
    },
    key=("game_date", "player_id"),
    clustering=("player_lookup", "team_abbr"),
    description="Each expected player's rolling form as of the day." + _ONLY_BEFORE,
    column_descriptions={
        "last_game_date": "the player's last game before game_date, any season",
        **{c: d for c, d in FEATURE_DESCRIPTIONS.items() if c in CACHE_FEATURES},
    },
)

player_composite_factors = TableSpec(
    dataset=DATASET,
    name="player_composite_factors",
    columns={
        **PLAYER_DAY_COLUMNS,
        "fatigue_score": pl.Float64(),
        "rest_advantage": pl.Float64(),
        "pace_factor": pl.Float64(),
        "usage_trend": pl.Float64(),
        "recent_trend": pl.Float64(),
    },
    key=("game_date", "player_id"),
    clustering=("player_lookup", "team_abbr"),
    description="Each expected player's situational factors for the day: fatigue, rest against "
    "the opponent, expected pace, usage and scoring trends." + _ONLY_BEFORE,
    column_descriptions={
        "fatigue_score": FEATURE_DESCRIPTIONS["fatigue_score"],
        "rest_advantage": FEATURE_DESCRIPTIONS["rest_advantage"],
        "pace_factor": "mean of the team's and the opponent's pace over their last 10 games; "
        "null when either is unknown",
    },
)

team_defense_profile = TableSpec(
    dataset=DATASET,
    name="team_defense_profile",
    columns={
        "game_date": pl.Date(),
        "game_id": pl.String(),
        "team_id": pl.Int64(),
        "team_abbr": pl.String(),
        "opponent_team_abbr": pl.String(),
        "games_played_season": pl.Int64(),
        "points_allowed_avg_last_10": pl.Float64(),
        "points_allowed_avg_season": pl.Float64(),
        "def_rating_last_10": pl.Float64(),
        "def_rating_season": pl.Float64(),
        "opp_efg_pct_last_10": pl.Float64(),
        "pace_last_10": pl.Float64(),
    },
    key=("game_date", "team_id"),
    clustering=("team_abbr", "game_id"),
    description="Each team playing on the day: points and efficiency it allowed and its pace, "
    "over its last 10 games and the season so far." + _ONLY_BEFORE,
    column_descriptions={
        "def_rating_last_10": "100 * points allowed / possessions over the last 10 games with a "
        "shooting box; null without one",
        "pace_last_10": "mean pace over the last 10 games with a shooting box; null without one",
    },
)

ml_feature_store = TableSpec(
    dataset=DATASET,
    name="ml_feature_store",
    columns={
        **PLAYER_DAY_COLUMNS,
        "feature_set_version": pl.String(),
        **{name: pl.Float64() for name in FEATURES_V2},
        "feature_quality": pl.Float64(),
        "missing_inputs": pl.String(),
    },
    key=("game_date", "player_id"),
    clustering=("player_lookup", "team_abbr", "game_id"),
    description="One feature vector per expected player per game day (see feature_set_version)."
    + _ONLY_BEFORE,
    column_descriptions={
        **FEATURE_DESCRIPTIONS,
        "feature_set_version": "v2: box-score history and the market before tip-off; v1: "
        "box-score history only (market columns null)",
        "feature_quality": "0-100: weighted share of the v1 features that are not null",
        "missing_inputs": "comma-joined names of the null features (empty when none)",
    },
)

TABLES = (player_daily_cache, player_composite_factors, team_defense_profile, ml_feature_store)
