"""Readers welcome: reads never write, outside connections are waited for, `nba-assets sql`.

Every test uses a real DuckDB file under tmp_path; outside connections are real DuckDB
connections held by a child process (``outside_reader.outside_connection``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.duckdb import DuckDBWarehouse
from nba_assets.warehouse.errors import WarehouseBusyError
from nba_assets_tests.outside_reader import outside_connection
from nba_assets_tests.processes import run_in_processes
from nba_assets_tests.warehouse_runs import clean_tables, replay, replay_env, table_hashes

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


def test_a_reading_block_opens_the_file_once_and_refuses_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_")
    wh.replace_partitions(SCORES, scores(3), DAY, DAY)
    wh.replace_partitions(
        SCORES, scores(2, DAY + dt.timedelta(days=1)), DAY, DAY + dt.timedelta(days=1)
    )
    apart = [wh.read(SCORES, DAY, DAY), wh.read(SCORES), wh.read(SCORES, columns=["points"])]
    opened: list[str] = []
    real_open = wh.file.open

    def counting_open(purpose: str, read_only: bool = False):
        opened.append(purpose)
        return real_open(purpose, read_only=read_only)

    monkeypatch.setattr(wh.file, "open", counting_open)
    with wh.reading("reading three times"):
        with wh.reading("nested"):
            together = [wh.read(SCORES, DAY, DAY), wh.read(SCORES)]
        together.append(wh.read(SCORES, columns=["points"]))
        assert wh.file.holder() is not None  # the lock is held for the whole block
        with pytest.raises(RuntimeError, match="inside a reading block"):
            wh.replace_partitions(SCORES, scores(1), DAY, DAY)
    assert opened == ["reading three times"]
    for a, b in zip(apart, together, strict=True):
        assert_frame_equal(a, b)
    # After the block the lock is free and writes go through.
    assert wh.file.holder() is None
    wh.replace_partitions(SCORES, scores(1), DAY, DAY)
    assert wh.read(SCORES, DAY, DAY).height == 1


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
        # Another access of this process meets the same holder: it fails at once.
        began = time.monotonic()
        with pytest.raises(WarehouseBusyError, match="already waited 2s in this process"):
            wh.replace_partitions(SCORES, scores(), DAY, DAY)
        assert time.monotonic() - began < 1.0
    message = str(raised.value)
    assert 1.5 <= waited < 10
    assert str(wh.path) in message and f"(PID {holder.pid})" in message
    assert "nba-assets sql" in message and "Close that connection" in message
    assert wh.file.holder() is None  # our lock and its record are released between attempts
    assert_frame_equal(wh.read(SCORES), SCORES.empty())


def test_a_copy_taken_with_flock_waits_for_our_writers(tmp_path: Path) -> None:
    # README's way to copy the file safely: util-linux flock on our lock file.
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.replace_partitions(SCORES, scores(), DAY, DAY)
    copy = tmp_path / "copy.duckdb"
    command = ["flock", "-n", str(wh.file.lock_path), "cp", str(wh.path), str(copy)]
    with wh.connect("writing test_nba_readers.scores"):
        assert subprocess.run(command).returncode == 1 and not copy.exists()
    assert subprocess.run(command).returncode == 0
    assert_frame_equal(DuckDBWarehouse(copy).read(SCORES), scores())


def test_reads_share_the_file_with_an_outside_reader(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", prefix="test_", lock_timeout_seconds=1)
    wh.replace_partitions(SCORES, scores(), DAY, DAY)
    with outside_connection(wh.path):
        assert_frame_equal(wh.read(SCORES), scores())


# --- `nba-assets sql` -------------------------------------------------------------------------


def sql(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``nba-assets sql`` as a user runs it: another process, bounded."""
    return subprocess.run(
        [sys.executable, "-m", "nba_assets.cli", "sql", *argv],
        env=replay_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sql_prints_rows_as_a_table_json_or_csv(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.replace_partitions(SCORES, scores(3), DAY, DAY)
    statement = "select player_lookup, points from nba_readers.scores order by points"
    table = sql(tmp_path, statement, "--max-rows", "2")
    assert table.returncode == 0, table.stderr
    assert "p0" in table.stdout and "p1" in table.stdout and "p2" not in table.stdout
    assert "first 2 of 3 rows" in table.stdout
    as_json = sql(tmp_path, statement, "--json")
    assert json.loads(as_json.stdout) == [
        {"player_lookup": f"p{i}", "points": float(i)} for i in range(3)
    ]
    as_csv = sql(tmp_path, statement, "--csv")
    assert as_csv.stdout.splitlines() == ["player_lookup,points", "p0,0.0", "p1,1.0", "p2,2.0"]


@pytest.mark.parametrize(
    "statement",
    [
        "delete from nba_readers.scores",
        "create table nba_readers.other (a int)",
        "copy nba_readers.scores to 'export.csv'",
    ],
)
def test_sql_refuses_writes_and_leaves_the_file_alone(tmp_path: Path, statement: str) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    wh.replace_partitions(SCORES, scores(), DAY, DAY)
    refused = sql(tmp_path, statement)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "refused: nba-assets sql only reads" in refused.stderr
    assert str(wh.path) in refused.stderr
    assert_frame_equal(wh.read(SCORES), scores())
    assert schemas(wh.path) >= {"nba_readers"} and not (tmp_path / "export.csv").exists()


def test_sql_on_a_missing_warehouse_or_table_says_what_is_wrong(tmp_path: Path) -> None:
    missing = sql(tmp_path / "empty", "select 1")
    assert missing.returncode == 1 and "no warehouse at" in missing.stderr
    assert not (tmp_path / "empty").exists()
    DuckDBWarehouse(tmp_path / "warehouse.duckdb").replace_partitions(SCORES, scores(), DAY, DAY)
    unknown = sql(tmp_path, "select * from nba_readers.no_such_table")
    assert unknown.returncode == 2 and "no_such_table" in unknown.stderr


# --- Real replays with readers ----------------------------------------------------------------


def failure_messages(home: Path) -> list[str]:
    """Every step failure's messages, down its chain of causes, from the replay's event log."""
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    messages = []
    try:
        for run in instance.get_runs():
            for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
                assert entry.dagster_event is not None
                error = entry.dagster_event.step_failure_data.error
                while error is not None:
                    messages.append(error.message)
                    error = error.cause
    finally:
        instance.dispose()
    return messages


class _Waiting(logging.Handler):
    """Sets ``met`` when a warehouse connect reports waiting for an outside connection."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.met = threading.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "waiting up to" in record.getMessage():
            self.messages.append(record.getMessage())
            self.met.set()


def test_a_replay_waits_for_an_outside_reader_then_matches_a_clean_run(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clean = clean_tables(tmp_path_factory)
    home = tmp_path / "home"
    home.mkdir()
    duckdb.connect(str(home / "warehouse.duckdb")).close()  # a notebook opens an existing file
    waiting = _Waiting()
    lock_logger = logging.getLogger("nba_assets.warehouse.duckdb_lock")
    lock_logger.addHandler(waiting)
    try:
        with outside_connection(home / "warehouse.duckdb") as reader:

            def close_once_met() -> None:
                # The reader closes only after the replay met it, and a little later still.
                waiting.met.wait(120)
                time.sleep(1.0)
                reader.kill()

            closer = threading.Thread(target=close_once_met, daemon=True)
            closer.start()
            assert replay(home) == 0
            closer.join(30)
    finally:
        lock_logger.removeHandler(waiting)
    assert waiting.met.is_set(), "the replay never met the outside connection"
    assert f"(PID {reader.pid})" in waiting.messages[0]
    assert table_hashes(home / "warehouse.duckdb") == clean


def test_a_reader_opened_mid_run_is_waited_for_and_the_tables_stay_in_step(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clean = clean_tables(tmp_path_factory)
    home = tmp_path / "home"
    warehouse = DuckDBWarehouse(home / "warehouse.duckdb")
    waiting = _Waiting()
    lock_logger = logging.getLogger("nba_assets.warehouse.duckdb_lock")
    lock_logger.addHandler(waiting)
    opened: dict[str, int] = {}
    stop = threading.Event()

    def open_mid_run() -> None:
        # Once the replay writes past nba_raw, a notebook opens the file between two writes,
        # stays until the replay has met it, then closes.
        while not stop.is_set():
            held = warehouse.file.holder()
            if held and held.purpose.startswith("writing ") and "nba_raw." not in held.purpose:
                break
            time.sleep(0.002)
        else:
            return
        with outside_connection(warehouse.path) as reader:
            opened["pid"] = reader.pid
            waiting.met.wait(120)
            time.sleep(1.0)

    notebook = threading.Thread(target=open_mid_run, daemon=True)
    notebook.start()
    try:
        assert replay(home) == 0
    finally:
        stop.set()
        notebook.join(150)
        lock_logger.removeHandler(waiting)
    assert not notebook.is_alive()
    assert "pid" in opened, "the replay finished before the notebook opened the file"
    assert waiting.met.is_set() and f"(PID {opened['pid']})" in waiting.messages[0]
    assert table_hashes(warehouse.path) == clean


def test_a_replay_gives_up_on_an_outside_reader_naming_file_and_holder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = home / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    with outside_connection(path) as reader:
        assert replay(home, NBA_WAREHOUSE_LOCK_TIMEOUT_SECONDS="1") == 1
    busy = [m for m in failure_messages(home) if "held open by another DuckDB connection" in m]
    assert busy, failure_messages(home)
    assert str(path) in busy[0] and f"(PID {reader.pid})" in busy[0]
    assert "nba-assets sql" in busy[0]


def test_a_replay_meeting_an_outside_writer_before_its_run_exits_1_with_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A DuckDB CLI session opened read-write locks out even the replay's first read.
    home = tmp_path / "home"
    home.mkdir()
    path = home / "warehouse.duckdb"
    with outside_connection(path, read_only=False) as writer:
        assert replay(home, NBA_WAREHOUSE_LOCK_TIMEOUT_SECONDS="1") == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"nba-assets replay: waited 1s for the warehouse {path}" in err
    assert f"(PID {writer.pid})" in err and "cannot read it" in err


def test_sql_in_a_loop_during_a_replay_never_breaks_it(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clean = clean_tables(tmp_path_factory)
    home = tmp_path / "home"
    statement = "select table_schema, table_name from information_schema.tables"
    finished = threading.Event()
    results: list[tuple[float, subprocess.CompletedProcess[str]]] = []

    def query_until_finished() -> None:
        while not finished.is_set():
            results.append((time.monotonic(), sql(home, statement, "--json")))
            finished.wait(0.3)  # a user's pace, leaving the replay the CPU

    reader = threading.Thread(target=query_until_finished, daemon=True)
    reader.start()
    try:
        assert replay(home) == 0
        replay_ended = time.monotonic()
    finally:
        finished.set()
        reader.join(150)
    assert not reader.is_alive()
    for _, done in results:
        assert done.returncode == 0 or "no warehouse at" in done.stderr, done.stderr
    during = [json.loads(done.stdout) for at, done in results if at < replay_ended and done.stdout]
    assert any(rows for rows in during), "no query returned rows while the replay ran"
    assert table_hashes(home / "warehouse.duckdb") == clean
