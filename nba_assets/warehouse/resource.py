"""The warehouse as a Dagster resource: DuckDB by default, BigQuery in production."""

from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import PrivateAttr

from nba_assets.warehouse.base import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse every asset reads history from and the IO manager writes to."""

    backend: Literal["duckdb", "bigquery"] = "duckdb"
    duckdb_path: str = ""
    prefix: str = ""
    gcp_project: str | None = None
    bigquery_endpoint: str | None = None
    bigquery_location: str = "US"
    job_timeout_seconds: float = 600.0
    replay_table_expiration_days: int = 7
    lock_timeout_seconds: float = 300.0
    _warehouse: Warehouse | None = PrivateAttr(default=None)

    def get(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = self._build()
        return self._warehouse

    def _build(self) -> Warehouse:
        if self.backend == "duckdb":
            from pathlib import Path

            from nba_assets.warehouse.duckdb import DuckDBWarehouse

            return DuckDBWarehouse(
                Path(self.duckdb_path),
                prefix=self.prefix,
                lock_timeout_seconds=self.lock_timeout_seconds,
            )
        from nba_assets.warehouse.bigquery import BigQueryWarehouse, make_client

        client = make_client(self.gcp_project, self.bigquery_endpoint, self.bigquery_location)
        return BigQueryWarehouse(
            client,
            prefix=self.prefix,
            location=self.bigquery_location,
            job_timeout_seconds=self.job_timeout_seconds,
            default_table_expiration_days=self.replay_table_expiration_days
            if self.prefix
            else None,
        )
