"""Run guards on real replays: a day that lands late, two days at once, a killed run.

Every replay here is `nba-assets replay` on a fresh NBA_HOME against the replay server; the
comparison is against the same days replayed one after the other, in order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import psutil
import pytest

from nba_assets import cli, run_guards
from nba_assets.cli import runs as cli_runs
from nba_assets.run_guards import HOST_TAG, PID_TAG, TARGET_TAG, _process_gone, _Run, mark_ghosts
from nba_assets.settings import get_settings
from nba_assets.tables import analytics, precompute, predictions

NOV1, NOV2 = "2025-11-01", "2025-11-02"
# Every table computed from a day's history (nba_raw is what the sources said, in any order).
COMPUTED = (*analytics.TABLES, *precompute.TABLES, *predictions.TABLES)
NBA_ASSETS = Path(sys.executable).with_name("nba-assets")
# Variables a replay exports for its own runs; a child starts without them, as a user would.
_RUN_ENV = ("DAGSTER_HOME", "NBA_NBA_STATS_BASE_URL", "NBA_ODDS_BASE_URL", "NBA_ODDS_API_KEY",
            "NBA_EXECUTOR", "NBA_DATASET_PREFIX", "NBA_HOME")  # fmt: skip


def replay(home: Path, start: str, end: str) -> int:
    os.environ["NBA_HOME"] = str(home)
    os.environ.pop("DAGSTER_HOME", None)
    get_settings.cache_clear()
    return cli.main(["replay", "--start", start, "--end", end])


def day_tables(home: Path, day: str) -> dict[str, pl.DataFrame]:
    """Every computed table's rows of ``day``, sorted, for comparing two warehouses."""
    out = {}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        for spec in COMPUTED:
            df = con.execute(
                f"SELECT * FROM {spec.qualified_name()} WHERE game_date = ?", [day]
            ).pl()
            out[spec.qualified_name()] = df.sort(df.columns, nulls_last=True)
    return out


def differing(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> list[str]:
    return [name for name in a if not a[name].equals(b[name])]


def instance_of(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home / "dagster"))


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _RUN_ENV}
    return {**env, "NBA_HOME": str(home)}


def start_replay(home: Path, day: str, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(NBA_ASSETS), "replay", "--start", day, "--end", day],
            env=child_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole below
        )


def reap(children: list[subprocess.Popen], timeout_seconds: float) -> list[int | None]:
    """Wait for every child until one deadline; kill what is left; always reap."""
    deadline = time.monotonic() + timeout_seconds
    try:
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                break
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(10)
    return [child.returncode for child in children]


@pytest.fixture(scope="module")
def in_order(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """2025-11-02's computed tables after replaying 2025-11-01, then 2025-11-02."""
    home = tmp_path_factory.mktemp("in_order")
    with pytest.MonkeyPatch.context() as mp:
        for var in _RUN_ENV:
            mp.delenv(var, raising=False)
        assert replay(home, NOV1, NOV1) == 0
        assert replay(home, NOV2, NOV2) == 0
        get_settings.cache_clear()
    return day_tables(home, NOV2)


def test_a_day_replayed_late_rereruns_the_later_day(
    in_order, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert replay(tmp_path, NOV2, NOV2) == 0
    said = capsys.readouterr().out
    # Nothing in the warehouse yet: the note as before, no wait, nothing to re-run.
    assert "note: the warehouse has no games" in said
    assert "computed without" not in said and "waiting for run" not in said
    without_nov1 = day_tables(tmp_path, NOV2)
    # The case the guard is for: 2025-11-02 computed before 2025-11-01 existed is different.
    assert differing(without_nov1, in_order)

    assert replay(tmp_path, NOV1, NOV1) == 0
    said = capsys.readouterr().out
    assert (
        f"days {NOV2}..{NOV2} were computed without {NOV1}..{NOV1}; re-running them"
        f" (nba-assets replay --start {NOV2} --end {NOV2})" in said
    )
    assert differing(day_tables(tmp_path, NOV2), in_order) == []


def test_too_many_late_days_are_named_with_the_command_to_run(
    in_order, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_guards, "RERUN_MAX_DAYS", 0)  # every span is too long to re-run here
    assert replay(tmp_path, NOV2, NOV2) == 0
    capsys.readouterr()
    assert replay(tmp_path, NOV1, NOV1) == 0
    said = capsys.readouterr().out
    advice = f"nba-assets replay --start {NOV2} --end {NOV2}"
    assert f"days {NOV2}..{NOV2} were computed without {NOV1}..{NOV1}; re-run: {advice}" in said
    assert said.count(" succeeded") == 1  # said, not done
    assert differing(day_tables(tmp_path, NOV2), in_order)

    assert replay(tmp_path, *advice.split()[3::2]) == 0
    assert differing(day_tables(tmp_path, NOV2), in_order) == []


def test_rerun_of_an_unchanged_day_leaves_later_days_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert replay(tmp_path, NOV1, NOV1) == 0
    assert replay(tmp_path, NOV2, NOV2) == 0
    capsys.readouterr()
    assert replay(tmp_path, NOV1, NOV1) == 0  # same sources, same rows: nothing later is stale
    said = capsys.readouterr().out
    assert "computed without" not in said
    assert said.count(" succeeded") == 1


def test_commands_started_together_on_a_new_home_all_open_its_instance(tmp_path: Path) -> None:
    """Dagster creates a new home's tables on first open; several commands at once must not
    trip over each other there (without the CLI's lock, 9 of 20 such processes failed)."""
    opens = "from nba_assets.cli.runs import dagster_instance; dagster_instance().get_runs()"
    for trial in range(3):
        env = {**os.environ, "NBA_HOME": str(tmp_path / f"home{trial}")}
        env.pop("DAGSTER_HOME", None)
        children = [
            subprocess.Popen([sys.executable, "-c", opens], env=env, stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        errors = [child.communicate(timeout=120)[1].decode() for child in children]
        assert [child.returncode for child in children] == [0] * 4, errors


@pytest.mark.parametrize("later_first", [True, False], ids=["later-day-first", "earlier-first"])
def test_two_days_at_once_end_as_in_order(in_order, tmp_path: Path, later_first: bool) -> None:
    days = [NOV2, NOV1] if later_first else [NOV1, NOV2]
    logs = [tmp_path / f"replay-{day}.log" for day in days]
    children = [start_replay(tmp_path, days[0], logs[0])]
    try:
        time.sleep(3)
        children.append(start_replay(tmp_path, days[1], logs[1]))
    finally:
        codes = reap(children, timeout_seconds=420)
    said = {day: log.read_text() for day, log in zip(days, logs, strict=True)}
    assert codes == [0, 0], said
    # However the two met, 2025-11-02 was computed (again) after 2025-11-01 was written.
    waited = "waiting for run" in said[NOV2]
    reran = f"days {NOV2}..{NOV2} were computed without {NOV1}..{NOV1}" in said[NOV1]
    assert waited or reran, said
    assert differing(day_tables(tmp_path, NOV2), in_order) == []


def test_a_killed_replay_is_marked_failed_by_the_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "killed.log"
    child = start_replay(tmp_path, NOV1, log)
    try:
        deadline = time.monotonic() + 240
        while "] ok" not in log.read_text() and time.monotonic() < deadline:
            assert child.poll() is None, log.read_text()
            time.sleep(0.2)
        assert "] ok" in log.read_text(), "the replay never finished a step"
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        reap([child], timeout_seconds=30)
    with instance_of(tmp_path) as instance:
        (ghost,) = instance.get_runs()
        assert ghost.status == dg.DagsterRunStatus.STARTED
        assert ghost.tags[PID_TAG] == str(child.pid)
        assert HOST_TAG in ghost.tags and TARGET_TAG in ghost.tags

    assert replay(tmp_path, NOV1, NOV1) == 0
    said = capsys.readouterr().out
    reason = f"process {child.pid} on {ghost.tags[HOST_TAG]} ended without finishing this run"
    assert f"run {ghost.run_id} ({NOV1}..{NOV1}) marked failed: {reason}" in said
    with instance_of(tmp_path) as instance:
        marked = instance.get_run_by_id(ghost.run_id)
        assert marked is not None and marked.status == dg.DagsterRunStatus.FAILURE
        failures = instance.all_logs(ghost.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert any(reason in (e.dagster_event.message or "") for e in failures if e.dagster_event)
        succeeded = dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS])
        assert len(instance.get_runs(filters=succeeded)) == 1


def test_a_killed_run_launched_outside_the_cli_is_marked_by_its_worker_pid(tmp_path: Path) -> None:
    # A run as the UI's run worker makes one: no tags of ours, the pid on its start event. Its
    # source never answers, so it is surely still running when killed.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    # The storage is created here first: two processes creating it at once race on its schema.
    instance_of(tmp_path).dispose()
    env = {
        **child_env(tmp_path),
        "DAGSTER_HOME": str(dagster_home),
        "NBA_NBA_STATS_BASE_URL": f"http://127.0.0.1:{silent.getsockname()[1]}/stats",
    }
    materialize = [sys.executable, "-m", "dagster", "asset", "materialize"]
    location = ["-m", "nba_assets.definitions"]
    select = ["--select", "landing/scoreboardv2", "--partition", NOV1]
    with (tmp_path / "worker.log").open("w") as out:
        child = subprocess.Popen(
            [*materialize, *location, *select],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with instance_of(tmp_path) as instance:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and not instance.get_runs(
                filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])
            ):
                assert child.poll() is None, (tmp_path / "worker.log").read_text()
                time.sleep(0.5)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        reap([child], timeout_seconds=30)
        silent.close()

    with instance_of(tmp_path) as instance:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.STARTED and PID_TAG not in run.tags
        (line,) = mark_ghosts(instance, "ui")
        assert f"run worker process {child.pid} ended without finishing this run" in line
        assert line.endswith("marked by `nba-assets ui`")
        marked = instance.get_run_by_id(run.run_id)
        assert marked is not None and marked.status == dg.DagsterRunStatus.FAILURE
        assert mark_ghosts(instance, "ui") == []  # marked once


def test_a_pid_counts_as_the_runs_only_while_its_process_is_older_than_the_run() -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        started = psutil.Process(sleeper.pid).create_time()

        def run_created_at(created: float) -> _Run:
            return _Run("r", dg.DagsterRunStatus.STARTED, None, None, {}, created, None, None)

        assert not _process_gone(sleeper.pid, run_created_at(started + 5))
        # The pid is now another program's, started long after the run: the run's is gone.
        assert _process_gone(sleeper.pid, run_created_at(started - 600))
    finally:
        sleeper.kill()
        sleeper.wait(10)
    assert _process_gone(sleeper.pid, run_created_at(started + 5))  # reaped: no such process


def test_the_local_instance_fails_runs_stuck_starting(tmp_path: Path) -> None:
    os.environ["NBA_HOME"] = str(tmp_path)
    os.environ.pop("DAGSTER_HOME", None)
    get_settings.cache_clear()
    instance = cli_runs.dagster_instance()
    # Run workers that die before they start are the daemon's; started ones are ours (above).
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_start_timeout_seconds == 180
    assert not instance.run_launcher.supports_check_run_worker_health
