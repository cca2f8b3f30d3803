"""Game days as operations see them: Eastern time, and what the schedule table knows of a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl

from nba_assets.partitions import GAME_DATE_TIMEZONE
from nba_assets.tables import raw
from nba_assets.warehouse.base import Warehouse

EASTERN = ZoneInfo(GAME_DATE_TIMEZONE)
SCHEDULE_KEY = dg.AssetKey([raw.nbac_schedule.dataset, raw.nbac_schedule.name])
FINAL_STATUS = 3  # the scoreboard's GAME_STATUS_ID of a finished game


def eastern(moment: dt.datetime) -> dt.datetime:
    """``moment`` (timezone-aware) on the Eastern clock the game days follow."""
    return moment.astimezone(EASTERN)


def at(day: dt.date, time: dt.time) -> dt.datetime:
    """``time`` on ``day``, Eastern."""
    return dt.datetime.combine(day, time, tzinfo=EASTERN)


def last_written(
    instance: dg.DagsterInstance, key: dg.AssetKey, day: dt.date
) -> dt.datetime | None:
    """When ``key``'s partition ``day`` was last materialized (UTC), or None if never."""
    return written_by_day(instance, key, day, day).get(day)


def written_by_day(
    instance: dg.DagsterInstance, key: dg.AssetKey, start: dt.date, end: dt.date
) -> dict[dt.date, dt.datetime]:
    """When each partition of ``start..end`` of ``key`` was last materialized (UTC); days never
    written are absent. One query per page of records, not one per day."""
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    records_filter = dg.AssetRecordsFilter(
        asset_key=key, asset_partitions=[d.isoformat() for d in days]
    )
    out: dict[dt.date, dt.datetime] = {}
    cursor = None
    while True:
        page = instance.fetch_materializations(records_filter, limit=1000, cursor=cursor)
        for record in page.records:  # newest first: the first seen per day is its last write
            day = dt.date.fromisoformat(record.partition_key or "")
            out.setdefault(day, dt.datetime.fromtimestamp(record.timestamp, dt.UTC))
        if not page.has_more:
            return out
        cursor = page.cursor


@dataclass(frozen=True)
class DaySchedule:
    """What the warehouse knows of a day's games: whether the day was scraped, how many games,
    how many of them are final."""

    day: dt.date
    known: bool
    games: int
    final: int

    @property
    def has_games(self) -> bool:
        """Whether the day may have games: it does, or its schedule was never scraped."""
        return self.games > 0 or not self.known

    @property
    def all_final(self) -> bool:
        return self.known and self.games > 0 and self.final == self.games

    def describe(self) -> str:
        if not self.known:
            return f"the schedule of {self.day} was never scraped (nba_raw.nbac_schedule)"
        if not self.games:
            return f"no games on {self.day}"
        return f"{self.games} games on {self.day}, {self.final} final"


def day_schedule(instance: dg.DagsterInstance, warehouse: Warehouse, day: dt.date) -> DaySchedule:
    """The day's games from ``nba_raw.nbac_schedule``; known when its partition was written."""
    return schedules_of(instance, warehouse, day, day)[day]


def schedules_of(
    instance: dg.DagsterInstance, warehouse: Warehouse, start: dt.date, end: dt.date
) -> dict[dt.date, DaySchedule]:
    """``day_schedule`` of every day of ``start..end``, from one read of the table."""
    games = warehouse.read(raw.nbac_schedule, start, end, columns=["game_date", "game_status"])
    counts = {
        row["game_date"]: row
        for row in games.group_by("game_date")
        .agg(games=pl.len(), final=(pl.col("game_status") == FINAL_STATUS).sum())
        .iter_rows(named=True)
    }
    written = written_by_day(instance, SCHEDULE_KEY, start, end)
    out = {}
    day = start
    while day <= end:
        row = counts.get(day, {"games": 0, "final": 0})
        out[day] = DaySchedule(
            day=day, known=day in written, games=row["games"], final=row["final"]
        )
        day += dt.timedelta(days=1)
    return out
