"""The IO manager that writes every table asset through the configured warehouse."""

import datetime as dt
from collections.abc import Iterable

import dagster as dg
import polars as pl

from nba_assets.tables import spec_for
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.resource import WarehouseResource


def _spec(key: dg.AssetKey) -> TableSpec:
    if len(key.path) != 2:
        raise ValueError(f"asset {key.to_user_string()} is not a <dataset>/<table> key")
    return spec_for(*key.path)


def _date_range(keys: Iterable[str]) -> tuple[dt.date, dt.date]:
    dates = sorted(dt.date.fromisoformat(k) for k in keys)
    return dates[0], dates[-1]


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Replaces the output's partitions (a day or a range) in one atomic write.

    Unlike Dagster's stock DuckDB/BigQuery IO managers it writes empty frames too, so a day
    without games is an empty partition of an existing table rather than a missing table.
    """

    warehouse: dg.ResourceDependency[WarehouseResource]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        if not isinstance(obj, pl.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__},"
                " the warehouse IO manager stores polars DataFrames"
            )
        spec = _spec(context.asset_key)
        start, end = _date_range(context.asset_partition_keys)
        warehouse = self.warehouse.get()
        rows = warehouse.replace_partitions(spec, obj, start, end)
        context.add_output_metadata({"dagster/row_count": rows, "partitions": f"{start}..{end}"})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        spec = _spec(context.asset_key)
        if context.has_asset_partitions:
            start, end = _date_range(context.asset_partition_keys)
            return self.warehouse.get().read(spec, start, end)
        return self.warehouse.get().read(spec)
