"""Games table of the replay archive: the logs' games plus the schedule's, with tip-off times."""

from __future__ import annotations

import polars as pl

from nba_assets.replay.raw import RawReader, read_schedule

GAMES_SCHEMA = {
    "GAME_ID": pl.String,
    "GAME_DATE": pl.String,
    "SEASON": pl.String,
    "SEASON_TYPE": pl.String,
    "HOME_TEAM_ID": pl.Int64,
    "HOME_TEAM_ABBREVIATION": pl.String,
    "AWAY_TEAM_ID": pl.Int64,
    "AWAY_TEAM_ABBREVIATION": pl.String,
    "HOME_PTS": pl.Int64,
    "AWAY_PTS": pl.Int64,
    "GAME_TIME_UTC": pl.String,
}


def _parse_matchup(column: str) -> tuple[pl.Expr, pl.Expr]:
    """(home, away) abbreviations from a MATCHUP such as "BOS vs. NYK" or "BOS @ NYK"."""
    is_home = pl.col(column).str.contains(" vs. ", literal=True)
    parts = pl.col(column).str.replace(" vs. ", " @ ", literal=True).str.split(" @ ")
    first, second = parts.list.first(), parts.list.last()
    home = pl.when(is_home).then(first).otherwise(second)
    away = pl.when(is_home).then(second).otherwise(first)
    return home, away


def build_games(
    reader: RawReader, team_games: pl.DataFrame, teams: pl.DataFrame, props: pl.DataFrame
) -> pl.DataFrame:
    ids = teams.select("TEAM_ABBREVIATION", "TEAM_ID")
    home, away = _parse_matchup("MATCHUP")
    points = team_games.select("GAME_ID", "TEAM_ABBREVIATION", "PTS")
    from_logs = (
        team_games.filter(pl.col("GAME_ID").is_not_null())
        .unique("GAME_ID", keep="first", maintain_order=True)
        .select(
            "GAME_ID",
            "GAME_DATE",
            "SEASON",
            "SEASON_TYPE",
            home.alias("HOME_TEAM_ABBREVIATION"),
            away.alias("AWAY_TEAM_ABBREVIATION"),
        )
        .join(
            points.rename({"TEAM_ABBREVIATION": "HOME_TEAM_ABBREVIATION", "PTS": "HOME_PTS"}),
            on=["GAME_ID", "HOME_TEAM_ABBREVIATION"],
            how="left",
        )
        .join(
            points.rename({"TEAM_ABBREVIATION": "AWAY_TEAM_ABBREVIATION", "PTS": "AWAY_PTS"}),
            on=["GAME_ID", "AWAY_TEAM_ABBREVIATION"],
            how="left",
        )
        .join(
            ids.rename({"TEAM_ABBREVIATION": "HOME_TEAM_ABBREVIATION", "TEAM_ID": "HOME_TEAM_ID"}),
            on="HOME_TEAM_ABBREVIATION",
            how="left",
        )
        .join(
            ids.rename({"TEAM_ABBREVIATION": "AWAY_TEAM_ABBREVIATION", "TEAM_ID": "AWAY_TEAM_ID"}),
            on="AWAY_TEAM_ABBREVIATION",
            how="left",
        )
    )
    parts = [from_logs]
    schedule = read_schedule(reader)
    if schedule is not None:
        finished = pl.col("STATUS").cast(pl.Int64) == 3 if "STATUS" in schedule.columns else True
        parts.append(
            schedule.select(
                "GAME_ID",
                "GAME_DATE",
                pl.col("SEASON").cast(pl.String),
                "SEASON_TYPE",
                pl.col("HOME_ABBR").alias("HOME_TEAM_ABBREVIATION"),
                pl.col("AWAY_ABBR").alias("AWAY_TEAM_ABBREVIATION"),
                pl.when(finished).then(pl.col("HOME_PTS")).alias("HOME_PTS"),
                pl.when(finished).then(pl.col("AWAY_PTS")).alias("AWAY_PTS"),
                pl.col("HOME_TEAM_ID"),
                pl.col("AWAY_TEAM_ID"),
            )
        )
    # Log-derived rows first: their points are the box scores'; the schedule adds games that
    # are not in the logs yet.
    games = pl.concat(
        [
            p.select([pl.col(c).cast(t) for c, t in GAMES_SCHEMA.items() if c != "GAME_TIME_UTC"])
            for p in parts
        ]
    ).unique("GAME_ID", keep="first", maintain_order=True)
    return _with_game_times(games, teams, props).sort("GAME_DATE", "GAME_ID")


def _with_game_times(games: pl.DataFrame, teams: pl.DataFrame, props: pl.DataFrame) -> pl.DataFrame:
    """Adds the tip-off time (UTC) known from sportsbook events, matched by date and teams."""
    names = teams.select("TEAM_ID", "TEAM_FULL_NAME")
    times = props.group_by("game_date", "home_team", "away_team").agg(
        pl.col("commence_time").min().alias("GAME_TIME_UTC")
    )
    return (
        games.join(
            names.rename({"TEAM_ID": "HOME_TEAM_ID", "TEAM_FULL_NAME": "home_team"}),
            on="HOME_TEAM_ID",
            how="left",
        )
        .join(
            names.rename({"TEAM_ID": "AWAY_TEAM_ID", "TEAM_FULL_NAME": "away_team"}),
            on="AWAY_TEAM_ID",
            how="left",
        )
        .join(
            times,
            left_on=["GAME_DATE", "home_team", "away_team"],
            right_on=["game_date", "home_team", "away_team"],
            how="left",
        )
        .select(list(GAMES_SCHEMA))
    )
