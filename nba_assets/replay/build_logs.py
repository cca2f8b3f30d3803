"""Player and team game logs of the replay archive, in NBA.com LeagueGameLog shape."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from nba_assets.replay.raw import (
    RawReader,
    date10,
    nan_to_null,
    normalised_season_type,
    season_id,
)
from nba_assets.replay.stats_headers import PLAYER_LOG_HEADERS, TEAM_LOG_HEADERS

SHOOTING_BOX = ("FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "PF")

_INT_COLUMNS = {
    "PLAYER_ID",
    "TEAM_ID",
    "MIN",
    "FGM",
    "FGA",
    "FG3M",
    "FG3A",
    "FTM",
    "FTA",
    "OREB",
    "DREB",
    "REB",
    "AST",
    "STL",
    "BLK",
    "TOV",
    "PF",
    "PTS",
    "PLUS_MINUS",
    "VIDEO_AVAILABLE",
}
_FLOAT_COLUMNS = {"FG_PCT", "FG3_PCT", "FT_PCT", "FANTASY_PTS"}


def _attach_ids(
    frame: pl.DataFrame,
    teams: pl.DataFrame,
    abbreviation_ids: pl.DataFrame,
    game_ids: pl.DataFrame,
) -> pl.DataFrame:
    """Adds TEAM_ID, TEAM_NAME, GAME_ID and SEASON_ID to a lite game log."""
    if "TEAM_ID" in frame.columns:
        frame = frame.drop("TEAM_ID")
    if "TEAM_NAME" in frame.columns:
        frame = frame.drop("TEAM_NAME")
    if "GAME_ID" in frame.columns:
        frame = frame.rename({"GAME_ID": "GAME_ID_BASE"})
    frame = (
        frame.with_columns(
            date10("GAME_DATE").alias("GAME_DATE"),
            normalised_season_type("SEASON_TYPE").alias("SEASON_TYPE"),
        )
        .join(abbreviation_ids, on="TEAM_ABBREVIATION", how="left")
        .join(teams.select("TEAM_ID", "TEAM_NAME"), on="TEAM_ID", how="left")
        .join(game_ids, on=["GAME_DATE", "TEAM_ABBREVIATION"], how="left")
        .with_columns(season_id())
    )
    if "GAME_ID_BASE" in frame.columns:
        frame = frame.with_columns(
            pl.coalesce(pl.col("GAME_ID_BASE").cast(pl.String), "GAME_ID").alias("GAME_ID")
        ).drop("GAME_ID_BASE")
    return frame


def _with_headers(frame: pl.DataFrame, headers: Sequence[str]) -> pl.DataFrame:
    """Selects LeagueGameLog headers (null where unknown) with NBA.com's types."""
    columns = []
    for header in headers:
        expr = pl.col(header) if header in frame.columns else pl.lit(None)
        if header in _INT_COLUMNS:
            expr = expr.cast(pl.Float64).round(0).cast(pl.Int64)
        elif header in _FLOAT_COLUMNS:
            expr = expr.cast(pl.Float64)
        else:
            expr = expr.cast(pl.String)
        columns.append(expr.alias(header))
    columns += [pl.col("SEASON").cast(pl.String), pl.col("SEASON_TYPE")]
    return nan_to_null(frame.select(columns))


def build_player_games(
    reader: RawReader,
    teams: pl.DataFrame,
    abbreviation_ids: pl.DataFrame,
    game_ids: pl.DataFrame,
) -> pl.DataFrame:
    base = reader.read("player_game_logs_lite_*")
    if base is None:
        raise FileNotFoundError(f"{reader.folder} holds no player_game_logs_lite_* file")
    base = _attach_ids(base, teams, abbreviation_ids, game_ids).drop(
        [c for c in (*SHOOTING_BOX, "FANTASY_PTS", "VIDEO_AVAILABLE") if c in base.columns]
    )
    box_parts = []
    full = reader.read("player_box_leaguegamelog_*")
    if full is not None:
        box_parts.append(
            full.select(
                pl.col("PLAYER_ID").cast(pl.Int64),
                date10("GAME_DATE").alias("GAME_DATE"),
                pl.col("GAME_ID").cast(pl.String).str.zfill(10).alias("BOX_GAME_ID"),
                *(pl.col(c).cast(pl.Float64) for c in SHOOTING_BOX),
                pl.col("FANTASY_PTS").cast(pl.Float64),
                pl.col("VIDEO_AVAILABLE").cast(pl.Float64),
            )
        )
    prop_players = reader.read("player_box_prop_players_*")
    if prop_players is not None:
        renames = {
            "fgm": "FGM",
            "fga": "FGA",
            "threes_made": "FG3M",
            "threes_attempted": "FG3A",
            "ftm": "FTM",
            "fta": "FTA",
            "oreb": "OREB",
            "dreb": "DREB",
            "pf": "PF",
        }
        box_parts.append(
            prop_players.select(
                pl.col("player_id").cast(pl.Int64).alias("PLAYER_ID"),
                date10("date").alias("GAME_DATE"),
                *(pl.col(src).cast(pl.Float64).alias(dst) for src, dst in renames.items()),
            )
        )
    if box_parts:
        # The full league game log is the better source where both have a player-game.
        box = pl.concat(box_parts, how="diagonal_relaxed").unique(
            ["PLAYER_ID", "GAME_DATE"], keep="first", maintain_order=True
        )
        base = base.join(box, on=["PLAYER_ID", "GAME_DATE"], how="left")
        if "BOX_GAME_ID" in base.columns:
            base = base.with_columns(pl.coalesce("GAME_ID", "BOX_GAME_ID").alias("GAME_ID"))
    return _with_headers(base, PLAYER_LOG_HEADERS).sort(
        "GAME_DATE", "GAME_ID", "TEAM_ID", "PLAYER_ID"
    )


def build_team_games(
    reader: RawReader,
    teams: pl.DataFrame,
    abbreviation_ids: pl.DataFrame,
    game_ids: pl.DataFrame,
) -> pl.DataFrame:
    base = reader.read("team_game_logs_lite_*")
    if base is None:
        return _with_headers(
            pl.DataFrame(schema={"SEASON": pl.String, "SEASON_TYPE": pl.String}), TEAM_LOG_HEADERS
        )
    base = _attach_ids(base, teams, abbreviation_ids, game_ids).drop(
        [c for c in (*SHOOTING_BOX, "MIN", "VIDEO_AVAILABLE") if c in base.columns]
    )
    box_parts = []
    for pattern, exclude in (("team_box_leaguegamelog_*", None), ("team_game_logs_*", "_lite_")):
        frame = reader.read(pattern, exclude)
        if frame is None:
            continue
        if "VIDEO_AVAILABLE" not in frame.columns:
            frame = frame.with_columns(VIDEO_AVAILABLE=pl.lit(None, pl.Float64))
        box_parts.append(
            frame.filter(
                pl.col("SEASON_ID").cast(pl.String).str.slice(0, 1).is_in(["2", "4", "5"])
            ).select(
                date10("GAME_DATE").alias("GAME_DATE"),
                "TEAM_ABBREVIATION",
                *(pl.col(c).cast(pl.Float64) for c in (*SHOOTING_BOX, "MIN", "VIDEO_AVAILABLE")),
            )
        )
    if box_parts:
        box = pl.concat(box_parts, how="diagonal_relaxed").unique(
            ["GAME_DATE", "TEAM_ABBREVIATION"], keep="first", maintain_order=True
        )
        base = base.join(box, on=["GAME_DATE", "TEAM_ABBREVIATION"], how="left")
    return _with_headers(base, TEAM_LOG_HEADERS).sort("GAME_DATE", "GAME_ID", "TEAM_ID")
