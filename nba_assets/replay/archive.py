"""Replay archive: normalised NBA and sportsbook tables, built from raw files, stored as parquet."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import polars as pl

SHIPPED_ARCHIVE = Path(__file__).resolve().parent / "archive"
MANIFEST_FILE = "manifest.json"
ARCHIVE_FORMAT = 1
ET_ZONE = "America/New_York"

# Finished-game types the replay serves; preseason, All-Star and the NBA Cup final count in no
# season log (the lite logs, our base, carry none of them), so they are left out everywhere.
SEASON_TYPES = ("Regular Season", "PlayIn", "Playoffs")
_SEASON_TYPE_ALIASES = {
    "Regular Season": "Regular Season",
    "Playoffs": "Playoffs",
    "PlayIn": "PlayIn",
    "Play-In": "PlayIn",
    "Play In": "PlayIn",
}
# First digit of an NBA.com SEASON_ID / GAME_ID by season type.
SEASON_TYPE_DIGIT = {"Regular Season": "2", "Playoffs": "4", "PlayIn": "5"}

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

SHOOTING_BOX = ("FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "PF")

PLAYER_LOG_HEADERS = (
    "SEASON_ID",
    "PLAYER_ID",
    "PLAYER_NAME",
    "TEAM_ID",
    "TEAM_ABBREVIATION",
    "TEAM_NAME",
    "GAME_ID",
    "GAME_DATE",
    "MATCHUP",
    "WL",
    "MIN",
    "FGM",
    "FGA",
    "FG_PCT",
    "FG3M",
    "FG3A",
    "FG3_PCT",
    "FTM",
    "FTA",
    "FT_PCT",
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
    "FANTASY_PTS",
    "VIDEO_AVAILABLE",
)
TEAM_LOG_HEADERS = tuple(
    h for h in PLAYER_LOG_HEADERS if h not in ("PLAYER_ID", "PLAYER_NAME", "FANTASY_PTS")
)

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
PROPS_SCHEMA = {
    "game_date": pl.String,
    "event_id": pl.String,
    "commence_time": pl.String,
    "home_team": pl.String,
    "away_team": pl.String,
    "bookmaker": pl.String,
    "market": pl.String,
    "player": pl.String,
    "line": pl.Float64,
    "over_odds": pl.Float64,
    "under_odds": pl.Float64,
    "snapshot_time": pl.String,
    "last_update": pl.String,
}


@dataclass(frozen=True)
class Archive:
    """The normalised tables the replay server answers from.

    Attributes:
        teams: one row per franchise (TEAM_ID, abbreviation, city, nickname, names).
        games: one row per game (ids, date, season, season type, home/away teams and points).
        player_games: player rows in NBA.com LeagueGameLog shape plus SEASON and SEASON_TYPE.
        team_games: team rows in LeagueGameLog shape plus SEASON and SEASON_TYPE.
        players: one row per player and season with names, first team and career span.
        props: one row per sportsbook line (event, book, market, player, snapshot time).
    """

    teams: pl.DataFrame
    games: pl.DataFrame
    player_games: pl.DataFrame
    team_games: pl.DataFrame
    players: pl.DataFrame
    props: pl.DataFrame

    @classmethod
    def table_names(cls) -> tuple[str, ...]:
        """Names of the archive's tables, in storage order."""
        return tuple(f.name for f in fields(cls))

    def row_counts(self) -> dict[str, int]:
        """Number of rows of every table."""
        return {name: getattr(self, name).height for name in self.table_names()}

    def save(self, out: Path, sources: Sequence[str] = ()) -> None:
        """Write every table as zstd parquet plus a manifest into `out`.

        Args:
            out: target folder (created when missing; existing tables are replaced).
            sources: names of the raw files the archive was built from, kept in the manifest.
        """
        out.mkdir(parents=True, exist_ok=True)
        for name in self.table_names():
            getattr(self, name).write_parquet(
                out / f"{name}.parquet", compression="zstd", compression_level=19, statistics=False
            )
        manifest = {
            "format": ARCHIVE_FORMAT,
            "tables": self.row_counts(),
            "sources": sorted(sources),
        }
        (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Archive:
        """Read an archive written by `save`.

        Raises:
            FileNotFoundError: when `path` holds no manifest or a table is missing.
            ValueError: when the manifest's format or row counts do not match the tables.
        """
        manifest = json.loads((path / MANIFEST_FILE).read_text())
        if manifest.get("format") != ARCHIVE_FORMAT:
            raise ValueError(f"{path}: archive format {manifest.get('format')!r} is not supported")
        tables = {name: pl.read_parquet(path / f"{name}.parquet") for name in cls.table_names()}
        archive = cls(**tables)
        if archive.row_counts() != manifest["tables"]:
            raise ValueError(
                f"{path}: row counts {archive.row_counts()} differ from manifest "
                f"{manifest['tables']}"
            )
        return archive


def load_archive(path: Path | None = None) -> Archive:
    """Load the shipped archive, a saved archive folder, or build one from a raw data folder.

    Args:
        path: None for the archive shipped with the package; a folder holding `manifest.json`
            for a saved archive; otherwise a folder of raw files in the shapes of the project's
            data folder, built in memory.

    Raises:
        FileNotFoundError: when `path` does not exist or holds no usable files.
    """
    folder = SHIPPED_ARCHIVE if path is None else Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"replay data folder {folder} does not exist")
    if (folder / MANIFEST_FILE).is_file():
        return Archive.load(folder)
    archive, _ = build_archive(folder)
    return archive


def build_archive(data_dir: Path) -> tuple[Archive, list[str]]:
    """Build the archive from a folder of raw files.

    Args:
        data_dir: folder with files named like `player_game_logs_lite_*.parquet`,
            `props_all_markets_snapshots_*.parquet`, ... (parquet or csv).

    Returns:
        The archive and the names of the raw files it was built from.

    Raises:
        FileNotFoundError: when the folder has no player game logs.
    """
    reader = _RawReader(Path(data_dir))
    if not reader.files("player_game_logs_lite_*"):
        raise FileNotFoundError(f"{data_dir} holds no player_game_logs_lite_* file")
    teams = _build_teams(reader)
    abbreviation_ids = _abbreviation_ids(reader, teams)
    game_ids = _game_ids(reader, abbreviation_ids)
    player_games = _build_player_games(reader, teams, abbreviation_ids, game_ids)
    team_games = _build_team_games(reader, teams, abbreviation_ids, game_ids)
    props = _build_props(reader)
    games = _build_games(reader, team_games, teams, props)
    players = _build_players(reader, player_games)
    archive = Archive(
        teams=teams,
        games=games,
        player_games=player_games,
        team_games=team_games,
        players=players,
        props=props,
    )
    return archive, sorted(reader.used)


class _RawReader:
    """Reads every raw file matching a name pattern (parquet or csv) and records what it read."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise FileNotFoundError(f"raw data folder {folder} does not exist")
        self.folder = folder
        self.used: set[str] = set()

    def files(self, pattern: str, exclude: str | None = None) -> list[Path]:
        found = sorted(
            p
            for suffix in (".parquet", ".csv")
            for p in self.folder.glob(pattern + suffix)
            if exclude is None or exclude not in p.name
        )
        return found

    def read(self, pattern: str, exclude: str | None = None) -> pl.DataFrame | None:
        frames = []
        for path in self.files(pattern, exclude):
            frame = (
                pl.read_parquet(path)
                if path.suffix == ".parquet"
                else pl.read_csv(path, infer_schema_length=None)
            )
            self.used.add(path.name)
            frames.append(frame)
        if not frames:
            return None
        # Files of the same kind drift in column order and types between seasons; line them up
        # by name and let polars find the common type.
        return pl.concat(frames, how="diagonal_relaxed")


def _date10(column: str) -> pl.Expr:
    """A date column normalised to its first ten characters (YYYY-MM-DD)."""
    return pl.col(column).cast(pl.String).str.slice(0, 10)


def _season_type(column: str) -> pl.Expr:
    return pl.col(column).replace_strict(_SEASON_TYPE_ALIASES, default=None)


def _season_id() -> pl.Expr:
    digit = pl.col("SEASON_TYPE").replace_strict(SEASON_TYPE_DIGIT, default="2")
    return pl.concat_str([digit, pl.col("SEASON").str.slice(0, 4)]).alias("SEASON_ID")


def _nan_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    floats = [name for name, dtype in frame.schema.items() if dtype in (pl.Float32, pl.Float64)]
    return frame.with_columns(pl.col(c).fill_nan(None) for c in floats)


def _build_teams(reader: _RawReader) -> pl.DataFrame:
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


def _abbreviation_ids(reader: _RawReader, teams: pl.DataFrame) -> pl.DataFrame:
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


def _game_ids(reader: _RawReader, abbreviation_ids: pl.DataFrame) -> pl.DataFrame:
    """(GAME_DATE, TEAM_ABBREVIATION) -> GAME_ID for every served game type."""
    parts = []
    full = reader.read("team_game_logs_*", exclude="_lite_")
    if full is not None:
        parts.append(
            full.filter(
                pl.col("SEASON_ID").cast(pl.String).str.slice(0, 1).is_in(["2", "4", "5"])
            ).select(_date10("GAME_DATE").alias("GAME_DATE"), "TEAM_ABBREVIATION", "GAME_ID")
        )
    box = reader.read("team_box_leaguegamelog_*")
    if box is not None:
        parts.append(
            box.select(_date10("GAME_DATE").alias("GAME_DATE"), "TEAM_ABBREVIATION", "GAME_ID")
        )
    schedule = _read_schedule(reader)
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


def _read_schedule(reader: _RawReader) -> pl.DataFrame | None:
    schedule = reader.read("schedule_*")
    if schedule is None:
        return None
    return schedule.with_columns(
        _date10("GAME_DATE").alias("GAME_DATE"),
        pl.col("GAME_ID").cast(pl.String).str.zfill(10),
        _season_type("STAGE").alias("SEASON_TYPE"),
    ).filter(pl.col("SEASON_TYPE").is_not_null())


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
            _date10("GAME_DATE").alias("GAME_DATE"),
            _season_type("SEASON_TYPE").alias("SEASON_TYPE"),
        )
        .join(abbreviation_ids, on="TEAM_ABBREVIATION", how="left")
        .join(teams.select("TEAM_ID", "TEAM_NAME"), on="TEAM_ID", how="left")
        .join(game_ids, on=["GAME_DATE", "TEAM_ABBREVIATION"], how="left")
        .with_columns(_season_id())
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
    return _nan_to_null(frame.select(columns))


def _build_player_games(
    reader: _RawReader,
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
                _date10("GAME_DATE").alias("GAME_DATE"),
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
                _date10("date").alias("GAME_DATE"),
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


def _build_team_games(
    reader: _RawReader,
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
                _date10("GAME_DATE").alias("GAME_DATE"),
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


def _parse_matchup(column: str) -> tuple[pl.Expr, pl.Expr]:
    """(home, away) abbreviations from a MATCHUP such as "BOS vs. NYK" or "BOS @ NYK"."""
    is_home = pl.col(column).str.contains(" vs. ", literal=True)
    parts = pl.col(column).str.replace(" vs. ", " @ ", literal=True).str.split(" @ ")
    first, second = parts.list.first(), parts.list.last()
    home = pl.when(is_home).then(first).otherwise(second)
    away = pl.when(is_home).then(second).otherwise(first)
    return home, away


def _build_games(
    reader: _RawReader, team_games: pl.DataFrame, teams: pl.DataFrame, props: pl.DataFrame
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
    schedule = _read_schedule(reader)
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


def _build_players(reader: _RawReader, player_games: pl.DataFrame) -> pl.DataFrame:
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


def _utc_text(expr: pl.Expr) -> pl.Expr:
    return expr.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_utc(column: str) -> pl.Expr:
    """Parses ISO timestamps; those without an offset are UTC."""
    text = pl.col(column).cast(pl.String).str.replace(r"Z$", "+00:00")
    with_zone = text.str.contains(r"[+-]\d\d:?\d\d$")
    return (
        pl.when(with_zone)
        .then(text)
        .otherwise(text + "+00:00")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_zone="UTC", strict=False)
    )


def _props_frame(frame: pl.DataFrame, event_ids: pl.Expr) -> pl.DataFrame:
    commence = _parse_utc("game_time")
    frame = frame.with_columns(
        commence.alias("_commence"),
        event_ids.alias("event_id"),
    ).with_columns(
        pl.col("_commence")
        .dt.convert_time_zone(ET_ZONE)
        .dt.date()
        .cast(pl.String)
        .alias("game_date")
    )
    label = (
        _parse_utc("snapshot_label")
        if "snapshot_label" in frame.columns
        else pl.lit(None, pl.Datetime("us", "UTC"))
    )
    # Files without a label were pulled before tip-off on game day; 17:00 UTC is noon ET, the
    # time the labelled pulls were made, but never later than the tip-off itself.
    default_snapshot = pl.min_horizontal(
        (pl.col("game_date") + "T17:00:00+00:00").str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%z", time_zone="UTC"
        ),
        pl.col("_commence"),
    )
    teams = pl.col("game").str.split(" @ ")
    last_update = (
        _utc_text(_parse_utc("bookmaker_last_update"))
        if "bookmaker_last_update" in frame.columns
        else pl.lit(None, pl.String)
    )
    return frame.select(
        "game_date",
        "event_id",
        _utc_text(pl.col("_commence")).alias("commence_time"),
        teams.list.last().alias("home_team"),
        teams.list.first().alias("away_team"),
        "bookmaker",
        "market",
        "player",
        pl.col("line").cast(pl.Float64),
        pl.col("over_odds").cast(pl.Float64),
        pl.col("under_odds").cast(pl.Float64),
        _utc_text(pl.coalesce(label, default_snapshot)).alias("snapshot_time"),
        last_update.alias("last_update"),
    )


def derived_event_id(game: str, game_time: str) -> str:
    """A stable 32-hex event id for lines that came without one (same look as the real ids)."""
    return hashlib.md5(f"{game}|{game_time}".encode(), usedforsecurity=False).hexdigest()


def _build_props(reader: _RawReader) -> pl.DataFrame:
    parts = []
    all_markets = reader.read("props_all_markets_snapshots_*")
    if all_markets is not None:
        parts.append(_props_frame(all_markets, pl.col("event_id").cast(pl.String)))
    threes = reader.read("props_player_threes_*")
    if threes is not None:
        known = (
            all_markets.select("game", "game_time", pl.col("event_id").alias("_known_id")).unique(
                ["game", "game_time"]
            )
            if all_markets is not None
            else pl.DataFrame(
                schema={"game": pl.String, "game_time": pl.String, "_known_id": pl.String}
            )
        )
        pairs = threes.select("game", "game_time").unique()
        derived = pairs.with_columns(
            pl.Series(
                "_derived_id",
                [derived_event_id(g, t) for g, t in pairs.iter_rows()],
                dtype=pl.String,
            )
        )
        threes = (
            threes.join(known, on=["game", "game_time"], how="left")
            .join(derived, on=["game", "game_time"], how="left")
            .with_columns(pl.coalesce("_known_id", "_derived_id").alias("_event_id"))
        )
        if "event_id" in threes.columns:
            threes = threes.with_columns(pl.coalesce("event_id", "_event_id").alias("_event_id"))
        threes = _props_frame(
            threes.with_columns(market=pl.lit("player_threes")), pl.col("_event_id")
        )
        if parts:
            already = (
                parts[0]
                .filter(pl.col("market") == "player_threes")
                .select("game_date", "bookmaker", "player")
                .unique()
            )
            threes = threes.join(already, on=["game_date", "bookmaker", "player"], how="anti")
        parts.append(threes)
    if not parts:
        return pl.DataFrame(schema=PROPS_SCHEMA)
    return _nan_to_null(
        pl.concat(parts).select([pl.col(c).cast(t) for c, t in PROPS_SCHEMA.items()])
    ).sort("game_date", "event_id", "bookmaker", "market", "player", "line", maintain_order=True)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `python -m nba_assets.replay.archive build --data DIR --out DIR`."""
    parser = argparse.ArgumentParser(prog="python -m nba_assets.replay.archive")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the replay archive from a raw data folder")
    build.add_argument("--data", type=Path, required=True, help="folder of raw files")
    build.add_argument("--out", type=Path, default=SHIPPED_ARCHIVE, help="archive folder")
    args = parser.parse_args(argv)
    archive, sources = build_archive(args.data)
    archive.save(args.out, sources)
    size = sum(p.stat().st_size for p in args.out.glob("*.parquet"))
    for name, rows in archive.row_counts().items():
        print(f"{name:>13}: {rows:>8,} rows")
    print(f"wrote {args.out} ({size / 1e6:.2f} MB of parquet)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
