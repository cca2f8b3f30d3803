"""What every phase's checks share: the partitions a check covers and the key check."""

import datetime as dt

import dagster as dg
import polars as pl

from nba_assets.defs.table_asset import asset_key
from nba_assets.partitions import game_date_partitions
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.resource import WarehouseResource

SAMPLE_ROWS = 10


def table_check(**kwargs):
    """The decorator of a check on a table's asset: partitioned by ``game_date`` like the table.

    A check without partitions maps to all of its table's partitions, and Dagster lists each
    of their keys (3,300 days) for every result it records; partitioned, a ranged run's check
    reads only the run's days, as the table's steps do.
    """
    return dg.asset_check(partitions_def=game_date_partitions, **kwargs)


def checked_range(
    context: dg.AssetCheckExecutionContext,
) -> tuple[dt.date | None, dt.date | None]:
    """The game_date range the check covers: the run's partitions, else the whole table."""
    if context.has_partition_key_range or context.has_partition_key:
        keys = context.partition_key_range
        return dt.date.fromisoformat(keys.start), dt.date.fromisoformat(keys.end)
    return None, None


def where(start: dt.date | None, end: dt.date | None) -> str:
    return "all partitions" if start is None else f"{start}..{end}"


def sample(df: pl.DataFrame) -> dg.MetadataValue:
    """The first rows of ``df`` as JSON metadata (dates as ISO strings)."""
    rows = df.head(SAMPLE_ROWS).with_columns(pl.col(pl.Date).cast(pl.String))
    return dg.MetadataValue.json(rows.to_dicts())


def failing_rows(
    start: dt.date | None, end: dt.date | None, failing: pl.DataFrame, label: str, **counts: int
) -> dg.AssetCheckResult:
    """Passed when ``failing`` is empty; metadata: the partitions, ``counts``, the number of
    failing rows under ``label`` and a sample of them."""
    return dg.AssetCheckResult(
        passed=failing.is_empty(),
        metadata={
            "partitions": where(start, end),
            **counts,
            label: failing.height,
            "sample": sample(failing),
        },
    )


def key_check(spec: TableSpec, name: str, blocking: bool) -> dg.AssetChecksDefinition:
    """A check that the table's key is never null and unique over the checked partitions."""

    @table_check(
        asset=asset_key(spec),
        name=name,
        blocking=blocking,
        description=f"Key {', '.join(spec.key)} is never null and unique.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        start, end = checked_range(context)
        key = list(dict.fromkeys(spec.key))
        df = warehouse.get().read(spec, start, end, key)
        null_keys = df.filter(pl.any_horizontal(pl.col(key).is_null())).height
        duplicated = df.filter(pl.struct(key).is_duplicated()).select(key).unique()
        return dg.AssetCheckResult(
            passed=null_keys == 0 and duplicated.is_empty(),
            metadata={
                "partitions": where(start, end),
                "rows": df.height,
                "null_keys": null_keys,
                "duplicated_keys": duplicated.height,
                "sample": sample(duplicated),
            },
        )

    return _check
