"""Access to the DuckDB file: our own lock, who holds it, and waiting out outside connections.

DuckDB lets one process open a file for writing, or several for reading. Our writers queue on a
file lock next to the database (``<file>.lock``) and record who holds it in a sidecar
(``<file>.lock.holder``), so a waiter that gives up can say whom it waited for. A connection
opened outside the pipeline (a notebook, the DuckDB CLI) does not know our lock; DuckDB then
refuses our connect at once, and we retry with a short backoff for a bounded time before
failing with a message that names the file, the holder DuckDB reports and what to do.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_random_exponential,
)

from nba_assets.warehouse.errors import WarehouseBusyError

logger = logging.getLogger(__name__)

READ_HINT = 'read through `nba-assets sql "select ..."`, which shares the pipeline\'s lock'
# The outside holder each file's accesses in this process last gave up on, by file.
_GAVE_UP: dict[Path, str] = {}
_OUTSIDE_LOCK = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


@dataclass(frozen=True)
class LockHolder:
    """The process holding our warehouse lock, as it recorded itself on acquiring it."""

    pid: int
    command: str
    purpose: str
    since: str

    def describe(self) -> str:
        alive = _process_exists(self.pid)
        state = f"since {self.since}" if alive else f"recorded {self.since}, no longer running"
        return f"PID {self.pid} (`{self.command}`), {self.purpose}, {state}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _is_outside_lock(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "Could not set lock on file" in str(exc)


def outside_holder(exc: BaseException) -> str:
    """The program and PID DuckDB names as holding the file, or DuckDB's own message."""
    found = _OUTSIDE_LOCK.search(str(exc))
    if found is None:
        return f"another process ({exc})"
    return f"{found['program']} (PID {found['pid']})"


class WarehouseFile:
    """One DuckDB file, opened only under our lock, waiting a bounded time for outside holders."""

    def __init__(self, path: Path, timeout_seconds: float) -> None:
        self.path = Path(path)
        self.lock_path = Path(str(self.path) + ".lock")
        self.holder_path = Path(str(self.path) + ".lock.holder")
        self.timeout_seconds = timeout_seconds

    def holder(self) -> LockHolder | None:
        """Who recorded holding the lock last; None when nobody holds it (or nothing readable)."""
        try:
            return LockHolder(**json.loads(self.holder_path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:  # torn or foreign content: say so, never guess
            logger.warning("unreadable lock holder record %s: %s", self.holder_path, exc)
            return None

    @contextmanager
    def open(self, purpose: str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work, holding our lock until it is closed.

        Raises:
            WarehouseBusyError: our lock or an outside DuckDB connection kept the file for longer
                than ``timeout_seconds``; the message names the file, the holder and what to do.
        """
        began = time.monotonic()
        deadline = began + self.timeout_seconds

        def give_up(state: RetryCallState) -> bool:
            # A holder this process already waited out fails the next access at once, so a
            # forgotten notebook fails a run after one timeout, not one timeout per step.
            error = state.outcome.exception() if state.outcome is not None else None
            known = error is not None and _GAVE_UP.get(self.path) == outside_holder(error)
            if state.attempt_number == 1 and known:
                return True
            return time.monotonic() - began >= self.timeout_seconds

        retrying = Retrying(
            retry=retry_if_exception(_is_outside_lock),
            stop=give_up,
            wait=wait_random_exponential(multiplier=0.05, max=1.0),
            before_sleep=self._say_waiting,
            reraise=True,
        )
        try:
            lock, con = retrying(self._acquire, purpose, read_only, deadline)
        except duckdb.IOException as exc:
            if not _is_outside_lock(exc):
                raise
            holder = outside_holder(exc)
            waited = (
                f"waited {self.timeout_seconds:.0f}s"
                if _GAVE_UP.get(self.path) != holder
                else f"already waited {self.timeout_seconds:.0f}s in this process"
            )
            _GAVE_UP[self.path] = holder
            raise WarehouseBusyError(
                f"{waited} for the warehouse {self.path}: it is held open by another DuckDB"
                f" connection, {holder}, so the pipeline cannot"
                f" {'read' if read_only else 'write'} it. Close that connection (a notebook or"
                f" DuckDB CLI session on the file), or {READ_HINT}, or open a copy taken under"
                f" that lock (`flock {self.lock_path} cp {self.path} copy.duckdb`). Then re-run."
            ) from exc
        _GAVE_UP.pop(self.path, None)
        try:
            yield con
        finally:
            try:
                con.close()
            finally:
                self._release(lock)

    def _acquire(
        self, purpose: str, read_only: bool, deadline: float
    ) -> tuple[FileLock, duckdb.DuckDBPyConnection]:
        lock = FileLock(self.lock_path, timeout=max(0.0, deadline - time.monotonic()))
        try:
            lock.acquire()
        except Timeout as exc:
            holder = self.holder()
            who = holder.describe() if holder else "a process that has not recorded itself yet"
            raise WarehouseBusyError(
                f"waited {self.timeout_seconds:.0f}s for the warehouse lock {self.lock_path}"
                f" of {self.path}: held by {who}. Let it finish or stop it, or raise"
                " NBA_WAREHOUSE_LOCK_TIMEOUT_SECONDS to wait longer."
            ) from exc
        try:
            self._record(purpose)
            con = duckdb.connect(str(self.path), read_only=read_only)
        except BaseException:
            # An outside holder (or anything else) ends this attempt: let our other waiters in
            # while this one backs off.
            self._release(lock)
            raise
        return lock, con

    def _record(self, purpose: str) -> None:
        holder = LockHolder(
            pid=os.getpid(),
            command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300],
            purpose=purpose,
            since=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        # Written aside and renamed so a waiter never reads half a record.
        staging = self.holder_path.with_name(f"{self.holder_path.name}.{os.getpid()}")
        staging.write_text(json.dumps(asdict(holder)))
        os.replace(staging, self.holder_path)

    def _release(self, lock: FileLock) -> None:
        try:
            # Only our own record: a dead holder's stale one is overwritten by the next holder.
            holder = self.holder()
            if holder is not None and holder.pid == os.getpid():
                self.holder_path.unlink(missing_ok=True)
        finally:
            lock.release()

    def _say_waiting(self, state: RetryCallState) -> None:
        if state.attempt_number != 1 or state.outcome is None:
            return
        logger.warning(
            "the warehouse %s is held open by %s; waiting up to %.0fs for it to close (%s)",
            self.path,
            outside_holder(state.outcome.exception()),  # type: ignore[arg-type]
            self.timeout_seconds,
            READ_HINT,
        )
