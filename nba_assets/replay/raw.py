"""Raw files of the project's data folder as the replay archive builders read them."""

from __future__ import annotations

from pathlib import Path

import polars as pl

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


class RawReader:
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


def date10(column: str) -> pl.Expr:
    """A date column normalised to its first ten characters (YYYY-MM-DD)."""
    return pl.col(column).cast(pl.String).str.slice(0, 10)


def normalised_season_type(column: str) -> pl.Expr:
    return pl.col(column).replace_strict(_SEASON_TYPE_ALIASES, default=None)


def season_id() -> pl.Expr:
    digit = pl.col("SEASON_TYPE").replace_strict(SEASON_TYPE_DIGIT, default="2")
    return pl.concat_str([digit, pl.col("SEASON").str.slice(0, 4)]).alias("SEASON_ID")


def nan_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    floats = [name for name, dtype in frame.schema.items() if dtype in (pl.Float32, pl.Float64)]
    return frame.with_columns(pl.col(c).fill_nan(None) for c in floats)


def read_schedule(reader: RawReader) -> pl.DataFrame | None:
    schedule = reader.read("schedule_*")
    if schedule is None:
        return None
    return schedule.with_columns(
        date10("GAME_DATE").alias("GAME_DATE"),
        pl.col("GAME_ID").cast(pl.String).str.zfill(10),
        normalised_season_type("STAGE").alias("SEASON_TYPE"),
    ).filter(pl.col("SEASON_TYPE").is_not_null())
