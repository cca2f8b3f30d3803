"""The production warehouse: BigQuery datasets of day-partitioned, clustered tables."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
import pyarrow.parquet as pq
from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import GoogleAPICallError, NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.base import check_rows_in_range

logger = logging.getLogger(__name__)

_BIGQUERY_TYPES: dict[type[pl.DataType], str] = {
    pl.Date: "DATE",
    pl.String: "STRING",
    pl.Int64: "INT64",
    pl.Float64: "FLOAT64",
    pl.Boolean: "BOOL",
    pl.Datetime: "TIMESTAMP",
}
# The API answers with the legacy names of some types.
_LEGACY_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}
_STAGING_LIFETIME = dt.timedelta(days=1)
_CONFLICT_ATTEMPTS = 4


class BigQueryJobTimeoutError(TimeoutError):
    """A BigQuery job did not finish within the warehouse's job timeout."""


def make_client(
    project: str | None, endpoint: str | None = None, location: str = "US"
) -> bigquery.Client:
    """A BigQuery client: credentials from the environment, or anonymous at ``endpoint``.

    ``endpoint`` (``NBA_BIGQUERY_ENDPOINT``) points the real client at a local emulator, which
    takes no credentials; production leaves it unset and uses application default credentials.
    """
    if endpoint:
        return bigquery.Client(
            project=project or "test",
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=endpoint),
            location=location,
        )
    return bigquery.Client(project=project, location=location)


def bigquery_type(dtype: pl.DataType) -> str:
    """The BigQuery type of a spec column; raises TypeError for a dtype with no mapping."""
    if isinstance(dtype, pl.Datetime) and dtype.time_zone != "UTC":
        raise TypeError(f"no BigQuery type for polars {dtype}: only UTC datetimes map to TIMESTAMP")
    try:
        return _BIGQUERY_TYPES[dtype.base_type()]
    except KeyError:
        raise TypeError(f"no BigQuery type for polars {dtype}") from None


def bigquery_schema(spec: TableSpec) -> list[bigquery.SchemaField]:
    fields = []
    for name, dtype in spec.columns.items():
        description = spec.column_descriptions.get(name)
        if description is None:
            fields.append(bigquery.SchemaField(name, bigquery_type(dtype)))
        else:
            fields.append(bigquery.SchemaField(name, bigquery_type(dtype), description=description))
    return fields


def describe_table(client: bigquery.Client, table_id: str) -> dict[str, Any]:
    """What BigQuery reports about a table: partitioning, clustering, columns, expiration."""
    table = client.get_table(table_id)
    partitioning = table.time_partitioning
    return {
        "table_id": f"{table.project}.{table.dataset_id}.{table.table_id}",
        "partitioning_type": partitioning.type_ if partitioning else None,
        "partitioning_field": partitioning.field if partitioning else None,
        "clustering_fields": list(table.clustering_fields or []),
        "columns": {f.name: _LEGACY_TYPES.get(f.field_type, f.field_type) for f in table.schema},
        "description": table.description,
        "num_rows": table.num_rows,
        "expires": table.expires,
    }


def _quote(identifier: str) -> str:
    return f"`{identifier}`"


class BigQueryWarehouse:
    """Day-partitioned, clustered BigQuery tables built from the same specs as DuckDB.

    A partition range is replaced by loading the frame into a staging table of its own and then
    one MERGE that deletes the range and inserts the staged rows. A single DML statement is
    atomic on BigQuery and on the emulator, and concurrent DML on one table queues instead of
    being cancelled as concurrent multi-statement transactions are. Partition decorators are
    not used: the emulator turns ``table$20240115`` into a table of that name.

    Args:
        client: the BigQuery client (its project holds the datasets).
        prefix: prepended to every dataset name (``test_`` for replays).
        location: where datasets are created and jobs run.
        job_timeout_seconds: the longest any one job is waited for.
        default_table_expiration_days: set on datasets this warehouse creates (replays: 7).
    """

    def __init__(
        self,
        client: bigquery.Client,
        prefix: str = "",
        location: str = "US",
        job_timeout_seconds: float = 600,
        default_table_expiration_days: int | None = None,
    ):
        self.client = client
        self.prefix = prefix
        self.location = location
        self.job_timeout_seconds = job_timeout_seconds
        self.default_table_expiration_days = default_table_expiration_days
        self._ensured: set[str] = set()
        self._ensured_lock = threading.Lock()

    def dataset_id(self, spec: TableSpec) -> str:
        return f"{self.client.project}.{spec.dataset_name(self.prefix)}"

    def table_id(self, spec: TableSpec) -> str:
        return f"{self.dataset_id(spec)}.{spec.name}"

    def ensure_tables(self, specs: Iterable[TableSpec]) -> None:
        for spec in specs:
            self._ensure(spec)

    def _ensure(self, spec: TableSpec) -> None:
        table_id = self.table_id(spec)
        with self._ensured_lock:
            if table_id in self._ensured:
                return
        dataset = bigquery.Dataset(self.dataset_id(spec))
        dataset.location = self.location
        if self.default_table_expiration_days is not None:
            days = dt.timedelta(days=self.default_table_expiration_days)
            dataset.default_table_expiration_ms = int(days.total_seconds() * 1000)
        self.client.create_dataset(dataset, exists_ok=True, timeout=self.job_timeout_seconds)

        table = bigquery.Table(table_id, schema=bigquery_schema(spec))
        table.time_partitioning = bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field=spec.partition_column
        )
        table.clustering_fields = list(spec.clustering)
        table.description = spec.description
        created = self.client.create_table(table, exists_ok=True, timeout=self.job_timeout_seconds)
        have = {f.name: _LEGACY_TYPES.get(f.field_type, f.field_type) for f in created.schema}
        want = {f.name: f.field_type for f in bigquery_schema(spec)}
        if have != want:
            raise RuntimeError(
                f"{table_id} has columns {have}, but its spec has {want}; "
                "drop the table to rebuild it (tables are never altered in place)"
            )
        with self._ensured_lock:
            self._ensured.add(table_id)

    def _exists(self, table_id: str) -> bool:
        with self._ensured_lock:
            if table_id in self._ensured:
                return True
        try:
            self.client.get_table(table_id, timeout=self.job_timeout_seconds)
        except NotFound:
            return False
        return True

    def replace_partitions(
        self, spec: TableSpec, df: pl.DataFrame, start: dt.date, end: dt.date
    ) -> int:
        df = spec.conform(df)
        check_rows_in_range(spec, df, start, end)
        self._ensure(spec)
        target = self.table_id(spec)
        what = f"replacing {target} partitions {start}..{end}"
        params = [
            bigquery.ScalarQueryParameter("start", "DATE", start),
            bigquery.ScalarQueryParameter("end", "DATE", end),
        ]
        part = _quote(spec.partition_column)
        if df.is_empty():
            sql = f"DELETE FROM {_quote(target)} WHERE {part} BETWEEN @start AND @end"
            self._run_dml(sql, params, what)
            return 0

        staging = f"{target}__staging_{uuid.uuid4().hex[:12]}"
        try:
            self._load_staging(spec, df, staging, what)
            columns = ", ".join(_quote(c) for c in spec.columns)
            staged = ", ".join(f"staged.{_quote(c)}" for c in spec.columns)
            sql = (
                f"MERGE {_quote(target)} AS target USING {_quote(staging)} AS staged ON FALSE"
                f" WHEN NOT MATCHED BY SOURCE AND target.{part} BETWEEN @start AND @end THEN DELETE"
                f" WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({staged})"
            )
            self._run_dml(sql, params, what)
        finally:
            self.client.delete_table(staging, not_found_ok=True, timeout=self.job_timeout_seconds)
        return df.height

    def _load_staging(self, spec: TableSpec, df: pl.DataFrame, staging: str, what: str) -> None:
        # Created first so that it expires even if this process dies before dropping it.
        table = bigquery.Table(staging, schema=bigquery_schema(spec))
        table.expires = dt.datetime.now(dt.UTC) + _STAGING_LIFETIME
        self.client.create_table(table, timeout=self.job_timeout_seconds)

        ordered = df.sort(list(spec.clustering), nulls_last=True, maintain_order=True)
        buffer = io.BytesIO()
        pq.write_table(ordered.to_arrow(), buffer)
        buffer.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            schema=bigquery_schema(spec),
        )
        job = self.client.load_table_from_file(
            buffer,
            staging,
            job_config=config,
            location=self.location,
            timeout=self.job_timeout_seconds,
        )
        self._wait(job, f"{what} (loading {len(ordered)} rows into {staging})")

    def _run_dml(self, sql: str, params: list[bigquery.ScalarQueryParameter], what: str) -> None:
        """Run one DML statement, again if BigQuery aborted it for a concurrent update."""
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            job = self.client.query(
                sql,
                job_config=bigquery.QueryJobConfig(query_parameters=params),
                location=self.location,
                timeout=self.job_timeout_seconds,
            )
            try:
                self._wait(job, what)
                return
            except GoogleAPICallError as exc:
                # A statement that lost a race with another writer changed nothing; run it again.
                if "concurrent update" not in str(exc) or attempt == _CONFLICT_ATTEMPTS:
                    raise
                logger.warning("%s: concurrent update, attempt %d: %s", what, attempt, exc)
                time.sleep(2**attempt)

    def _wait(self, job: bigquery.LoadJob | bigquery.QueryJob, what: str) -> Any:
        try:
            return job.result(timeout=self.job_timeout_seconds)
        except concurrent.futures.TimeoutError as exc:
            try:
                job.cancel(timeout=self.job_timeout_seconds)
            except GoogleAPICallError as cancel_error:
                logger.warning("%s: could not cancel job %s: %s", what, job.job_id, cancel_error)
            raise BigQueryJobTimeoutError(
                f"{what}: job {job.job_id} did not finish within {self.job_timeout_seconds:g}s"
                " (cancel requested)"
            ) from exc

    @contextmanager
    def reading(self, purpose: str) -> Iterator[None]:
        """Nothing to share: every BigQuery read is its own job on the same client."""
        yield

    def read(
        self,
        spec: TableSpec,
        start: dt.date | None = None,
        end: dt.date | None = None,
        columns: list[str] | None = None,
    ) -> pl.DataFrame:
        wanted = columns or list(spec.columns)
        unknown = [c for c in wanted if c not in spec.columns]
        if unknown:
            raise ValueError(f"{spec.qualified_name(self.prefix)} has no columns {unknown}")
        target = self.table_id(spec)
        if not self._exists(target):  # reads never create: nothing written yet reads as empty
            return pl.DataFrame(schema={c: spec.columns[c] for c in wanted})
        part = _quote(spec.partition_column)
        sql = f"SELECT {', '.join(map(_quote, wanted))} FROM {_quote(target)} WHERE TRUE"
        params: list[bigquery.ScalarQueryParameter] = []
        if start is not None:
            sql += f" AND {part} >= @start"
            params.append(bigquery.ScalarQueryParameter("start", "DATE", start))
        if end is not None:
            sql += f" AND {part} <= @end"
            params.append(bigquery.ScalarQueryParameter("end", "DATE", end))
        job = self.client.query(
            sql,
            job_config=bigquery.QueryJobConfig(query_parameters=params),
            location=self.location,
            timeout=self.job_timeout_seconds,
        )
        rows = self._wait(job, f"reading {target} partitions {start}..{end}")
        arrow = rows.to_arrow(create_bqstorage_client=False)
        df = pl.from_arrow(arrow)
        assert isinstance(df, pl.DataFrame)
        if df.width == 0:  # an empty answer may come without columns
            return pl.DataFrame(schema={c: spec.columns[c] for c in wanted})
        return df.select(pl.col(c).cast(spec.columns[c]) for c in wanted)
