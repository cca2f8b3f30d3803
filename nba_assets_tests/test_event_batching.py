"""Batched event writes leave the Dagster instance answering exactly as the stock SQLite storage.

The same ranged runs (single-run backfills of a few daily-partitioned assets with metadata) go
once through an instance with Dagster's stock SQLite event log and once through one configured
with ``BatchingSqliteEventLogStorage``; everything the UI and the asset APIs read must match.
"""

import datetime as dt
import logging
import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from sqlalchemy.pool import Pool

from nba_assets import cli
from nba_assets import dagster_instance as local_instance
from nba_assets.dagster_instance import (
    LEGACY_LOCAL_YAML,
    BatchingSqliteEventLogStorage,
    ensure_local_instance_yaml,
)
from nba_assets.settings import get_settings
from nba_assets_tests.ranged_assets import ASSETS, CHECKS, DAYS

# Two overlapping ranges: days 21-30 are materialized twice, so "latest per partition" matters.
RANGES = [("2025-01-01", "2025-01-30"), ("2025-01-21", "2025-02-09")]
BATCH_SIZE = "7"  # several full batches and a partial last one per asset and run

KEYS = [a.key for a in ASSETS]
REPO = Path(__file__).resolve().parents[1]
BACKFILL_DEADLINE_S = 300


def _instance(home: Path, batching: bool) -> dg.DagsterInstance:
    home.mkdir(parents=True)
    if batching:
        ensure_local_instance_yaml(home)
    else:
        (home / "dagster.yaml").write_text(LEGACY_LOCAL_YAML)
    return dg.DagsterInstance.from_config(str(home))


def _run_ranges(instance: dg.DagsterInstance, ranges: Sequence[tuple[str, str]]) -> list[str]:
    run_ids = []
    for start, end in ranges:
        tags = {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}
        result = dg.materialize([*ASSETS, *CHECKS], instance=instance, tags=tags)
        assert result.success
        run_ids.append(result.run_id)
        # As the UI's asset pages do between runs: the partition status cache is built after
        # the first run and brought up to date from the new events after the second.
        for key in KEYS:
            instance.get_status_by_partition(key, DAYS.get_partition_keys(), DAYS)
    return run_ids


def _backfills_like_the_ui(
    instance: dg.DagsterInstance, ranges: Sequence[tuple[str, str]]
) -> list[str]:
    """Request a backfill of each range in turn as the UI's launch button does, and run the
    backfill and run-queue daemons' iterations until it completes: its runs start from a code
    server in run worker processes that load the instance from its dagster.yaml. Returns the
    runs' ids, oldest first.
    """
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
    from dagster._core.storage.tags import BACKFILL_ID_TAG
    from dagster._core.test_utils import (
        create_test_daemon_workspace_context,
        poll_for_finished_run,
    )
    from dagster._core.utils import make_new_backfill_id
    from dagster._core.workspace.load_target import ModuleTarget
    from dagster._daemon.backfill import execute_backfill_iteration
    from dagster._daemon.run_coordinator import QueuedRunCoordinatorDaemon

    target = ModuleTarget(
        module_name="nba_assets_tests.ranged_assets",
        attribute="defs",
        working_directory=str(REPO),
        location_name="ranged_assets",
    )
    run_ids: list[str] = []
    with create_test_daemon_workspace_context(target, instance) as context:
        for start, end in ranges:
            backfill_id = make_new_backfill_id()
            runs_filter = dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id})
            backfill = PartitionBackfill.from_asset_partitions(
                backfill_id=backfill_id,
                asset_graph=context.create_request_context().asset_graph,
                partition_names=DAYS.get_partition_keys_in_range(dg.PartitionKeyRange(start, end)),
                asset_selection=KEYS,
                backfill_timestamp=time.time(),
                tags={},
                dynamic_partitions_store=instance,
                all_partitions=False,
                title=None,
                description=None,
                run_config=None,
            )
            instance.add_backfill(backfill)
            deadline = time.monotonic() + BACKFILL_DEADLINE_S
            while backfill.status == BulkActionStatus.REQUESTED:
                assert time.monotonic() < deadline, f"backfill {backfill_id} not done in time"
                iteration = execute_backfill_iteration(context, logging.getLogger("backfill"))
                errors = [error for error in iteration if error is not None]
                assert not errors, errors
                # The instance queues runs (Dagster's default): the queue daemon launches them.
                list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(context))
                for run in instance.get_runs(filters=runs_filter):
                    poll_for_finished_run(instance, run.run_id, timeout=BACKFILL_DEADLINE_S)
                backfill = instance.get_backfill(backfill_id)
                assert backfill is not None
            assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS, backfill.status
            run_ids += [run.run_id for run in reversed(instance.get_runs(filters=runs_filter))]
            for key in KEYS:  # the UI's asset pages, between the backfills
                instance.get_status_by_partition(key, DAYS.get_partition_keys(), DAYS)
    return run_ids


def _record(record: dg.EventLogRecord | None, run_names: dict[str, str]) -> dict[str, Any] | None:
    """A stored event as the instance answers it, with run ids named by their order."""
    if record is None:
        return None
    entry = record.event_log_entry
    event = entry.get_dagster_event()
    materialization = event.step_materialization_data.materialization
    return {
        "storage_id": record.storage_id,
        "run": run_names[entry.run_id],
        "type": event.event_type_value,
        "asset": event.asset_key,
        "partition": event.partition,
        "step": entry.step_key,
        "metadata": dict(materialization.metadata),
        "tags": dict(materialization.tags or {}),
    }


def _check_executions(instance: dg.DagsterInstance, run_names: dict[str, str]) -> list[Any]:
    """The stored rows of every check execution (one per partition of its run's range), with
    what their event says apart from times, and the history the UI's check pages read."""
    from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
    from dagster._serdes import deserialize_value

    table = AssetCheckExecutionsTable
    with instance.event_log_storage.index_connection() as conn:
        rows = conn.execute(table.select().order_by(table.c.id)).fetchall()
    stored = []
    for row in rows:
        data = deserialize_value(row.evaluation_event).get_dagster_event().event_specific_data
        said = (
            sorted(data.partitions_subset.get_partition_keys())
            if row.execution_status == "PLANNED"
            else (data.passed, dict(data.metadata))
        )
        stored.append(
            (row.id, row.asset_key, row.check_name, row.partition, run_names[row.run_id],
             row.execution_status, row.evaluation_event_storage_id,
             row.materialization_event_storage_id, said)
        )  # fmt: skip
    history = [
        (record.id, run_names[record.run_id], record.status, record.partition)
        for check in CHECKS
        for key in check.check_keys
        for record in instance.event_log_storage.get_asset_check_execution_history(key, 1000)
    ]
    return [stored, history]


def _state(instance: dg.DagsterInstance, run_ids: list[str]) -> dict[str, Any]:
    """Everything the UI and the asset APIs read back about the assets and the runs."""
    run_names = {run_id: f"run{i}" for i, run_id in enumerate(run_ids)}
    all_days = DAYS.get_partition_keys()
    state: dict[str, Any] = {
        "runs": [
            [
                (e.dagster_event_type, e.step_key, e.get_dagster_event().partition)
                for e in instance.all_logs(run_id)
                if e.is_dagster_event
            ]
            for run_id in run_ids
        ]
    }
    state["check_executions"] = _check_executions(instance, run_names)
    for key in KEYS:
        records = instance.fetch_materializations(key, limit=1000).records
        latest: dict[str, Any] = {}
        for record in sorted(records, key=lambda r: r.storage_id):
            latest[record.partition_key or ""] = _record(record, run_names)
        status_by_partition = instance.get_status_by_partition(key, all_days, DAYS)
        (asset_record,) = instance.get_asset_records([key])
        entry = asset_record.asset_entry
        state[key.to_user_string()] = {
            "materializations": [_record(r, run_names) for r in records],
            "latest_per_partition": latest,
            "materialized_partitions": instance.get_materialized_partitions(key),
            "status_by_partition": status_by_partition,
            "asset_record": {
                "last_materialization": _record(entry.last_materialization_record, run_names),
                "last_run": run_names.get(entry.last_run_id or ""),
                "last_planned_run": run_names.get(entry.last_planned_materialization_run_id or ""),
                "last_planned_storage_id": entry.last_planned_materialization_storage_id,
                "cached_status": entry.cached_status,
            },
            "latest_event": _record(
                next(iter(instance.fetch_materializations(key, limit=1).records), None),
                run_names,
            ),
            "indexed_tags": instance.event_log_storage.get_event_tags_for_asset(key),
        }
    return state


@pytest.fixture(autouse=True)
def _batching_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")


def _count_store_event(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Event types that went through ``store_event`` (one at a time), in order."""
    stored: list[str] = []
    original = local_instance.SqliteEventLogStorage.store_event

    def counting(self, event) -> None:
        stored.append(event.dagster_event_type)
        original(self, event)

    monkeypatch.setattr(local_instance.SqliteEventLogStorage, "store_event", counting)
    return stored


@pytest.fixture(scope="module")
def stock_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)
        mp.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
        with _instance(tmp_path_factory.mktemp("stock") / "dagster", batching=False) as instance:
            assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
            run_ids = _run_ranges(instance, RANGES)
            return _state(instance, run_ids)


def test_stock_state_is_what_the_runs_did(stock_state: dict[str, Any]) -> None:
    """The reference itself holds the two ranges: 40 days, the overlap from the second run."""
    features_state = stock_state["features"]
    expected_days = {f"2025-01-{d:02}" for d in range(1, 32)} | {
        f"2025-02-{d:02}" for d in range(1, 10)
    }
    assert features_state["materialized_partitions"] == expected_days
    assert len(features_state["materializations"]) == 30 + 20
    overlap = features_state["latest_per_partition"]["2025-01-25"]
    assert overlap["run"] == "run1"
    assert overlap["metadata"]["range"] == dg.MetadataValue.text("2025-01-21..2025-02-09")
    assert features_state["asset_record"]["last_materialization"]["partition"] == "2025-02-09"
    status = features_state["status_by_partition"]
    assert status["2025-01-01"] == dg.AssetPartitionStatus.MATERIALIZED
    assert status["2025-02-10"] is None
    assert features_state["asset_record"]["cached_status"] is not None
    # Each run plans its check with a row per partition of its range; its evaluation is a row
    # of its own (Dagster 1.13 leaves the planned rows as they were).
    stored, history = stock_state["check_executions"]
    days = DAYS.get_partition_keys()
    first, second = days[:30], days[20:40]
    assert [(row[3], row[4], row[5]) for row in stored] == [
        *((day, "run0", "PLANNED") for day in first),
        (None, "run0", "SUCCEEDED"),
        *((day, "run1", "PLANNED") for day in second),
        (None, "run1", "SUCCEEDED"),
    ]
    assert stored[0][-1] == first and stored[-1][-1][0] is True
    assert len(history) == 52


def test_batched_runs_leave_the_instance_as_the_stock_storage(
    tmp_path: Path, stock_state: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _count_store_event(monkeypatch)
    with _instance(tmp_path / "dagster", batching=True) as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        run_ids = _run_ranges(instance, RANGES)
        # Every per-partition materialization went through the batch path, none one at a time.
        assert "ASSET_MATERIALIZATION" not in stored
        assert _state(instance, run_ids) == stock_state


def _shard_opens(home: Path, batching: bool) -> Counter[str]:
    """Two ranged runs on a new instance: how often each event-log shard file was opened."""
    opened: Counter[str] = Counter()

    def on_connect(dbapi_connection, _record) -> None:
        (_, _, path), *_ = dbapi_connection.execute("PRAGMA database_list").fetchall()
        if Path(path).parent.name == "runs":  # the event log's shards: index.db, <run id>.db
            opened[Path(path).name] += 1

    sqlalchemy.event.listen(Pool, "connect", on_connect)
    try:
        with _instance(home, batching=batching) as instance:
            _run_ranges(instance, RANGES)
    finally:
        sqlalchemy.event.remove(Pool, "connect", on_connect)
    return opened


def test_the_batching_storage_opens_shards_a_few_times_not_per_event(tmp_path: Path) -> None:
    """The stock storage opens a shard for every event it stores and every read; the batching
    one keeps one connection per shard for the life of the instance."""
    stock = _shard_opens(tmp_path / "stock", batching=False)
    kept = _shard_opens(tmp_path / "batching", batching=True)
    assert len(stock) == len(kept) == 3, (stock, kept)  # the index and the two runs' shards
    assert min(stock.values()) > 50
    # Creating a shard opens it twice (Dagster's schema setup); the index is also opened once
    # to create it and once per table Dagster asks about the first time.
    assert max(count for name, count in kept.items() if name != "index.db") <= 2
    assert kept["index.db"] <= 8


def test_a_failed_batch_is_stored_once_by_the_fallback(
    tmp_path: Path, stock_state: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose index write fails leaves neither shard written; Dagster then stores each
    event singly, and the instance still ends as the stock one (no duplicate events)."""
    original = BatchingSqliteEventLogStorage._store_asset_event_tags
    failures = []

    def fail_third_batch(self, conn, events, event_ids) -> None:
        # The stock path stores its events (planned checks among them) here one at a time.
        if len(events) > 1:
            failures.append(len(events))
            if len(failures) == 3:
                raise OSError("disk full (injected)")
        original(self, conn, events, event_ids)

    monkeypatch.setattr(BatchingSqliteEventLogStorage, "_store_asset_event_tags", fail_third_batch)
    with _instance(tmp_path / "dagster", batching=True) as instance:
        run_ids = _run_ranges(instance, RANGES)
        assert len(failures) > 3
        assert _state(instance, run_ids) == stock_state


def test_another_dagster_version_stores_events_like_the_stock_storage(
    tmp_path: Path, stock_state: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_instance, "DAGSTER_VERSION", "1.99.0")
    stored = _count_store_event(monkeypatch)
    with pytest.warns(UserWarning, match=r"Dagster 1\.99\.0 is installed"):
        instance = _instance(tmp_path / "dagster", batching=True)
        storage = instance.event_log_storage
    with instance:
        assert isinstance(storage, BatchingSqliteEventLogStorage) and not storage.batching
        run_ids = _run_ranges(instance, RANGES)
        assert stored.count("ASSET_MATERIALIZATION") == 3 * (30 + 20)
        assert _state(instance, run_ids) == stock_state


def test_local_yaml_replaces_only_what_nba_assets_wrote(tmp_path: Path) -> None:
    legacy, generated, own = (tmp_path / name for name in ("legacy", "generated", "own"))
    for home in (legacy, generated, own):
        home.mkdir()
    (legacy / "dagster.yaml").write_text(LEGACY_LOCAL_YAML)
    # Written for a home that has since moved: regenerated for where it is now.
    (generated / "dagster.yaml").write_text(
        local_instance.local_instance_yaml(tmp_path / "elsewhere")
    )
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    for home in (legacy, generated):
        text = ensure_local_instance_yaml(home).read_text()
        assert text == local_instance.local_instance_yaml(home)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            storage = instance.event_log_storage
            assert isinstance(storage, BatchingSqliteEventLogStorage)
            # Where the stock instance keeps its event log, so old runs stay visible.
            assert Path(storage._base_dir) == home.resolve() / "history" / "runs"
    assert ensure_local_instance_yaml(own).read_text() == "telemetry:\n  enabled: true\n"


def test_replay_runs_on_the_batched_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's own replay writes through the batching storage and records every day."""
    for var in ("DAGSTER_HOME", "NBA_NBA_STATS_BASE_URL", "NBA_ODDS_BASE_URL",
                "NBA_ODDS_API_KEY", "NBA_EXECUTOR", "NBA_DATASET_PREFIX",
                "DAGSTER_EVENT_BATCH_SIZE"):  # fmt: skip
        # Set first so that the variables the CLI sets are restored after the test.
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    monkeypatch.setenv("NBA_HOME", str(tmp_path / "home"))
    stored = _count_store_event(monkeypatch)
    get_settings.cache_clear()
    try:
        start, end = dt.date(2025, 11, 1), dt.date(2025, 11, 3)
        assert cli.main(["replay", "--start", str(start), "--end", str(end)]) == 0
        home = get_settings().dagster_home
    finally:
        get_settings.cache_clear()
    assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == str(local_instance.EVENT_BATCH_SIZE)
    assert "ASSET_MATERIALIZATION" not in stored
    days = {str(start + dt.timedelta(days=i)) for i in range(3)}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        keys = instance.get_asset_keys()
        assert len(keys) > 10
        for key in keys:
            materialized = instance.get_materialized_partitions(key)
            assert materialized == days, key
            records = instance.fetch_materializations(key, limit=100).records
            assert sorted(r.partition_key or "" for r in records) == sorted(days), key


@pytest.fixture(scope="module")
def stock_backfill_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)
        mp.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
        home = tmp_path_factory.mktemp("stock_backfill") / "dagster"
        with _instance(home, batching=False) as instance:
            run_ids = _backfills_like_the_ui(instance, RANGES)
            return _state(instance, run_ids)


def test_ui_backfills_leave_the_instance_as_the_stock_storage(
    tmp_path: Path, stock_backfill_state: dict[str, Any], stock_state: dict[str, Any]
) -> None:
    """The same two ranges as backfills the daemon launches, as from the UI: the run workers
    load the batching storage from dagster.yaml and inherit DAGSTER_EVENT_BATCH_SIZE."""
    # The reference did what the in-process runs did, asset by asset.
    for key in KEYS:
        name = key.to_user_string()
        for field in ("materialized_partitions", "status_by_partition"):
            assert stock_backfill_state[name][field] == stock_state[name][field]
    with _instance(tmp_path / "dagster", batching=True) as instance:
        run_ids = _backfills_like_the_ui(instance, RANGES)
        assert _state(instance, run_ids) == stock_backfill_state
