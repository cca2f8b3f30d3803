"""Sportsbook lines table of the replay archive, from the props snapshot files."""

from __future__ import annotations

import hashlib

import polars as pl

from nba_assets.replay.raw import RawReader, nan_to_null

ET_ZONE = "America/New_York"

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


def build_props(reader: RawReader) -> pl.DataFrame:
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
    return nan_to_null(
        pl.concat(parts).select([pl.col(c).cast(t) for c, t in PROPS_SCHEMA.items()])
    ).sort("game_date", "event_id", "bookmaker", "market", "player", "line", maintain_order=True)
