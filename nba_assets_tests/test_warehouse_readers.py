"""Readers welcome: reads never write, outside connections are waited for, `nba-assets sql`.

Every test uses a real DuckDB file under tmp_path; outside connections are real DuckDB
connections held by a child process (``outside_reader.outside_connection``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.duckdb import DuckDBWarehouse
from nba_assets.warehouse.duckdb_lock import WarehouseBusyError
from nba_assets_tests.outside_reader import outside_connection
from nba_assets_tests.processes import run_in_processes

DAY = dt.date(2024, 1, 15)
SCORES = TableSpec(
    dataset="nba_readers",
    name="scores",
    columns={"game_date": pl.Date(), "player_lookup": pl.String(), "points": pl.Float64()},
    key=("player_lookup",),
    clustering=("player_lookup", "game_date"),
    description="Test-only table for the readers' tests.",
)


def scores(n: int = 3, day: dt.date = DAY) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "game_date": [day] * n,
            "player_lookup": [f"p{i}" for i in range(n)],
            "points": [float(i) for i in range(n)],
        },
        schema=SCORES.schema,
    )


def schemas(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
    return {r[0] for r in rows}


def test_reading_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    wh = DuckDBWarehouse(home / "warehouse.duckdb", prefix="test_")
    assert_frame_equal(wh.read(SCORES), SCORES.empty())
    assert_frame_equal(
        wh.read(SCORES, DAY, DAY, columns=["points"]), SCORES.empty().select("points")
    )
    assert not home.exists()


def test_reading_a_missing_table_creates_no_schema_or_table(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_")
    other = dataclasses.replace(SCORES, dataset="nba_other")
    wh.replace_partitions(other, scores(), DAY, DAY)
    before = schemas(wh.path)
    assert_frame_equal(wh.read(SCORES, DAY, DAY), SCORES.empty())
    assert schemas(wh.path) == before and "test_nba_readers" not in before
    # Writes still create what they need.
    wh.replace_partitions(SCORES, scores(), DAY, DAY)
    assert_frame_equal(wh.read(SCORES), scores())


def test_the_lock_holder_is_recorded_while_held_and_cleared_after(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_")
    with wh.connect("writing test_nba_readers.scores"):
        holder = wh.file.holder()
        assert holder is not None and holder.pid == os.getpid()
        assert holder.purpose == "writing test_nba_readers.scores"
    assert wh.file.holder() is None and not wh.file.holder_path.exists()


def _hold_our_lock(path: str, seconds: float) -> None:
    with DuckDBWarehouse(Path(path)).connect("writing a long test transaction"):
        time.sleep(seconds)


def test_waiting_for_our_own_lock_names_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    DuckDBWarehouse(path).ensure_tables([SCORES])
    waiter = DuckDBWarehouse(path, lock_timeout_seconds=1.0)
    outcome: dict[str, object] = {}

    def wait_for_it() -> None:
        while waiter.file.holder() is None:  # the other process has the lock once it says so
            time.sleep(0.01)
        holder = waiter.file.holder()
        try:
            waiter.replace_partitions(SCORES, scores(), DAY, DAY)
        except WarehouseBusyError as exc:
            outcome["error"], outcome["holder"] = str(exc), holder

    thread = threading.Thread(target=wait_for_it, daemon=True)
    thread.start()
    assert run_in_processes(_hold_our_lock, [(str(path), 4.0)], timeout_seconds=60) == [0]
    thread.join(30)
    holder = outcome["holder"]
    message = str(outcome["error"])
    assert f"PID {holder.pid}" in message  # type: ignore[attr-defined]
    assert str(waiter.file.lock_path) in message and "writing a long test transaction" in message


def test_a_stale_holder_record_neither_blocks_nor_misleads(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_")
    dead = subprocess.Popen(["true"])
    dead.wait(10)
    wh.file.holder_path.write_text(
        json.dumps(
            {"pid": dead.pid, "command": "nba-assets replay", "purpose": "writing x", "since": "t"}
        )
    )
    stale = wh.file.holder()
    assert stale is not None and "no longer running" in stale.describe()
    began = time.monotonic()
    assert wh.replace_partitions(SCORES, scores(), DAY, DAY) == 3
    assert time.monotonic() - began < 5
    assert wh.file.holder() is None  # the next holder overwrote the stale record, then cleared it


def test_a_writer_waits_for_an_outside_reader_that_closes(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_", lock_timeout_seconds=60)
    wh.ensure_tables([SCORES])
    with outside_connection(wh.path) as reader:
        timer = threading.Timer(1.5, reader.kill)
        timer.start()
        try:
            began = time.monotonic()
            assert wh.replace_partitions(SCORES, scores(), DAY, DAY) == 3
            waited = time.monotonic() - began
        finally:
            timer.cancel()
    assert waited >= 1.0
    assert_frame_equal(wh.read(SCORES), scores())


@pytest.mark.parametrize("read_only", [True, False], ids=["outside-reader", "outside-writer"])
def test_a_writer_gives_up_on_an_outside_connection_naming_file_and_holder(
    tmp_path: Path, read_only: bool
) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_", lock_timeout_seconds=1.5)
    wh.ensure_tables([SCORES])
    with outside_connection(wh.path, read_only=read_only) as holder:
        began = time.monotonic()
        with pytest.raises(WarehouseBusyError) as raised:
            wh.replace_partitions(SCORES, scores(), DAY, DAY)
        waited = time.monotonic() - began
    message = str(raised.value)
    assert 1.5 <= waited < 10
    assert str(wh.path) in message and f"(PID {holder.pid})" in message
    assert "nba-assets sql" in message and "Close that connection" in message
    assert wh.file.holder() is None  # our lock and its record are released between attempts
    assert_frame_equal(wh.read(SCORES), SCORES.empty())


def test_reads_share_the_file_with_an_outside_reader(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_", lock_timeout_seconds=1)
    wh.replace_partitions(SCORES, scores(), DAY, DAY)
    with outside_connection(wh.path):
        assert_frame_equal(wh.read(SCORES), scores())
