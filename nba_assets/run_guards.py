"""Guards around the CLI's runs on one Dagster instance and one warehouse.

- Ghosts: a run whose process is gone (killed, crashed) stays STARTED for ever in Dagster; the
  next command marks it failed and says why.
- Earlier days first: a run waits (bounded) for a live run that writes days before its own,
  since its features are computed from them.
- Late days: when a run changed days whose later days were already computed (out of order, or
  by a run at the same time), it re-runs those later days itself when they are few, and
  otherwise says which days to re-run.

Runs are matched on their tags: the partition range Dagster records for a single-run backfill,
and ours, the process (host, pid) and the warehouse target (backend, location, dataset prefix).

One module for the three guards (over 350 lines on purpose): they read the same run records
and tags, and the late-day guard builds on the in-flight one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import polars as pl
import psutil

from nba_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from nba_assets.resources import warehouse_for
from nba_assets.settings import Settings
from nba_assets.tables import all_tables, precompute, predictions

if TYPE_CHECKING:
    from nba_assets.warehouse.base import Warehouse

PID_TAG = "nba_assets/pid"
HOST_TAG = "nba_assets/host"
TARGET_TAG = "nba_assets/target"

# Day D's features read every earlier game of the season and the season before (rest days,
# last-10 and season averages): a run writing days up to this far before D is waited for.
FEATURE_LOOKBACK = dt.timedelta(days=400)
# The longest a run waits for another one; then it goes on and says so (the late-day check of
# whichever run writes earlier days catches what that costs).
WAIT_SECONDS = 20 * 60
POLL_SECONDS = 1.0
# Out-of-date later days are re-run in the same command up to this many days (a month replays
# in about a minute here); a longer span is reported with the command to run.
RERUN_MAX_DAYS = 31
# psutil's process start time and Dagster's timestamps come from different clocks (boot time is
# whole seconds): a process counts as the run's own unless it started this much after the run.
CLOCK_SLACK_SECONDS = 2.0

# Runs that claim to be running: NOT_STARTED is a run created by a CLI process that has not
# started yet (execute_in_process creates it first).
_LIVE = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# What days after D read of D (and every table later days are computed from).
_HISTORY_DEPENDENT = (*precompute.TABLES, *predictions.TABLES)


def target_of(settings: Settings) -> str:
    """The warehouse a run writes: backend, location and dataset prefix, as one tag value."""
    if settings.deployment == "prod":
        where = f"bigquery:{settings.gcp_project}"
    else:
        where = f"duckdb:{settings.warehouse_path.resolve()}"
    return f"{where}#{settings.dataset_prefix}"


def run_tags(settings: Settings) -> dict[str, str]:
    """The tags every CLI run carries: its process and its warehouse target."""
    return {
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
        TARGET_TAG: target_of(settings),
    }


@dataclass(frozen=True)
class _Run:
    """A run record as the guards see it: its id, range, target and times (epoch seconds)."""

    run_id: str
    status: dg.DagsterRunStatus
    first_day: dt.date | None
    last_day: dt.date | None
    tags: dict[str, str]
    created: float
    started: float | None
    ended: float | None

    @classmethod
    def of(cls, record: dg.RunRecord) -> _Run:
        run = record.dagster_run
        tags = dict(run.tags)
        return cls(
            run_id=run.run_id,
            status=run.status,
            first_day=_day(tags.get(RANGE_START_TAG)),
            last_day=_day(tags.get(RANGE_END_TAG)),
            tags=tags,
            created=record.create_timestamp.timestamp(),
            started=record.start_time,
            ended=record.end_time,
        )

    @property
    def days(self) -> str:
        return f"{self.first_day}..{self.last_day}" if self.first_day else "no partition range"

    def each_day(self) -> list[dt.date]:
        """The days the run writes (none when it has no daily partition range)."""
        if self.first_day is None or self.last_day is None:
            return []
        return _each_day(self.first_day, self.last_day)

    @property
    def mine(self) -> bool:
        return (
            self.tags.get(PID_TAG) == str(os.getpid())
            and self.tags.get(HOST_TAG) == socket.gethostname()
        )

    def writes(self, target: str) -> bool:
        """Whether the run writes ``target``; a run launched from the UI carries no target tag
        and is taken to write the instance's unprefixed warehouse."""
        return self.tags.get(TARGET_TAG, f"{target.rpartition('#')[0]}#") == target


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:  # a UI range of non-daily keys: not ours to judge
        return None


def _records(
    instance: dg.DagsterInstance, statuses: Sequence[dg.DagsterRunStatus] | None = None
) -> list[_Run]:
    return [_Run.of(r) for r in instance.get_run_records(filters=dg.RunsFilter(statuses=statuses))]


# --- Ghosts ---------------------------------------------------------------------------------


def _run_pid(instance: dg.DagsterInstance, run: _Run) -> tuple[int, str] | None:
    """The process running ``run`` and how we know it; None when it cannot be judged here.

    CLI runs carry their pid and host. A run launched from the UI is executed by a run worker
    whose pid is on the run's start event; the local instance's workers run on this machine.
    """
    if HOST_TAG in run.tags:
        if run.tags[HOST_TAG] != socket.gethostname():
            return None
        return int(run.tags[PID_TAG]), f"process {run.tags[PID_TAG]} on {run.tags[HOST_TAG]}"
    if run.started is None:
        return None  # not launched yet, or still starting: Dagster's run monitoring judges those
    starts = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_START)
    pid = next((e.dagster_event.pid for e in starts if e.dagster_event is not None), None)
    return None if pid is None else (pid, f"run worker process {pid}")


def _process_gone(pid: int, run: _Run) -> bool:
    """Whether no process ``pid`` runs ``run`` any more (dead, a zombie, or the pid reused by a
    process that started after the run did)."""
    if pid == os.getpid():
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return True
        return process.create_time() > (run.started or run.created) + CLOCK_SLACK_SECONDS
    except psutil.NoSuchProcess:
        return True


def mark_ghosts(instance: dg.DagsterInstance, command: str) -> list[str]:
    """Mark every run whose process is gone as failed (canceled if it was canceling), with the
    reason on the run; prints and returns one line per run marked."""
    lines = []
    for run in _records(instance, _LIVE):
        found = _run_pid(instance, run)
        if found is None or not _process_gone(found[0], run):
            continue
        reason = (
            f"{found[1]} ended without finishing this run (killed or crashed);"
            f" marked by `nba-assets {command}`"
        )
        dagster_run = instance.get_run_by_id(run.run_id)
        if dagster_run is None or dagster_run.is_finished:
            continue
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(dagster_run, reason)
            marked = "canceled"
        else:
            instance.report_run_failed(dagster_run, reason)
            marked = "failed"
        lines.append(f"run {run.run_id} ({run.days}) marked {marked}: {reason}")
        print(lines[-1], flush=True)
    return lines


# --- Waiting for other runs -----------------------------------------------------------------


def _wait_for(
    instance: dg.DagsterInstance,
    wanted: Callable[[_Run], bool],
    why: str,
    command: str,
    timeout_seconds: float,
) -> None:
    """Wait until no live run matches ``wanted`` (ghosts are marked and stop counting), saying
    once which runs are waited for; after ``timeout_seconds`` go on and say so."""
    deadline = time.monotonic() + timeout_seconds
    announced: set[str] = set()
    while True:
        live = [r for r in _records(instance, _LIVE) if not r.mine and wanted(r)]
        if not live:
            return
        for run in live:
            if run.run_id not in announced:
                announced.add(run.run_id)
                print(f"waiting for run {run.run_id} (days {run.days}): {why}", flush=True)
        if time.monotonic() >= deadline:
            print(
                f"still running after {timeout_seconds:.0f}s: {', '.join(r.run_id for r in live)};"
                " going on without waiting longer",
                flush=True,
            )
            return
        time.sleep(POLL_SECONDS)
        mark_ghosts(instance, command)


# --- The guard of one command's runs ----------------------------------------------------------


@dataclass
class RangeGuard:
    """One command's runs over ``start..`` on one instance and warehouse (see the module doc)."""

    instance: dg.DagsterInstance
    start: dt.date
    settings: Settings
    command: str
    data: Path | None = None
    wait_seconds: float = WAIT_SECONDS
    began: float = field(default_factory=time.time)
    written: tuple[dt.date, dt.date] | None = None
    fingerprint: str | None = None

    @property
    def target(self) -> str:
        return target_of(self.settings)

    @cached_property
    def warehouse(self) -> Warehouse:
        return warehouse_for(self.settings)

    @classmethod
    def begin(
        cls,
        instance: dg.DagsterInstance,
        start: dt.date,
        settings: Settings,
        command: str = "replay",
        data: Path | None = None,
        wait_seconds: float = WAIT_SECONDS,
    ) -> RangeGuard:
        """Mark ghost runs, then wait for live runs writing the days before ``start``."""
        guard = cls(instance, start, settings, command, data, wait_seconds)
        mark_ghosts(instance, command)
        lookback = start - FEATURE_LOOKBACK
        _wait_for(
            instance,
            lambda r: r.writes(guard.target) and any(lookback <= d < start for d in r.each_day()),
            f"it writes days before {start}, which this run's features are computed from",
            command,
            wait_seconds,
        )
        guard.began = time.time()  # runs that ended before now finished before we read anything
        return guard

    def watch(self, first: dt.date, last: dt.date) -> None:
        """Remember what ``first..last`` holds before this command writes it.

        Only needed when later days are already there or being written; otherwise any later day
        found afterwards was written at the same time as ours and counts as computed without it.
        """
        self.written = (first, last)
        later = _days_after(self.warehouse, last)
        live_later = [
            r
            for r in _records(self.instance, _LIVE)
            if not r.mine and r.writes(self.target) and any(d > first for d in r.each_day())
        ]
        self.fingerprint = (
            _fingerprint(self.warehouse, first, last) if later or live_later else None
        )

    def settle(self, rerun: Callable[[dt.date, dt.date, bool], bool]) -> bool:
        """After this command's runs: re-run (or name) the later days computed without them.

        ``rerun(first, last, history_only)`` runs the days; returns its success (True when
        nothing had to be re-run, or the span was only reported).
        """
        if self.written is None:
            raise RuntimeError("RangeGuard.settle before watch: nothing says what was written")
        first, last = self.written
        ours = [r.ended for r in _records(self.instance) if r.mine and r.created >= self.began]
        written_at = max((t for t in ours if t is not None), default=time.time())
        # A run created after ours ended reads what we wrote; one created before may not have.
        _wait_for(
            self.instance,
            lambda r: (
                r.writes(self.target)
                and r.created < written_at
                and any(d > first for d in r.each_day())
            ),
            f"it writes days after {first}; they are checked against this run's once it ends",
            self.command,
            self.wait_seconds,
        )
        if self.fingerprint is not None and self.fingerprint == _fingerprint(
            self.warehouse, first, last
        ):
            return True  # what later days read of first..last did not change
        stale = self._stale_days(first, last, written_at)
        if not stale:
            return True
        lo, hi = min(stale), max(stale)
        command = self._command(lo, hi)
        said = f"days {lo}..{hi} were computed without {first}..{last}"
        if (hi - lo).days + 1 > RERUN_MAX_DAYS:
            print(f"{said}; re-run: {command}", flush=True)
            return True
        history_only = predictions.player_prop_predictions.name not in _tables_holding(
            self.warehouse, lo, hi
        )
        print(f"{said}; re-running them ({command})", flush=True)
        return rerun(lo, hi, history_only)

    def _stale_days(self, first: dt.date, last: dt.date, written_at: float) -> set[dt.date]:
        """Later days whose history-dependent tables may have been computed without ours
        (``written_at``: when our last run ended)."""
        others = [
            r
            for r in _records(self.instance)
            if not r.mine and r.writes(self.target) and r.each_day()
        ]
        # A run created after ours ended reads what we wrote: the days it writes (or wrote) are
        # current, unless it failed.
        current = {
            d
            for r in others
            if r.created >= written_at and r.status in (*_LIVE, dg.DagsterRunStatus.SUCCESS)
            for d in r.each_day()
        }
        stale = {d for d in _days_after(self.warehouse, last) if d not in current}
        # A run at the same time as ours that starts after our first day may have missed our
        # days before its own, even those inside our range.
        for r in others:
            overlapped = r.created < written_at and (r.ended is None or r.ended > self.began)
            if overlapped and min(r.each_day()) > first:
                stale.update(r.each_day())
        return stale

    def _command(self, first: dt.date, last: dt.date) -> str:
        words = ["nba-assets", "replay", "--start", str(first), "--end", str(last)]
        prefix = self.settings.dataset_prefix
        if prefix:
            words += ["--prefix", prefix]
        if self.data is not None:
            words += ["--data", str(self.data)]
        return " ".join(words)


def _days_after(warehouse: Warehouse, day: dt.date) -> set[dt.date]:
    """The days after ``day`` that the warehouse holds in a history-dependent table."""
    days: set[dt.date] = set()
    with warehouse.reading(f"reading which days after {day} are held"):
        for spec in _HISTORY_DEPENDENT:
            df = warehouse.read(spec, day + dt.timedelta(days=1), None, [spec.partition_column])
            days.update(df.get_column(spec.partition_column).unique().to_list())
    return days


def _tables_holding(warehouse: Warehouse, first: dt.date, last: dt.date) -> set[str]:
    """The names of the history-dependent tables with rows in ``first..last``."""
    with warehouse.reading(f"reading which tables hold {first}..{last}"):
        return {
            spec.name
            for spec in _HISTORY_DEPENDENT
            if warehouse.read(spec, first, last, [spec.partition_column]).height
        }


def _fingerprint(warehouse: Warehouse, first: dt.date, last: dt.date) -> str:
    """A content hash of every table's rows of ``first..last`` (order-independent)."""
    digest = hashlib.sha256()
    with warehouse.reading(f"fingerprinting {first}..{last}"):
        for spec in all_tables():
            df = warehouse.read(spec, first, last)
            digest.update(spec.qualified_name().encode())
            digest.update(_rows_hash(df))
    return digest.hexdigest()


def _rows_hash(df: pl.DataFrame) -> bytes:
    return df.hash_rows(seed=0).sort().to_numpy().tobytes() if df.height else b""


def _each_day(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
