"""Team and player tables of the replay archive, and the id lookups the game logs join with."""

from __future__ import annotations

import polars as pl

from nba_assets.replay.raw import RawReader, date10, read_schedule

# Abbreviations NBA.com used for franchises that have since been renamed or moved; the static
# team list only knows today's. Ids are the franchise ids NBA.com keeps for the history.
_HISTORICAL_ABBREVIATIONS = {
    "NJN": 1610612751,
    "NOH": 1610612740,
    "NOK": 1610612740,
    "SEA": 1610612760,
    "VAN": 1610612763,
    "CHH": 1610612766,
    "CHA": 1610612766,
    "PHO": 1610612756,
    "GOS": 1610612744,
    "UTH": 1610612762,
    "SAN": 1610612759,
}


def build_teams(reader: RawReader) -> pl.DataFrame:
    static = reader.read("nba_api_static_teams")
    logs = pl.concat(
        [
            f.select("TEAM_ID", "TEAM_ABBREVIATION", "TEAM_NAME", "GAME_DATE")
            for f in (
                reader.read("team_game_logs_lite_*"),
                reader.read("team_game_logs_*", exclude="_lite_"),
            )
            if f is not None
        ]
        or [
            pl.DataFrame(
                schema={
                    "TEAM_ID": pl.Int64,
                    "TEAM_ABBREVIATION": pl.String,
                    "TEAM_NAME": pl.String,
                    "GAME_DATE": pl.String,
                }
            )
        ],
        how="diagonal_relaxed",
    )
    # The game logs' spelling of a team ("LA Clippers") is what LeagueGameLog answers with; the
    # latest one wins.
    log_names = (
        logs.filter(pl.col("TEAM_ID").is_between(1610612737, 1610612766))
        .sort("GAME_DATE")
        .group_by("TEAM_ID")
        .agg(pl.col("TEAM_ABBREVIATION").last(), pl.col("TEAM_NAME").last())
    )
    if static is None:
        return log_names.with_columns(
            TEAM_CITY=pl.lit(None, pl.String),
            TEAM_NICKNAME=pl.col("TEAM_NAME").str.split(" ").list.last(),
            TEAM_FULL_NAME=pl.col("TEAM_NAME"),
        ).sort("TEAM_ID")
    static = static.select(
        pl.col("id").cast(pl.Int64).alias("TEAM_ID"),
        pl.col("abbreviation").alias("STATIC_ABBREVIATION"),
        pl.col("city").alias("TEAM_CITY"),
        pl.col("nickname").alias("TEAM_NICKNAME"),
        pl.col("full_name").alias("TEAM_FULL_NAME"),
    )
    return (
        static.join(log_names, on="TEAM_ID", how="left")
        .select(
            "TEAM_ID",
            pl.coalesce("TEAM_ABBREVIATION", "STATIC_ABBREVIATION").alias("TEAM_ABBREVIATION"),
            "TEAM_CITY",
            "TEAM_NICKNAME",
            pl.coalesce("TEAM_NAME", "TEAM_FULL_NAME").alias("TEAM_NAME"),
            "TEAM_FULL_NAME",
        )
        .with_columns(
            # NBA.com scoreboards name the city as the game logs do ("Golden State", "LA"), not
            # the static list's home city ("San Francisco").
            pl.coalesce(
                pl.when(pl.col("TEAM_NAME").str.ends_with(" " + pl.col("TEAM_NICKNAME"))).then(
                    pl.col("TEAM_NAME").str.head(
                        pl.col("TEAM_NAME").str.len_chars()
                        - pl.col("TEAM_NICKNAME").str.len_chars()
                        - 1
                    )
                ),
                "TEAM_CITY",
            ).alias("TEAM_CITY")
        )
        .sort("TEAM_ID")
    )


def build_abbreviation_ids(reader: RawReader, teams: pl.DataFrame) -> pl.DataFrame:
    """TEAM_ABBREVIATION -> TEAM_ID, today's abbreviations first, then historical ones."""
    pairs = [
        teams.select("TEAM_ABBREVIATION", "TEAM_ID"),
        pl.DataFrame(
            {
                "TEAM_ABBREVIATION": list(_HISTORICAL_ABBREVIATIONS),
                "TEAM_ID": list(_HISTORICAL_ABBREVIATIONS.values()),
            }
        ),
    ]
    for pattern, exclude in (("team_game_logs_*", "_lite_"), ("team_box_leaguegamelog_*", None)):
        frame = reader.read(pattern, exclude)
        if frame is not None:
            pairs.append(
                frame.filter(pl.col("TEAM_ID").is_between(1610612737, 1610612766)).select(
                    "TEAM_ABBREVIATION", pl.col("TEAM_ID").cast(pl.Int64)
                )
            )
    return pl.concat(pairs).unique("TEAM_ABBREVIATION", keep="first", maintain_order=True)


def build_game_ids(reader: RawReader, abbreviation_ids: pl.DataFrame) -> pl.DataFrame:
    """(GAME_DATE, TEAM_ABBREVIATION) -> GAME_ID for every served game type."""
    parts = []
    full = reader.read("team_game_logs_*", exclude="_lite_")
    if full is not None:
        parts.append(
            full.filter(
                pl.col("SEASON_ID").cast(pl.String).str.slice(0, 1).is_in(["2", "4", "5"])
            ).select(date10("GAME_DATE").alias("GAME_DATE"), "TEAM_ABBREVIATION", "GAME_ID")
        )
    box = reader.read("team_box_leaguegamelog_*")
    if box is not None:
        parts.append(
            box.select(date10("GAME_DATE").alias("GAME_DATE"), "TEAM_ABBREVIATION", "GAME_ID")
        )
    schedule = read_schedule(reader)
    if schedule is not None:
        for side in ("HOME", "AWAY"):
            parts.append(
                schedule.select(
                    "GAME_DATE", pl.col(f"{side}_ABBR").alias("TEAM_ABBREVIATION"), "GAME_ID"
                )
            )
    if not parts:
        return pl.DataFrame(
            schema={"GAME_DATE": pl.String, "TEAM_ABBREVIATION": pl.String, "GAME_ID": pl.String}
        )
    return (
        pl.concat(parts, how="diagonal_relaxed")
        .with_columns(pl.col("GAME_ID").cast(pl.String).str.zfill(10))
        .unique(["GAME_DATE", "TEAM_ABBREVIATION"], keep="first", maintain_order=True)
    )


def build_players(reader: RawReader, player_games: pl.DataFrame) -> pl.DataFrame:
    from_games = (
        player_games.sort("GAME_DATE")
        .group_by("SEASON", "PLAYER_ID")
        .agg(
            pl.col("PLAYER_NAME").last(),
            pl.col("TEAM_ID").first().alias("FIRST_TEAM_ID"),
        )
    )
    parts = [from_games]
    index = reader.read("player_season_index_*")
    if index is not None:
        # Regular-season rows first so a player's first team is his regular-season team.
        parts.append(
            index.with_columns(
                (pl.col("SEASON_TYPE") != "Regular Season").alias("_not_rs")
                if "SEASON_TYPE" in index.columns
                else pl.lit(False).alias("_not_rs")
            )
            .sort("_not_rs", maintain_order=True)
            .group_by("SEASON", "PLAYER_ID", maintain_order=True)
            .agg(
                pl.col("PLAYER_NAME").first(),
                pl.col("TEAM_ID").cast(pl.Int64).first().alias("FIRST_TEAM_ID"),
            )
        )
    players = pl.concat(
        [
            p.select(
                pl.col("SEASON").cast(pl.String),
                pl.col("PLAYER_ID").cast(pl.Int64),
                pl.col("PLAYER_NAME").cast(pl.String),
                pl.col("FIRST_TEAM_ID").cast(pl.Int64),
            )
            for p in parts
        ]
    ).unique(["SEASON", "PLAYER_ID"], keep="first", maintain_order=True)
    static = reader.read("nba_api_static_players")
    if static is not None:
        players = players.join(
            static.select(
                pl.col("id").cast(pl.Int64).alias("PLAYER_ID"),
                pl.col("first_name").alias("FIRST_NAME"),
                pl.col("last_name").alias("LAST_NAME"),
            ),
            on="PLAYER_ID",
            how="left",
        )
    else:
        players = players.with_columns(
            FIRST_NAME=pl.lit(None, pl.String), LAST_NAME=pl.lit(None, pl.String)
        )
    # Without a static entry, split the display name at its first space ("Nikola Jokić").
    split = pl.col("PLAYER_NAME").str.splitn(" ", 2).struct
    start_year = pl.col("SEASON").str.slice(0, 4).cast(pl.Int64)
    return players.with_columns(
        pl.coalesce("FIRST_NAME", split.field("field_0")).alias("FIRST_NAME"),
        pl.coalesce("LAST_NAME", split.field("field_1"), pl.lit("")).alias("LAST_NAME"),
        start_year.min().over("PLAYER_ID").alias("FROM_YEAR"),
        start_year.max().over("PLAYER_ID").alias("TO_YEAR"),
    ).sort("SEASON", "PLAYER_ID")
