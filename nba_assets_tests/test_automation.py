"""Operations: freshness that catches a missed night, the run-failure log, the UI's executor."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from nba_assets.defs import automation
from nba_assets.defs.build import build_definitions
from nba_assets.partitions import GAME_DATE_TIMEZONE, game_date_partitions
from nba_assets.settings import Settings

EASTERN = ZoneInfo(GAME_DATE_TIMEZONE)
KEYS = [dg.AssetKey(list(k)) for k in automation.FRESH_BY_MORNING]


def _trivial_asset(key: dg.AssetKey) -> dg.AssetsDefinition:
    @dg.asset(key=key, partitions_def=game_date_partitions)
    def _asset() -> None:
        return None

    return _asset


def _freshness_results(
    instance: dg.DagsterInstance, written: list[dt.date], at: dt.datetime
) -> dict[dg.AssetKey, dg.AssetCheckEvaluation]:
    """Materialize ``written`` partitions now, then run the freshness checks as of ``at``."""
    assets = [_trivial_asset(k) for k in KEYS]
    for day in written:
        dg.materialize(assets, instance=instance, partition_key=day.isoformat())
    checks, schedule = automation.freshness(set(KEYS), clock=lambda: at)
    defs = dg.Definitions(assets=assets, asset_checks=checks, schedules=[schedule])
    result = defs.resolve_job_def(automation.FRESHNESS_JOB).execute_in_process(instance=instance)
    return {e.asset_key: e for e in result.get_asset_check_evaluations()}


@pytest.fixture
def instance(tmp_path: Path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as inst:
        yield inst


def test_a_night_written_after_its_games_is_fresh(instance: dg.DagsterInstance) -> None:
    today = dt.datetime.now(EASTERN).date()
    yesterday = today - dt.timedelta(days=1)
    at = dt.datetime.combine(today, dt.time(23, 0), tzinfo=EASTERN)
    results = _freshness_results(instance, [yesterday], at)
    assert set(results) == set(KEYS)
    for evaluation in results.values():
        assert evaluation.passed, evaluation.description
        assert evaluation.metadata["expected_partition"].value == yesterday.isoformat()


def test_the_morning_run_alone_does_not_count_as_the_night(instance: dg.DagsterInstance) -> None:
    # Today's partition is written this morning, before its games: by tomorrow 09:00 it must be
    # written again after them. With end_offset=1, Dagster's own freshness check would pass here.
    today = dt.datetime.now(EASTERN).date()
    at = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(10, 0), tzinfo=EASTERN)
    results = _freshness_results(instance, [today], at)
    for evaluation in results.values():
        assert not evaluation.passed
        assert "before its games ended" in (evaluation.description or "")
        assert evaluation.metadata["expected_partition"].value == today.isoformat()


def test_a_missed_night_fails_before_and_after_the_deadline(instance: dg.DagsterInstance) -> None:
    today = dt.datetime.now(EASTERN).date()
    # At 08:00 the deadline is yesterday's 09:00, which asks for the day before yesterday.
    early = dt.datetime.combine(today, dt.time(8, 0), tzinfo=EASTERN)
    results = _freshness_results(instance, [], early)
    expected = (today - dt.timedelta(days=2)).isoformat()
    for evaluation in results.values():
        assert not evaluation.passed
        assert evaluation.metadata["expected_partition"].value == expected
        assert "never written" in (evaluation.description or "")


def _fail_on_purpose() -> dg.JobDefinition:
    @dg.op
    def fetch_scoreboard() -> None:
        raise ValueError("nba_stats/scoreboardv2 for game_date 2025-11-02: field GAME_ID missing")

    @dg.job
    def broken() -> None:
        fetch_scoreboard()

    return broken


def test_run_failure_sensor_records_the_root_cause(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    result = _fail_on_purpose().execute_in_process(
        instance=instance, raise_on_error=False, tags={"dagster/partition": "2025-11-02"}
    )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    log_path = tmp_path / "logs" / "run_failures.jsonl"
    sensor = automation.run_failure_log(log_path)
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure,
    ).for_run_failure()
    sensor(context)
    (entry,) = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert entry["run_id"] == result.run_id
    assert entry["partition"] == "2025-11-02"
    assert entry["steps"] == [
        {
            "step": "fetch_scoreboard",
            "error": "ValueError: nba_stats/scoreboardv2 for game_date 2025-11-02:"
            " field GAME_ID missing",
        }
    ]


def test_ui_runs_use_the_configured_executor(tmp_path: Path) -> None:
    for executor, name in (("in_process", "in_process"), ("multiprocess", "multiprocess")):
        defs = build_definitions(Settings(home=tmp_path, executor=executor))
        job = defs.resolve_implicit_global_asset_job_def()
        assert job.executor_def.name == name
    defs = build_definitions(Settings(home=tmp_path))
    assert {s.name for s in defs.schedules or []} >= {"freshness_by_morning"}
    assert {s.name for s in defs.sensors or []} == {"run_failure_log"}
