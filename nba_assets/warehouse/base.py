"""What every warehouse backend does, in terms of table specs only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol

import polars as pl

from nba_assets.tables.spec import TableSpec


class Warehouse(Protocol):
    """A store of day-partitioned tables described by :class:`TableSpec`.

    ``prefix`` is prepended to every dataset name (``test_`` for replays).
    """

    prefix: str

    def ensure_tables(self, specs: Iterable[TableSpec]) -> None:
        """Create the datasets and tables that do not exist yet (never alters existing ones)."""
        ...

    def replace_partitions(
        self, spec: TableSpec, df: pl.DataFrame, start: dt.date, end: dt.date
    ) -> int:
        """Atomically replace the partitions ``start..end`` (inclusive) with ``df``.

        Every row of ``df`` must have its partition column within the range; an empty frame
        empties the range. Rows are written sorted by the clustering columns. Returns rows written.
        """
        ...

    def read(
        self,
        spec: TableSpec,
        start: dt.date | None = None,
        end: dt.date | None = None,
        columns: list[str] | None = None,
    ) -> pl.DataFrame:
        """Rows with the partition column in ``start..end`` (inclusive; None = unbounded)."""
        ...

    def reading(self, purpose: str) -> AbstractContextManager[None]:
        """A block of reads that share one connection where connecting costs (DuckDB opens the
        file for each access otherwise); no writes inside it."""
        ...


def check_rows_in_range(spec: TableSpec, df: pl.DataFrame, start: dt.date, end: dt.date) -> None:
    """Refuse a write whose rows fall outside the partitions it replaces."""
    if df.is_empty():
        return
    col = df.get_column(spec.partition_column)
    if col.null_count():
        raise ValueError(f"{spec.qualified_name()}: {col.null_count()} rows have a null {col.name}")
    lo, hi = col.min(), col.max()
    if lo < start or hi > end:  # type: ignore[operator]
        raise ValueError(
            f"{spec.qualified_name()}: rows span {lo}..{hi}, outside the partitions {start}..{end}"
        )
