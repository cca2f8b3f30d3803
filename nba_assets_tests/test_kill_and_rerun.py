"""kill -9 in the middle of a warehouse write, then a rerun: every table as a clean run left it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nba_assets.warehouse.duckdb import DuckDBWarehouse
from nba_assets_tests.warehouse_runs import DAY, clean_tables, replay, replay_env, table_hashes


def _holder(record: Path) -> dict | None:
    try:
        return json.loads(record.read_text())
    except (FileNotFoundError, ValueError):  # not held, or caught between write and rename
        return None


def test_kill_during_a_write_then_rerun_gives_the_clean_tables(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clean = clean_tables(tmp_path_factory)
    home = tmp_path / "home"
    warehouse = DuckDBWarehouse(home / "warehouse.duckdb")
    log = (tmp_path / "killed_replay.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-m", "nba_assets.cli", "replay", "--start", DAY, "--end", DAY],
        env=replay_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    caught = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            # A write past the raw phase: some tables are written, others not yet.
            held = _holder(warehouse.file.holder_path)
            if (
                held
                and held["pid"] == child.pid
                and held["purpose"].startswith("writing ")
                and "nba_raw." not in held["purpose"]
            ):
                child.send_signal(signal.SIGKILL)
                caught = held
                break
            time.sleep(0.001)
    finally:
        if child.poll() is None and caught is None:
            child.kill()
        child.wait(30)
        log.close()
    output = (tmp_path / "killed_replay.log").read_text()
    assert caught is not None, f"never saw the replay writing past nba_raw; it said:\n{output}"
    assert child.returncode == -signal.SIGKILL
    # The record still names the dead process writing: it died holding the lock, mid-write.
    left = warehouse.file.holder()
    assert left is not None and left.pid == child.pid and left.purpose == caught["purpose"]
    assert "no longer running" in left.describe()
    torn = table_hashes(warehouse.path)
    assert torn != clean and set(torn) < set(clean), "the kill left every table written"

    began = time.monotonic()
    assert replay(home) == 0
    assert table_hashes(warehouse.path) == clean
    assert warehouse.file.holder() is None  # the stale record was overwritten, then cleared
    assert time.monotonic() - began < 120
