"""config/dagster.prod.yaml loads against a real PostgreSQL, and production work runs on it.

A throwaway PostgreSQL 15 cluster (Debian's package) holds the instance: the production file with
only its Kubernetes run launcher and its GCS compute logs left out (Dagster's defaults stand in:
there is no cluster or bucket here), reached through the same ``DAGSTER_PG_*`` variables. A
one-day ``nba-assets replay`` runs on it, then the code location's morning schedule ticks the
way the scheduler daemon ticks it, and the test reads back what PostgreSQL holds.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import psycopg2
import pytest
import yaml
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.scheduler.instigation import InstigatorState, InstigatorType, TickStatus
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._scheduler.scheduler import launch_scheduled_runs
from dagster._serdes import deserialize_value
from dagster._time import get_current_datetime
from dagster._utils.schedules import cron_string_iterator
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from nba_assets import cli
from nba_assets.defs.build import ALL_ASSETS_JOB, build_definitions
from nba_assets.settings import REPO_ROOT, Settings, get_settings
from nba_assets_tests.postgres_server import (
    PostgresNotInstalledError,
    PostgresServer,
    postgres_server,
)

INSTANCE_YAML = REPO_ROOT / "config" / "dagster.prod.yaml"
DAY = "2025-11-01"
SCHEDULE = "morning_operations"
# What the production file configures that needs a cluster or a bucket.
CLOUD_ONLY = {"run_launcher": "K8sRunLauncher", "compute_logs": "GCSComputeLogManager"}
# Settings of other tests that must not reach these runs.
NBA_VARIABLES = ("NBA_NBA_STATS_BASE_URL", "NBA_ODDS_BASE_URL", "NBA_ODDS_API_KEY",
                 "NBA_EXECUTOR", "NBA_DATASET_PREFIX", "NBA_DEPLOYMENT")  # fmt: skip


@dataclass(frozen=True)
class ProdInstance:
    """A Dagster home holding the production instance file, on a test PostgreSQL."""

    server: PostgresServer
    dagster_home: Path
    nba_home: Path

    def environment(self) -> dict[str, str]:
        return {
            **self.server.dagster_env,
            "DAGSTER_HOME": str(self.dagster_home),
            "NBA_HOME": str(self.nba_home),
        }

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` run on the instance's database, as any PostgreSQL client sees them."""
        server = self.server
        connection = psycopg2.connect(
            host=server.host, port=server.port, user=server.user, password=server.password,
            dbname=server.database, connect_timeout=10,
        )  # fmt: skip
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()


def instance_yaml_without_cloud_parts() -> str:
    """config/dagster.prod.yaml without the blocks that need a cluster or a bucket."""
    config = yaml.safe_load(INSTANCE_YAML.read_text())
    for block, class_name in CLOUD_ONLY.items():
        assert config[block]["class"] == class_name, f"{INSTANCE_YAML.name}: {block}"
    return yaml.safe_dump({k: v for k, v in config.items() if k not in CLOUD_ONLY})


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    try:
        server = postgres_server(tmp_path_factory.mktemp("postgres"))
        started = server.__enter__()
    except PostgresNotInstalledError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield started
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def replayed(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> ProdInstance:
    """The production instance after ``nba-assets replay`` of DAY (local deployment otherwise)."""
    prod = ProdInstance(
        postgres, tmp_path_factory.mktemp("dagster_home"), tmp_path_factory.mktemp("nba_home")
    )
    (prod.dagster_home / "dagster.yaml").write_text(instance_yaml_without_cloud_parts())
    # The CLI exports settings for its runs; this module's tests get the environment back.
    saved = dict(os.environ)
    try:
        for name in NBA_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(prod.environment())
        get_settings.cache_clear()
        assert cli.main(["replay", "--start", DAY, "--end", DAY]) == 0
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
    return prod


def test_prod_instance_file_loads_on_postgres(
    replayed: ProdInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in replayed.environment().items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
        assert instance.run_monitoring_enabled
        # The password the file reads from the environment is the one the server checks.
        assert replayed.server.password in instance.run_storage.postgres_url  # pyright: ignore[reportAttributeAccessIssue]


def test_replay_runs_on_postgres_and_stores_every_partition_there(replayed: ProdInstance) -> None:
    runs = replayed.query("SELECT run_id, pipeline_name, status FROM runs")
    assert [(job, status) for _, job, status in runs] == [(ALL_ASSETS_JOB, "SUCCESS")]
    (run_id, _, _) = runs[0]
    tags = dict(replayed.query("SELECT key, value FROM run_tags WHERE run_id = %s", run_id))
    assert tags["dagster/asset_partition_range_start"] == DAY
    assert tags["dagster/asset_partition_range_end"] == DAY

    # One materialization per asset of the job for the day, each stored by that run.
    materialized = replayed.query(
        "SELECT asset_key, partition, run_id FROM event_logs"
        " WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
    )
    job = build_definitions(Settings(home=replayed.nba_home)).resolve_job_def(ALL_ASSETS_JOB)
    expected = {key.to_string() for key in job.asset_layer.executable_asset_keys}
    assert {key for key, _, _ in materialized} == expected
    assert len(materialized) == len(expected)
    assert {(partition, run) for _, partition, run in materialized} == {(DAY, run_id)}
    # The asset index the UI reads (latest materialization per asset) is there too.
    indexed = replayed.query(
        "SELECT asset_key FROM asset_keys WHERE last_materialization_timestamp IS NOT NULL"
    )
    assert {key for (key,) in indexed} == expected
    checks = replayed.query(
        "SELECT execution_status, count(*) FROM asset_check_executions"
        " WHERE run_id = %s GROUP BY execution_status",
        run_id,
    )
    assert dict(checks).get("SUCCEEDED", 0) > 0

    # The run wrote the day's predictions to the warehouse it was pointed at.
    warehouse = replayed.nba_home / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            "SELECT count(*) FROM nba_predictions.player_prop_predictions WHERE game_date = ?",
            [dt.date.fromisoformat(DAY)],
        ).fetchone()
    assert row is not None and row[0] > 0


def test_schedule_tick_is_stored_on_postgres(
    replayed: ProdInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in NBA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in replayed.environment().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            module_name="nba_assets.definitions", working_directory=str(REPO_ROOT)
        ),
        location_name="nba_assets",
    )
    with (
        dg.DagsterInstance.get() as instance,
        create_test_daemon_workspace_context(
            InProcessWorkspaceLoadTarget(origin), instance
        ) as workspace,
    ):
        entry = workspace.create_request_context().get_code_location_entries()["nba_assets"]
        assert entry.code_location is not None, entry.load_error
        (repository,) = entry.code_location.get_repositories().values()
        schedule = repository.get_schedule(SCHEDULE)
        zone = schedule.execution_timezone or "UTC"
        day_start = dt.datetime.combine(dt.date.fromisoformat(DAY), dt.time(), ZoneInfo(zone))
        tick_at = next(
            cron_string_iterator(day_start.timestamp(), schedule.cron_schedule, zone)  # pyright: ignore[reportArgumentType]
        )
        # Started before the day's tick, evaluated just after it, as the daemon does.
        with freeze_time(tick_at - dt.timedelta(minutes=5)):
            instance.start_schedule(schedule)
        with freeze_time(tick_at + dt.timedelta(minutes=1)):
            list(
                launch_scheduled_runs(
                    workspace, logging.getLogger(__name__), get_current_datetime(), {}
                )
            )
        ticks = instance.get_ticks(schedule.get_remote_origin_id(), schedule.selector_id)

    (tick,) = ticks
    assert tick.status == TickStatus.SUCCESS, tick.error
    assert tick.timestamp == pytest.approx(tick_at.timestamp())
    # PostgreSQL holds the schedule's state, its tick and the run the tick queued.
    stored = replayed.query("SELECT type, status, timestamp FROM job_ticks")
    assert [(kind, status) for kind, status, _ in stored] == [
        (InstigatorType.SCHEDULE.value, TickStatus.SUCCESS.value)
    ]
    states = replayed.query("SELECT instigator_type, status, instigator_body FROM instigators")
    assert [(kind, status) for kind, status, _ in states] == [("SCHEDULE", "RUNNING")]
    assert deserialize_value(states[0][2], InstigatorState).name == SCHEDULE
    (run_id,) = tick.run_ids
    (status,) = replayed.query("SELECT status FROM runs WHERE run_id = %s", run_id)
    assert status == ("QUEUED",)  # the queued run coordinator holds it for the daemon
    tags = dict(replayed.query("SELECT key, value FROM run_tags WHERE run_id = %s", run_id))
    assert tags["dagster/schedule_name"] == SCHEDULE
    assert tags["dagster/partition"] == DAY  # the morning run is for the day itself
