"""Small helpers every phase's assets share."""

from __future__ import annotations

import datetime as dt

import dagster as dg

# Days a metadata table of a range shows, its last: a ranged run gives every partition the
# same metadata, so a table of every day would grow with the square of the range's length.
TABLE_DAYS = 31


def partition_dates(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """First and last game_date (inclusive) of the partitions this run materializes."""
    keys = context.partition_keys
    return dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])


def each_date(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
