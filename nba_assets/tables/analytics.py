"""``nba_analytics``: one row per player or team per game, and the day's context before tip-off."""

import polars as pl

from nba_assets.tables.raw import BOX_COLUMNS, GAME_COLUMNS, PLAYER_GAME_COLUMNS
from nba_assets.tables.spec import TableSpec

DATASET = "nba_analytics"

_NO_BOX = "null where the season has no full shooting box"
_REST = (
    "full days off since the previous game, any season (0 = back-to-back); null before the first"
)

player_game_summary = TableSpec(
    dataset=DATASET,
    name="player_game_summary",
    columns={
        **GAME_COLUMNS,
        **PLAYER_GAME_COLUMNS,
        "starter": pl.Boolean(),
        **BOX_COLUMNS,
        "ts_pct": pl.Float64(),
        "efg_pct": pl.Float64(),
        "usage_rate": pl.Float64(),
        "days_rest": pl.Int64(),
        "points_line": pl.Float64(),
        "line_books": pl.Int64(),
        "over_under_result": pl.String(),
    },
    key=("game_id", "player_id"),
    clustering=("player_lookup", "game_id"),
    description="One row per player per game: box score, efficiency, rest and the day's line.",
    column_descriptions={
        "starter": "always null: no source gives the starting five",
        "ts_pct": "pts / (2 * (fga + 0.44 * fta)); " + _NO_BOX + " or without attempts",
        "efg_pct": "(fgm + 0.5 * fg3m) / fga; " + _NO_BOX + " or without field-goal attempts",
        "usage_rate": "usage proxy (fga + 0.44 * fta + tov) / the team's same; " + _NO_BOX,
        "days_rest": _REST,
        "points_line": "median player_points line across books that day; null without a line",
        "line_books": "books quoting the line; null without a line",
        "over_under_result": "OVER / UNDER / PUSH of pts against points_line; null without a line",
    },
)

_TEAM_GAME = {
    **GAME_COLUMNS,
    "team_id": pl.Int64(),
    "team_abbr": pl.String(),
    "opponent_team_id": pl.Int64(),
    "opponent_team_abbr": pl.String(),
    "is_home": pl.Boolean(),
    "wl": pl.String(),
    "minutes": pl.Float64(),
}
_RATINGS = {
    "possessions": "fga + 0.44 * fta - oreb + tov; " + _NO_BOX,
    "game_possessions": "mean of both teams' possessions; " + _NO_BOX,
    "pace": "game possessions per 48 minutes; " + _NO_BOX + " or the team's minutes",
}

team_offense_game_summary = TableSpec(
    dataset=DATASET,
    name="team_offense_game_summary",
    columns={
        **_TEAM_GAME,
        "pts": pl.Int64(),
        "fgm": pl.Int64(),
        "fga": pl.Int64(),
        "fg3m": pl.Int64(),
        "fg3a": pl.Int64(),
        "ftm": pl.Int64(),
        "fta": pl.Int64(),
        "oreb": pl.Int64(),
        "reb": pl.Int64(),
        "ast": pl.Int64(),
        "tov": pl.Int64(),
        "efg_pct": pl.Float64(),
        "ts_pct": pl.Float64(),
        "possessions": pl.Float64(),
        "game_possessions": pl.Float64(),
        "pace": pl.Float64(),
        "off_rating": pl.Float64(),
    },
    key=("game_id", "team_id"),
    clustering=("team_abbr", "game_id"),
    description="One row per team per game: points scored, shooting efficiency, possessions, pace.",
    column_descriptions={**_RATINGS, "off_rating": "100 * pts / game_possessions; " + _NO_BOX},
)

team_defense_game_summary = TableSpec(
    dataset=DATASET,
    name="team_defense_game_summary",
    columns={
        **_TEAM_GAME,
        "points_allowed": pl.Int64(),
        "opp_fgm": pl.Int64(),
        "opp_fga": pl.Int64(),
        "opp_fg3m": pl.Int64(),
        "opp_fg3a": pl.Int64(),
        "opp_fta": pl.Int64(),
        "opp_oreb": pl.Int64(),
        "opp_tov": pl.Int64(),
        "dreb": pl.Int64(),
        "stl": pl.Int64(),
        "blk": pl.Int64(),
        "opp_efg_pct": pl.Float64(),
        "opp_ts_pct": pl.Float64(),
        "opp_possessions": pl.Float64(),
        "game_possessions": pl.Float64(),
        "pace": pl.Float64(),
        "def_rating": pl.Float64(),
    },
    key=("game_id", "team_id"),
    clustering=("team_abbr", "game_id"),
    description="One row per team per game: points and efficiency allowed, possessions, pace.",
    column_descriptions={
        **{k: v for k, v in _RATINGS.items() if k != "possessions"},
        "opp_possessions": "the opponent's fga + 0.44 * fta - oreb + tov; " + _NO_BOX,
        "def_rating": "100 * points_allowed / game_possessions; " + _NO_BOX,
    },
)

upcoming_team_game_context = TableSpec(
    dataset=DATASET,
    name="upcoming_team_game_context",
    columns={
        **GAME_COLUMNS,
        "team_id": pl.Int64(),
        "team_abbr": pl.String(),
        "opponent_team_id": pl.Int64(),
        "opponent_team_abbr": pl.String(),
        "is_home": pl.Boolean(),
        "team_game_number": pl.Int64(),
        "days_rest": pl.Int64(),
        "back_to_back": pl.Boolean(),
        "games_last_7_days": pl.Int64(),
        "opponent_days_rest": pl.Int64(),
        "opponent_back_to_back": pl.Boolean(),
    },
    key=("game_id", "team_id"),
    clustering=("team_abbr", "game_id"),
    description="Each team playing on the day, from the morning schedule: opponent, venue, rest.",
    column_descriptions={
        "team_game_number": "the game's number in the team's season (scheduled games)",
        "days_rest": _REST,
        "games_last_7_days": "the team's games in the 7 days before game_date",
    },
)

upcoming_player_game_context = TableSpec(
    dataset=DATASET,
    name="upcoming_player_game_context",
    columns={
        **GAME_COLUMNS,
        **PLAYER_GAME_COLUMNS,
        "days_rest": pl.Int64(),
        "back_to_back": pl.Boolean(),
        "games_last_7_days": pl.Int64(),
        "points_line": pl.Float64(),
        "line_books": pl.Int64(),
        "on_player_list": pl.Boolean(),
        "has_recent_activity": pl.Boolean(),
    },
    key=("game_date", "player_id"),
    clustering=("player_lookup", "team_abbr"),
    description="Each player expected to play on the day, built in the morning from the schedule, "
    "the player list and earlier box scores only: team, opponent, rest and the day's points line.",
    column_descriptions={
        "team_abbr": "team of the player's last box-score game this season, else the list's team",
        "days_rest": _REST,
        "games_last_7_days": "the player's games in the 7 days before game_date",
        "points_line": "median player_points line across books; null without a line",
        "on_player_list": "the player is on the latest player list fetched on or before the day",
        "has_recent_activity": "the player played for this team in one of its last 5 games",
    },
)

TABLES = (
    player_game_summary,
    team_offense_game_summary,
    team_defense_game_summary,
    upcoming_team_game_context,
    upcoming_player_game_context,
)
