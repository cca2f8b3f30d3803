"""One contract, two backends: DuckDB (a file under tmp_path) and BigQuery (the emulator)."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from google.api_core.exceptions import NotFound
from google.cloud import bigquery
from polars.testing import assert_frame_equal

from nba_assets.tables import raw
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.base import Warehouse
from nba_assets.warehouse.bigquery import (
    BigQueryJobTimeoutError,
    BigQueryWarehouse,
    describe_table,
    make_client,
)
from nba_assets.warehouse.duckdb import DuckDBWarehouse
from nba_assets_tests.processes import run_in_processes

# A small table of every column type the specs use; clustered like the predictions tables.
SCORES = TableSpec(
    dataset="nba_contract",
    name="scores",
    columns={
        "game_date": pl.Date(),
        "player_lookup": pl.String(),
        "system_id": pl.String(),
        "points": pl.Float64(),
        "minutes": pl.Int64(),
        "played": pl.Boolean(),
        "updated_at": pl.Datetime("us", "UTC"),
    },
    key=("player_lookup", "system_id"),
    clustering=("player_lookup", "system_id", "game_date"),
    description='Test-only table for the warehouse contract ("quoted" on purpose).',
    column_descriptions={"points": "points scored; null when unknown"},
)
REAL = raw.odds_player_props
DAY1, DAY2, DAY3, DAY4 = (dt.date(2024, 1, d) for d in (15, 16, 17, 18))


def rows(spec: TableSpec, day: dt.date, n: int = 3, tag: str = "a") -> pl.DataFrame:
    """``n`` deterministic rows for ``day`` of every column type, with some nulls."""
    data: dict[str, list[object]] = {}
    for column, dtype in spec.columns.items():
        if column == spec.partition_column:
            values: list[object] = [day] * n
        elif isinstance(dtype, pl.String):
            values = [f"{column}-{tag}-{day:%d}-{i}" for i in range(n)]
        elif isinstance(dtype, pl.Int64):
            values = [i * 10 + day.day for i in range(n)]
        elif isinstance(dtype, pl.Float64):
            values = [None if i % 3 == 2 else i + 0.5 for i in range(n)]
        elif isinstance(dtype, pl.Boolean):
            values = [i % 2 == 0 for i in range(n)]
        elif isinstance(dtype, pl.Datetime):
            start = dt.datetime.combine(day, dt.time(23, 30), tzinfo=dt.UTC)
            values = [start + dt.timedelta(seconds=i, microseconds=7) for i in range(n)]
        else:
            raise TypeError(f"no test values for {dtype}")
        data[column] = values
    return pl.DataFrame(data, schema=spec.schema)


def same_rows(actual: pl.DataFrame, expected: pl.DataFrame, spec: TableSpec) -> None:
    order = [spec.partition_column, *spec.key]
    assert_frame_equal(actual.sort(order), expected.sort(order))


@dataclass
class Backend:
    name: str
    warehouse: DuckDBWarehouse | BigQueryWarehouse
    table_exists: Callable[[TableSpec], bool]


@pytest.fixture(params=["duckdb", pytest.param("bigquery", marks=pytest.mark.bigquery)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "duckdb":
        duck = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_")

        def duck_table_exists(spec: TableSpec) -> bool:
            with duck.connect() as con:
                found = con.execute(
                    "SELECT count(*) FROM information_schema.tables"
                    " WHERE table_schema = ? AND table_name = ?",
                    [spec.dataset_name(duck.prefix), spec.name],
                ).fetchone()
            return bool(found and found[0])

        return Backend("duckdb", duck, duck_table_exists)

    client: bigquery.Client = request.getfixturevalue("bq_client")
    bq = BigQueryWarehouse(client, prefix=f"t{uuid.uuid4().hex[:10]}_", job_timeout_seconds=60)

    def bq_table_exists(spec: TableSpec) -> bool:
        try:
            client.get_table(bq.table_id(spec))
        except NotFound:
            return False
        return True

    return Backend("bigquery", bq, bq_table_exists)


def test_backends_satisfy_the_protocol(backend: Backend) -> None:
    warehouse: Warehouse = backend.warehouse
    assert warehouse.prefix


def test_reading_a_table_nothing_wrote_is_empty_and_creates_nothing(backend: Backend) -> None:
    wh = backend.warehouse
    df = wh.read(SCORES, DAY1, DAY2, ["game_date", "points"])
    assert df.is_empty()
    assert df.schema == pl.Schema({"game_date": pl.Date(), "points": SCORES.columns["points"]})
    assert not backend.table_exists(SCORES)


def test_ensure_tables_is_idempotent_and_tables_start_empty(backend: Backend) -> None:
    wh = backend.warehouse
    wh.ensure_tables([SCORES, REAL])
    wh.ensure_tables([SCORES, REAL])
    assert backend.table_exists(SCORES) and backend.table_exists(REAL)
    for spec in (SCORES, REAL):
        assert_frame_equal(wh.read(spec), spec.empty())


def test_an_existing_table_with_another_schema_is_refused_not_altered(backend: Backend) -> None:
    wh = backend.warehouse
    wh.ensure_tables([SCORES])
    changed = dataclasses.replace(SCORES, columns={**SCORES.columns, "assists": pl.Int64()})
    again = (
        DuckDBWarehouse(wh.path, prefix=wh.prefix)
        if isinstance(wh, DuckDBWarehouse)
        else BigQueryWarehouse(wh.client, prefix=wh.prefix)
    )
    with pytest.raises(RuntimeError, match="scores"):
        again.ensure_tables([changed])
    assert_frame_equal(wh.read(SCORES), SCORES.empty())


def test_replace_one_partition_leaves_the_others(backend: Backend) -> None:
    wh = backend.warehouse
    assert wh.replace_partitions(SCORES, rows(SCORES, DAY1), DAY1, DAY1) == 3
    assert wh.replace_partitions(SCORES, rows(SCORES, DAY2), DAY2, DAY2) == 3
    replacement = rows(SCORES, DAY1, n=2, tag="b")
    assert wh.replace_partitions(SCORES, replacement, DAY1, DAY1) == 2
    same_rows(wh.read(SCORES, DAY1, DAY1), replacement, SCORES)
    same_rows(wh.read(SCORES, DAY2, DAY2), rows(SCORES, DAY2), SCORES)


def test_replace_a_range(backend: Backend) -> None:
    wh = backend.warehouse
    first = pl.concat([rows(SCORES, day) for day in (DAY1, DAY2, DAY3)])
    assert wh.replace_partitions(SCORES, first, DAY1, DAY3) == 9
    # The new frame has rows for DAY2 only: DAY1 empties, DAY3 is outside the range.
    replacement = rows(SCORES, DAY2, n=4, tag="b")
    assert wh.replace_partitions(SCORES, replacement, DAY1, DAY2) == 4
    expected = pl.concat([replacement, rows(SCORES, DAY3)])
    same_rows(wh.read(SCORES, DAY1, DAY3), expected, SCORES)


def test_empty_frame_empties_the_day_and_creates_the_table(backend: Backend) -> None:
    wh = backend.warehouse
    assert not backend.table_exists(REAL)
    assert wh.replace_partitions(REAL, REAL.empty(), DAY1, DAY1) == 0
    assert backend.table_exists(REAL)  # a day without games is a normal, empty partition
    assert_frame_equal(wh.read(REAL, DAY1, DAY1), REAL.empty())

    wh.replace_partitions(SCORES, pl.concat([rows(SCORES, DAY1), rows(SCORES, DAY2)]), DAY1, DAY2)
    assert wh.replace_partitions(SCORES, SCORES.empty(), DAY1, DAY1) == 0
    assert_frame_equal(wh.read(SCORES, DAY1, DAY1), SCORES.empty())
    same_rows(wh.read(SCORES), rows(SCORES, DAY2), SCORES)


def test_read_a_partition_and_a_range_with_the_exact_schema(backend: Backend) -> None:
    wh = backend.warehouse
    by_day = {day: rows(REAL, day, n=4) for day in (DAY1, DAY2, DAY3)}
    wh.replace_partitions(REAL, pl.concat(by_day.values()), DAY1, DAY3)

    one = wh.read(REAL, DAY2, DAY2)
    assert one.schema == REAL.schema
    same_rows(one, by_day[DAY2], REAL)
    same_rows(wh.read(REAL, DAY2, DAY3), pl.concat([by_day[DAY2], by_day[DAY3]]), REAL)
    same_rows(wh.read(REAL, start=DAY3), by_day[DAY3], REAL)
    same_rows(wh.read(REAL, end=DAY1), by_day[DAY1], REAL)
    assert wh.read(REAL).height == 12

    picked = wh.read(REAL, DAY1, DAY1, columns=["player_lookup", "line", "commence_time"])
    assert picked.schema == pl.Schema(
        {
            "player_lookup": pl.String(),
            "line": pl.Float64(),
            "commence_time": REAL.columns["commence_time"],
        }
    )
    with pytest.raises(ValueError, match="no_such_column"):
        wh.read(REAL, DAY1, DAY1, columns=["no_such_column"])


def test_rows_outside_the_range_are_refused(backend: Backend) -> None:
    wh = backend.warehouse
    wh.replace_partitions(SCORES, rows(SCORES, DAY1), DAY1, DAY1)
    stray = pl.concat([rows(SCORES, DAY1, tag="b"), rows(SCORES, DAY2, tag="b")])
    with pytest.raises(ValueError, match="outside the partitions"):
        wh.replace_partitions(SCORES, stray, DAY1, DAY1)
    same_rows(wh.read(SCORES), rows(SCORES, DAY1), SCORES)


def test_a_frame_missing_a_column_is_refused_naming_it(backend: Backend) -> None:
    wh = backend.warehouse
    with pytest.raises(ValueError, match="points"):
        wh.replace_partitions(SCORES, rows(SCORES, DAY1).drop("points"), DAY1, DAY1)


def test_rerunning_a_write_gives_the_same_rows(backend: Backend) -> None:
    wh = backend.warehouse
    frame = pl.concat([rows(REAL, DAY1), rows(REAL, DAY2)])
    for _ in range(2):
        assert wh.replace_partitions(REAL, frame, DAY1, DAY2) == 6
    same_rows(wh.read(REAL), frame, REAL)


def test_concurrent_writers_to_one_table_all_land(backend: Backend) -> None:
    wh = backend.warehouse
    days = (DAY1, DAY2, DAY3, DAY4)
    wh.ensure_tables([SCORES])
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        written = list(
            pool.map(lambda day: wh.replace_partitions(SCORES, rows(SCORES, day), day, day), days)
        )
    assert written == [3, 3, 3, 3]
    same_rows(wh.read(SCORES), pl.concat([rows(SCORES, day) for day in days]), SCORES)


def _write_day_in_another_process(path: str, prefix: str, day: dt.date) -> None:
    warehouse = DuckDBWarehouse(Path(path), prefix=prefix)
    written = warehouse.replace_partitions(SCORES, rows(SCORES, day), day, day)
    if written != 3:
        raise SystemExit(f"wrote {written} rows, expected 3")


def test_duckdb_writers_in_two_processes_all_land(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_")
    wh.ensure_tables([SCORES])
    days = [DAY1, DAY2]
    exit_codes = run_in_processes(
        _write_day_in_another_process, [(str(wh.path), wh.prefix, day) for day in days]
    )
    assert exit_codes == [0, 0]
    same_rows(wh.read(SCORES), pl.concat([rows(SCORES, day) for day in days]), SCORES)


@pytest.mark.bigquery
def test_bigquery_tables_are_day_partitioned_and_clustered(bq_client: bigquery.Client) -> None:
    wh = BigQueryWarehouse(bq_client, prefix=f"t{uuid.uuid4().hex[:10]}_")
    wh.ensure_tables([SCORES, REAL])
    for spec in (SCORES, REAL):
        described = describe_table(bq_client, wh.table_id(spec))
        assert described["partitioning_type"] == "DAY"
        assert described["partitioning_field"] == "game_date"
        assert described["clustering_fields"] == list(spec.clustering)
        assert described["description"] == spec.description
    schema = {f.name: f for f in bq_client.get_table(wh.table_id(SCORES)).schema}
    assert schema["points"].description == SCORES.column_descriptions["points"]
    assert schema["game_date"].field_type == "DATE"


@pytest.mark.bigquery
def test_bigquery_prefixed_dataset_has_the_default_expiration(bq_client: bigquery.Client) -> None:
    wh = BigQueryWarehouse(
        bq_client, prefix=f"test_{uuid.uuid4().hex[:10]}_", default_table_expiration_days=7
    )
    wh.ensure_tables([SCORES])
    dataset = bq_client.get_dataset(wh.dataset_id(SCORES))
    assert dataset.default_table_expiration_ms == 7 * 24 * 3600 * 1000
    assert describe_table(bq_client, wh.table_id(SCORES))["expires"] is not None


@pytest.mark.bigquery
def test_bigquery_job_timeout_names_the_table_and_partitions(
    bq_client: bigquery.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = BigQueryWarehouse(bq_client, prefix=f"t{uuid.uuid4().hex[:10]}_", job_timeout_seconds=30)
    wh.ensure_tables([SCORES])

    def never_finishes(self: bigquery.LoadJob, *args: object, **kwargs: object) -> None:
        raise concurrent.futures.TimeoutError()

    monkeypatch.setattr(bigquery.LoadJob, "result", never_finishes)
    with pytest.raises(BigQueryJobTimeoutError) as raised:
        wh.replace_partitions(SCORES, rows(SCORES, DAY1), DAY1, DAY1)
    message = str(raised.value)
    assert wh.table_id(SCORES) in message and f"{DAY1}..{DAY1}" in message and "30s" in message
    monkeypatch.undo()
    # The staging table was dropped and the target is untouched.
    assert [t.table_id for t in bq_client.list_tables(wh.dataset_id(SCORES))] == ["scores"]
    assert wh.read(SCORES).is_empty()


@pytest.mark.bigquery
def test_make_client_talks_to_an_emulator_endpoint(bigquery_emulator: str) -> None:
    client = make_client("test", bigquery_emulator)
    wh = BigQueryWarehouse(client, prefix=f"t{uuid.uuid4().hex[:10]}_")
    wh.replace_partitions(SCORES, rows(SCORES, DAY1), DAY1, DAY1)
    same_rows(wh.read(SCORES, DAY1, DAY1), rows(SCORES, DAY1), SCORES)
