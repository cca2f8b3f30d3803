"""``nba_raw``: landed source payloads, validated and typed, one row per source record."""

import polars as pl

from nba_assets.tables.spec import TableSpec

DATASET = "nba_raw"

GAME_COLUMNS = {
    "game_date": pl.Date(),
    "game_id": pl.String(),
    "season": pl.String(),
    "season_type": pl.String(),
}
# Who played, for whom and where: every per-player-game table has these after GAME_COLUMNS.
PLAYER_GAME_COLUMNS = {
    "player_id": pl.Int64(),
    "player_name": pl.String(),
    "player_lookup": pl.String(),
    "team_id": pl.Int64(),
    "team_abbr": pl.String(),
    "opponent_team_abbr": pl.String(),
    "is_home": pl.Boolean(),
}
BOX_COLUMNS = {
    "wl": pl.String(),
    "minutes": pl.Float64(),
    "pts": pl.Int64(),
    "fgm": pl.Int64(),
    "fga": pl.Int64(),
    "fg3m": pl.Int64(),
    "fg3a": pl.Int64(),
    "ftm": pl.Int64(),
    "fta": pl.Int64(),
    "oreb": pl.Int64(),
    "dreb": pl.Int64(),
    "reb": pl.Int64(),
    "ast": pl.Int64(),
    "stl": pl.Int64(),
    "blk": pl.Int64(),
    "tov": pl.Int64(),
    "pf": pl.Int64(),
    "plus_minus": pl.Float64(),
}
_SHOOTING_NOTE = "null where the source season has no full shooting box (see the data README)"
# The box columns only the full league game log has. The replay archive's sources lack them on
# many days (its PROVENANCE.md): player rows have them throughout only in 2022-23 (2023-24 stops
# before the late playoffs; 2024-25 and 2025-26 cover only players with prop lines, regular
# season only; earlier seasons have none), team rows in every season but 2025-26, whose team logs
# have no minutes either. In any other season a payload with one of them null in every row
# means the source changed.
SHOOTING_BOX = ("fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "pf")
PLAYER_SEASONS_WITHOUT_SHOOTING_BOX = frozenset(
    {"2017-18", "2018-19", "2019-20", "2020-21", "2021-22", "2023-24", "2024-25", "2025-26"}
)
TEAM_SEASONS_WITHOUT_SHOOTING_BOX = frozenset({"2025-26"})

nbac_schedule = TableSpec(
    dataset=DATASET,
    name="nbac_schedule",
    columns={
        **GAME_COLUMNS,
        "game_status": pl.Int64(),
        "home_team_id": pl.Int64(),
        "home_team_abbr": pl.String(),
        "away_team_id": pl.Int64(),
        "away_team_abbr": pl.String(),
        "home_pts": pl.Int64(),
        "away_pts": pl.Int64(),
    },
    key=("game_id",),
    clustering=("game_id",),
    description="The day's games from the NBA.com scoreboard, with status (1 scheduled, 2 live,"
    " 3 final) and final scores.",
    # No scores before the games are played.
    nullable=frozenset({"home_pts", "away_pts"}),
)

nbac_player_boxscores = TableSpec(
    dataset=DATASET,
    name="nbac_player_boxscores",
    columns={
        **GAME_COLUMNS,
        **PLAYER_GAME_COLUMNS,
        **BOX_COLUMNS,
    },
    key=("game_id", "player_id"),
    clustering=("player_lookup", "game_id"),
    description="Player box scores of the day's finished games (NBA.com league game log): one row"
    " per player per finished game.",
    column_descriptions={c: _SHOOTING_NOTE for c in ("fgm", "fga", "fg3m", "fg3a", "ftm", "fta")},
    null_in_seasons={c: PLAYER_SEASONS_WITHOUT_SHOOTING_BOX for c in SHOOTING_BOX},
)

nbac_team_boxscores = TableSpec(
    dataset=DATASET,
    name="nbac_team_boxscores",
    columns={
        **GAME_COLUMNS,
        "team_id": pl.Int64(),
        "team_abbr": pl.String(),
        "opponent_team_abbr": pl.String(),
        "is_home": pl.Boolean(),
        **BOX_COLUMNS,
    },
    key=("game_id", "team_id"),
    clustering=("team_abbr", "game_id"),
    description="Team box scores of the day's finished games (NBA.com league game log): one row"
    " per team per finished game.",
    column_descriptions={c: _SHOOTING_NOTE for c in ("fgm", "fga", "fg3m", "fg3a", "ftm", "fta")},
    null_in_seasons={c: TEAM_SEASONS_WITHOUT_SHOOTING_BOX for c in (*SHOOTING_BOX, "minutes")},
)

nbac_player_list = TableSpec(
    dataset=DATASET,
    name="nbac_player_list",
    columns={
        "game_date": pl.Date(),
        "season": pl.String(),
        "player_id": pl.Int64(),
        "player_name": pl.String(),
        "player_lookup": pl.String(),
        "team_id": pl.Int64(),
        "team_abbr": pl.String(),
        "roster_status": pl.Int64(),
    },
    key=("game_date", "player_id"),
    clustering=("player_lookup", "team_abbr"),
    description="The season's NBA.com player list (rosters) as fetched on each game day.",
)

odds_events = TableSpec(
    dataset=DATASET,
    name="odds_events",
    columns={
        "game_date": pl.Date(),
        "event_id": pl.String(),
        "commence_time": pl.Datetime("us", "UTC"),
        "home_team": pl.String(),
        "away_team": pl.String(),
    },
    key=("event_id",),
    clustering=("event_id",),
    description="The day's NBA events as The Odds API lists them.",
)

odds_player_props = TableSpec(
    dataset=DATASET,
    name="odds_player_props",
    columns={
        "game_date": pl.Date(),
        "event_id": pl.String(),
        "commence_time": pl.Datetime("us", "UTC"),
        "home_team": pl.String(),
        "away_team": pl.String(),
        "bookmaker": pl.String(),
        "market": pl.String(),
        "player_name": pl.String(),
        "player_lookup": pl.String(),
        "player_id": pl.Int64(),
        "line": pl.Float64(),
        "over_price": pl.Float64(),
        "under_price": pl.Float64(),
        "last_update": pl.Datetime("us", "UTC"),
        "snapshot_time": pl.Datetime("us", "UTC"),
    },
    key=("event_id", "bookmaker", "market", "player_lookup", "snapshot_time"),
    clustering=("player_lookup", "market", "bookmaker"),
    description="The Odds API player props, append-only: one row per lines snapshot, book, market "
    "and player, from each event's payloads that changed since its last snapshot; player_id is "
    "null when the book's name matched no NBA.com player.",
    nullable=frozenset({"player_id"}),
)

TABLES = (
    nbac_schedule,
    nbac_player_boxscores,
    nbac_team_boxscores,
    nbac_player_list,
    odds_events,
    odds_player_props,
)
