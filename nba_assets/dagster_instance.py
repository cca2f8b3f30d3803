"""The local Dagster instance: its ``dagster.yaml``, the environment its runs need, and an event
log storage that writes a ranged run's per-partition events in one transaction and keeps its
SQLite connections open between events.

A single-run backfill over N days makes every asset emit N materialization events. With
``DAGSTER_EVENT_BATCH_SIZE`` > 0 Dagster hands them to ``store_event_batch`` in batches, but the
stock SQLite storage stores them one by one: two commits (an fsync each) per event, which is most
of a long ranged run's time. ``BatchingSqliteEventLogStorage`` stores a batch with one commit per
shard and leaves the instance answering exactly as the stock storage does
(``nba_assets_tests/test_event_batching.py`` proves it).
"""

from __future__ import annotations

import json
import os
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationPlanned,
)
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData, serialize_value
from dagster.version import __version__ as DAGSTER_VERSION
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# The batch write below reproduces SqliteEventLogStorage.store_event (1.13.27) for asset events
# with its private parts (_event_to_row, _store_asset_event_tags, _store_asset_event, _initdb,
# _initialized_dbs, _db_lock), and the rows of _store_asset_check_evaluation_planned. Another
# Dagster may store events differently, so there the storage falls back to the stock writes
# until this code is checked against it.
SUPPORTED_DAGSTER_VERSION = "1.13.27"

# Run shards whose connection stays open: a run writes to its own shard and the index; a
# webserver reading many runs keeps only the latest few open.
OPEN_RUN_SHARDS = 8

# Events per store_event_batch call: a season's range is one batch per asset. 6 trivial assets
# x 365 days took 1.7-2.7 s with it, 2.2-3.9 s in batches of 50 (benchmarks/bookkeeping.py).
EVENT_BATCH_SIZE = 1000

RUN_ENV: Mapping[str, str] = {
    "DAGSTER_EVENT_BATCH_SIZE": str(EVENT_BATCH_SIZE),
    # One planned event per partition range instead of per partition and asset: planning a
    # two-season run drops from minutes to seconds (the per-partition failure status is coarser).
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1",
}
"""Environment of every process that runs or launches our Dagster runs (CLI, ``dagster dev``)."""

# What `nba-assets` wrote before the batching storage; such a file is replaced, as is any file
# still starting with the marker. A file without either is the user's and is left alone.
LEGACY_LOCAL_YAML = "telemetry:\n  enabled: false\n"
GENERATED_MARKER = "# Written by nba-assets; delete this line to keep your own edits."


def local_instance_yaml(dagster_home: Path) -> str:
    """The ``dagster.yaml`` of the local instance under ``dagster_home``.

    Runs and schedules keep Dagster's default SQLite storage; the event log stays where the
    default puts it (``history/runs``), so an existing instance keeps its history.
    """
    events_dir = json.dumps(str(dagster_home.resolve() / "history" / "runs"))
    return (
        f"{GENERATED_MARKER}\n"
        "telemetry:\n"
        "  enabled: false\n"
        "# A ranged run's materializations are stored a batch at a time.\n"
        "event_log_storage:\n"
        f"  module: {__name__}\n"
        f"  class: {BatchingSqliteEventLogStorage.__name__}\n"
        "  config:\n"
        f"    base_dir: {events_dir}\n"
        "# The daemon fails runs stuck starting (a worker that died before it began); the default\n"
        "# launcher cannot check a started worker, so nba-assets marks those (run_guards.py).\n"
        "run_monitoring:\n"
        "  enabled: true\n"
        "  start_timeout_seconds: 180\n"
        "# One run at a time per source API and on the warehouse (nba_assets/defs/pools.py):\n"
        "# the queue holds a run until every pool its steps use is free.\n"
        "concurrency:\n"
        "  pools:\n"
        "    granularity: run\n"
        "    default_limit: 1\n"
        "# The daemon re-launches a run whose worker died, from the failed steps, when the run's\n"
        "# dagster/max_retries tag asks (the scheduled jobs do); failing steps retry with backoff\n"
        "# inside the run instead (their op retry policy).\n"
        "run_retries:\n"
        "  enabled: true\n"
        "  max_retries: 0\n"
        "  retry_on_asset_or_op_failure: false\n"
    )


def ensure_local_instance_yaml(dagster_home: Path) -> Path:
    """Write the local instance's ``dagster.yaml`` unless the user keeps their own; its path."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    wanted = local_instance_yaml(dagster_home)
    current = path.read_text() if path.exists() else None
    ours = current is None or current == LEGACY_LOCAL_YAML or current.startswith(GENERATED_MARKER)
    if ours and current != wanted:
        path.write_text(wanted)
    return path


def _is_batchable(event: EventLogEntry) -> bool:
    """An event the stock storage mirrors into the index shard as an asset event, and only that."""
    dagster_event = event.dagster_event
    return (
        dagster_event is not None
        and dagster_event.event_type in ASSET_EVENTS
        and dagster_event.asset_key is not None
    )


def _last_of_each_kind(
    events: Sequence[EventLogEntry], event_ids: Sequence[int]
) -> list[tuple[EventLogEntry, int]]:
    """The last event (with its id) of each asset and event type, in the order stored.

    An asset's row holds the columns its latest events wrote, and an event writes the same
    columns as any earlier one of its type, so these events alone leave the row as all of them
    in turn would (dagster-postgres keeps only the last event of a batch of one type).
    """
    last: dict[tuple[str, str], tuple[int, EventLogEntry, int]] = {}
    for position, (event, event_id) in enumerate(zip(events, event_ids, strict=True)):
        dagster_event = event.get_dagster_event()
        kind = (str(dagster_event.asset_key), dagster_event.event_type_value)
        last[kind] = (position, event, event_id)
    return [(event, event_id) for _, event, event_id in sorted(last.values(), key=lambda x: x[0])]


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage that writes a batch of asset events in one transaction per shard,
    and keeps each shard's connection open between events.

    The stock storage creates an engine, opens the shard, commits and closes it for every event
    and every read (about 1 ms each here, of which the open and the close's WAL checkpoint are
    most); a one-day run stores and reads thousands of times. Here each process keeps one
    connection per shard (the index and the latest :data:`OPEN_RUN_SHARDS` runs), used under
    the storage's lock like the stock ones; commits are the same, so what is stored is too.

    Configured in ``dagster.yaml`` like the stock storage::

        event_log_storage:
          module: nba_assets.dagster_instance
          class: BatchingSqliteEventLogStorage
          config:
            base_dir: /path/to/dagster_home/history/runs
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # shard -> its engine, latest used last; opened by process ``_engines_pid``.
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        # Index tables known to exist: a table, once there, stays (wiping empties it).
        self._tables_seen: set[str] = set()
        # Set before the stock constructor, which may already read and write the index.
        self.batching = DAGSTER_VERSION == SUPPORTED_DAGSTER_VERSION
        super().__init__(base_dir, inst_data=inst_data)
        if not self.batching:
            warnings.warn(
                f"{type(self).__name__} ({__name__}) was written against Dagster"
                f" {SUPPORTED_DAGSTER_VERSION}'s SQLite event log; Dagster {DAGSTER_VERSION} is"
                " installed, so it stores events one at a time like the stock storage. Check"
                " store_event_batch against the new SqliteEventLogStorage.store_event and update"
                " SUPPORTED_DAGSTER_VERSION.",
                stacklevel=2,
            )

    @classmethod
    def from_config_value(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchingSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Store the events as ``store_event`` would one after the other, in one commit per shard.

        Dagster batches only one step's per-partition asset events; any other mix (several
        runs, check or run-status events) goes through the stock path.
        """
        run_ids = {event.run_id for event in events}
        if not self.batching or len(run_ids) != 1 or not all(map(_is_batchable, events)):
            super().store_event_batch(events)
            return
        (run_id,) = run_ids
        rows = [self._event_to_row(event) for event in events]
        # Ids in the order of the rows, as one INSERT per event would have given them.
        insert_returning_ids = SqlEventLogStorageTable.insert().returning(
            SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
        )
        # The run shard commits only after the index shard did: if the index write fails,
        # neither shard keeps the batch, and Dagster's fallback (store_event per event) writes
        # each event exactly once.
        with self._db_lock, self._shard_transaction(run_id) as run_conn:
            run_conn.execute(SqlEventLogStorageTable.insert(), rows)
            with self._shard_transaction(INDEX_SHARD_NAME) as index_conn:
                event_ids = [row.id for row in index_conn.execute(insert_returning_ids, rows)]
                self._store_asset_event_tags(index_conn, events, event_ids)
                for event, event_id in _last_of_each_kind(events, event_ids):
                    self._store_asset_event(index_conn, event, event_id)

    def _store_asset_check_evaluation_planned(
        self, event: EventLogEntry, event_id: int | None
    ) -> None:
        """The stock method's rows (one per partition of the run's range), with the event
        serialized once and the rows inserted as one executemany.

        The stock method serializes the event again for each partition and compiles one VALUES
        clause of them all: 11 s of the demo's 175 s for its history run's 1,463 days.
        """
        if not self.batching:
            super()._store_asset_check_evaluation_planned(event, event_id)
            return
        planned = event.get_dagster_event().event_specific_data
        assert isinstance(planned, AssetCheckEvaluationPlanned)
        subset = planned.partitions_subset
        partitions = subset.get_partition_keys() if subset is not None else [None]
        shared = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialize_value(event),
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
        }
        with self.index_connection() as conn:
            conn.execute(
                AssetCheckExecutionsTable.insert(),
                [{**shared, "partition": partition} for partition in partitions],
            )

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """The stock ``_connect`` (one transaction on the shard, under the storage's lock) on
        the shard's kept connection."""
        if not self.batching:
            with super()._connect(shard) as conn:
                yield conn
            return
        with self._db_lock, self._shard_transaction(shard) as conn:
            yield conn

    @contextmanager
    def _shard_transaction(self, shard: str) -> Iterator[Connection]:
        """One transaction on the shard's kept connection, without the storage's lock, which
        the caller holds (once for both shards of a batch: the lock is not reentrant)."""
        with self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def _engine(self, shard: str) -> Engine:
        if self._engines_pid != os.getpid():
            # A forked child leaves its parent's connections to the parent.
            for inherited in self._engines.values():
                inherited.dispose(close=False)
            self._engines.clear()
            self._engines_pid = os.getpid()
        engine = self._engines.get(shard)
        if engine is None:
            # One connection, used by one thread at a time (under the lock), from any thread.
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
            runs = [name for name in self._engines if name != INDEX_SHARD_NAME]
            for old in runs[:-OPEN_RUN_SHARDS]:
                self._engines.pop(old).dispose()
        elif shard != INDEX_SHARD_NAME:
            self._engines.move_to_end(shard)
        return engine

    def has_table(self, table_name: str) -> bool:
        """The stock answer, remembered once a table is there: the stock method opens the index
        on a new engine each time, and storing an asset event asks it."""
        if self.batching and table_name in self._tables_seen:
            return True
        found = super().has_table(table_name)
        if found and self.batching:
            self._tables_seen.add(table_name)
        return found

    def _close_shards(self) -> None:
        with self._db_lock:
            own = self._engines_pid == os.getpid()
            while self._engines:
                self._engines.popitem()[1].dispose(close=own)

    def wipe(self) -> None:
        # Wiping deletes the run shards' files: connections kept open would write to them.
        self._close_shards()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_shards()
