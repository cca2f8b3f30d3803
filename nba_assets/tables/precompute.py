"""``nba_precompute``: each expected player's and team's form as of the morning of the day."""

import polars as pl

from nba_assets.lib.features import CACHE_FEATURES, FEATURE_DESCRIPTIONS, FEATURES_V1
from nba_assets.tables.spec import TableSpec

DATASET = "nba_precompute"

_PLAYER_DAY = {
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
        **_PLAYER_DAY,
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
        **_PLAYER_DAY,
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
        **_PLAYER_DAY,
        "feature_set_version": pl.String(),
        **{name: pl.Float64() for name in FEATURES_V1},
        "feature_quality": pl.Float64(),
        "missing_inputs": pl.String(),
    },
    key=("game_date", "player_id"),
    clustering=("player_lookup", "team_abbr", "game_id"),
    description="One feature vector per expected player per game day (see feature_set_version)."
    + _ONLY_BEFORE,
    column_descriptions={
        **FEATURE_DESCRIPTIONS,
        "feature_quality": "0-100: weighted share of the features that are not null",
        "missing_inputs": "comma-joined names of the null features (empty when none)",
    },
)

TABLES = (player_daily_cache, player_composite_factors, team_defense_profile, ml_feature_store)
