"""Replay archive: normalised NBA and sportsbook tables, built from raw files, stored as parquet."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import polars as pl

from nba_assets.replay.build_games import build_games
from nba_assets.replay.build_logs import build_player_games, build_team_games
from nba_assets.replay.build_props import build_props
from nba_assets.replay.build_rosters import (
    build_abbreviation_ids,
    build_game_ids,
    build_players,
    build_teams,
)
from nba_assets.replay.raw import RawReader

SHIPPED_ARCHIVE = Path(__file__).resolve().parent / "archive"
MANIFEST_FILE = "manifest.json"
ARCHIVE_FORMAT = 1


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
    reader = RawReader(Path(data_dir))
    if not reader.files("player_game_logs_lite_*"):
        raise FileNotFoundError(f"{data_dir} holds no player_game_logs_lite_* file")
    teams = build_teams(reader)
    abbreviation_ids = build_abbreviation_ids(reader, teams)
    game_ids = build_game_ids(reader, abbreviation_ids)
    player_games = build_player_games(reader, teams, abbreviation_ids, game_ids)
    team_games = build_team_games(reader, teams, abbreviation_ids, game_ids)
    props = build_props(reader)
    games = build_games(reader, team_games, teams, props)
    players = build_players(reader, player_games)
    archive = Archive(
        teams=teams,
        games=games,
        player_games=player_games,
        team_games=team_games,
        players=players,
        props=props,
    )
    return archive, sorted(reader.used)


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
