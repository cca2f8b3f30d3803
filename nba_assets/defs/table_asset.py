"""One factory for every warehouse table's asset: its TableSpec says what the catalog shows."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from nba_assets.defs.pools import WAREHOUSE_POOL
from nba_assets.partitions import game_date_partitions
from nba_assets.tables.spec import TableSpec

WAREHOUSE_IO_MANAGER = "warehouse_io_manager"


def asset_key(spec: TableSpec) -> dg.AssetKey:
    """A table's asset key: ``<dataset>/<table>``."""
    return dg.AssetKey([spec.dataset, spec.name])


def column_schema(spec: TableSpec) -> dg.TableSchema:
    """The table's columns, types and descriptions, as the catalog shows them."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, str(dtype), description=spec.column_descriptions.get(name))
            for name, dtype in spec.columns.items()
        ]
    )


def _dep(dep: TableSpec | dg.AssetDep | dg.AssetKey) -> dg.AssetDep:
    if isinstance(dep, TableSpec):
        return dg.AssetDep(asset_key(dep))
    if isinstance(dep, dg.AssetKey):
        return dg.AssetDep(dep)
    return dep


def table_asset(
    spec: TableSpec,
    *,
    group: str,
    deps: Sequence[TableSpec | dg.AssetDep | dg.AssetKey] = (),
    ins: dict[str, dg.AssetIn] | None = None,
    io_manager_key: str = WAREHOUSE_IO_MANAGER,
    kinds: Sequence[str] = (),
    **kwargs,
):
    """The decorator of a table's asset: key, partitions, single-run backfills, IO manager and
    catalog metadata all come from ``spec``; ``group`` is the phase.

    The storage kind and the table's full name depend on the deployment, so
    `with_storage` adds them when the definitions are built.
    """
    return dg.asset(
        key=asset_key(spec),
        group_name=group,
        description=spec.description,
        partitions_def=game_date_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        io_manager_key=io_manager_key,
        deps=[_dep(d) for d in deps],
        ins=ins,
        kinds={"polars", *kinds},
        metadata={"dagster/column_schema": column_schema(spec)},
        pool=WAREHOUSE_POOL,
        **kwargs,
    )


def with_storage(
    assets: dg.AssetsDefinition, storage_kind: str, table_name: dict[dg.AssetKey, str]
) -> dg.AssetsDefinition:
    """``assets`` with where their tables live: the storage kind and ``dagster/table_name``."""

    def _located(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.key not in table_name:
            return spec
        return spec.merge_attributes(
            kinds={storage_kind}, metadata={"dagster/table_name": table_name[spec.key]}
        )

    return assets.map_asset_specs(_located)
