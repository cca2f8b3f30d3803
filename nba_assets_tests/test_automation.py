"""Operations on frozen clocks: schedules that skip days without games and say why, freshness that
catches a missed night (also right after a historical backfill), the run-failure log, pools and
run retries. A real DuckDB warehouse holds the schedule rows the shipped archive gives; a real
Dagster instance holds the materializations."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from nba_assets.dagster_instance import ensure_local_instance_yaml
from nba_assets.defs import automation, pools
from nba_assets.defs.build import build_definitions
from nba_assets.defs.operations import freshness, jobs
from nba_assets.defs.operations.days import EASTERN, SCHEDULE_KEY, at
from nba_assets.defs.operations.health import HEALTH_KEY
from nba_assets.defs.table_asset import asset_key
from nba_assets.partitions import game_date_partitions
from nba_assets.pipeline import raw_frames
from nba_assets.settings import Settings
from nba_assets.tables import predictions, raw
from nba_assets.warehouse.resource import WarehouseResource

THANKSGIVING = dt.date(2025, 11, 27)  # no games; games the day before and the day after
OFF_SEASON = (dt.date(2025, 8, 1), dt.date(2025, 8, 2))  # two days without games
GRADING = next(d for d in freshness.DEADLINES if d.check_name == "yesterdays_grading_by_0600")
GRADING_KEY = asset_key(predictions.prediction_accuracy)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as inst:
        yield inst


@pytest.fixture
def warehouse(tmp_path: Path) -> WarehouseResource:
    return WarehouseResource(duckdb_path=str(tmp_path / "warehouse.duckdb"))


def write_schedule(
    instance: dg.DagsterInstance, warehouse: WarehouseResource, rows: pl.DataFrame, day: dt.date
) -> None:
    """The day's schedule rows in the warehouse, and its partition recorded as written."""
    warehouse.get().replace_partitions(raw.nbac_schedule, rows, day, day)
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=SCHEDULE_KEY, partition=day.isoformat())
    )


def archive_schedule(
    instance: dg.DagsterInstance, warehouse: WarehouseResource, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """The archive's schedule of ``start..end``, written day by day; returns its rows."""
    rows = raw_frames(start, end)["nbac_schedule"]
    day = start
    while day <= end:
        write_schedule(instance, warehouse, rows.filter(pl.col("game_date") == day), day)
        day += dt.timedelta(days=1)
    return rows


@pytest.fixture
def tick(tmp_path: Path, instance: dg.DagsterInstance, warehouse: WarehouseResource):
    """Evaluate a schedule of the code location as the daemon would at a given time."""
    defs = build_definitions(Settings(home=tmp_path))

    def _tick(name: str, when: dt.datetime):
        # Closed after the tick: an open context keeps the instance as the current state storage.
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=when,
            resources={"warehouse": warehouse},
            repository_def=defs.get_repository_def(),
        ) as context:
            return defs.get_schedule_def(name).evaluate_tick(context)

    return _tick


# --- schedules ------------------------------------------------------------------------------


def test_morning_on_a_game_day_requests_today(instance, warehouse, tick) -> None:
    archive_schedule(instance, warehouse, dt.date(2025, 11, 1), dt.date(2025, 11, 2))
    data = tick("morning_operations", at(dt.date(2025, 11, 2), dt.time(6, 0)))
    requests = {r.partition_key: r for r in data.run_requests or []}
    assert set(requests) == {"2025-11-02", "2025-11-01"}
    assert requests["2025-11-02"].asset_selection is None  # every phase of the morning job
    # Yesterday again for its final box scores only: never its lines or predictions.
    assert set(requests["2025-11-01"].asset_selection or []) == set(jobs.BOX_SCORE_ASSETS)


def test_morning_after_games_on_an_off_day_fetches_only_yesterdays_box_scores(
    instance, warehouse, tick
) -> None:
    archive_schedule(instance, warehouse, THANKSGIVING - dt.timedelta(1), THANKSGIVING)
    data = tick("morning_operations", at(THANKSGIVING, dt.time(6, 0)))
    ((request),) = data.run_requests or []
    assert request.partition_key == "2025-11-26"
    assert set(request.asset_selection or []) == set(jobs.BOX_SCORE_ASSETS)


def test_no_games_today_or_yesterday_requests_nothing_and_says_why(
    instance, warehouse, tick
) -> None:
    rows = archive_schedule(instance, warehouse, *OFF_SEASON)
    assert rows.is_empty()  # the archive has no games then
    data = tick("morning_operations", at(OFF_SEASON[1], dt.time(6, 0)))
    assert not data.run_requests
    assert data.skip_message == ("no games on 2025-08-02 and no games on 2025-08-01: nothing to do")


def test_morning_without_a_scraped_schedule_still_runs(instance, warehouse, tick) -> None:
    # The 05:00 run failed: better a morning run on an off day than a missed game day.
    data = tick("morning_operations", at(dt.date(2025, 11, 2), dt.time(6, 0)))
    # Yesterday, never scraped either, is the post-game runs' (or a backfill's) to fetch.
    assert [r.partition_key for r in data.run_requests or []] == ["2025-11-02"]


def test_lines_every_two_hours_only_on_game_days(instance, warehouse, tick) -> None:
    archive_schedule(instance, warehouse, THANKSGIVING - dt.timedelta(1), THANKSGIVING)
    game_day = THANKSGIVING - dt.timedelta(1)
    ticks = [at(game_day, dt.time(h)) for h in range(8, 21, 2)]
    keys = [tick("lines_snapshots", t).run_requests[0].run_key for t in ticks]  # type: ignore[index]
    assert keys == [f"lines:{game_day}:{h:02d}00" for h in range(8, 21, 2)]
    off = tick("lines_snapshots", at(THANKSGIVING, dt.time(12, 0)))
    assert not off.run_requests
    assert off.skip_message == "no games on 2025-11-27: no lines to take"
    unknown = tick("lines_snapshots", at(THANKSGIVING + dt.timedelta(1), dt.time(8)))
    assert "never scraped" in (unknown.skip_message or "")


def test_post_game_runs_for_yesterday_unless_it_had_no_games(instance, warehouse, tick) -> None:
    archive_schedule(instance, warehouse, THANKSGIVING - dt.timedelta(1), THANKSGIVING)
    for hour in (1, 4):
        data = tick("post_game", at(THANKSGIVING, dt.time(hour)))
        ((request),) = data.run_requests or []
        assert (request.partition_key, request.run_key) == (
            "2025-11-26",
            f"box-scores:2025-11-26:{hour:02d}00",
        )
    after_off_day = tick("post_game", at(THANKSGIVING + dt.timedelta(1), dt.time(1)))
    assert not after_off_day.run_requests
    assert after_off_day.skip_message == "no games on 2025-11-27: no box scores to fetch or grade"


def test_a_lines_snapshot_reruns_features_and_predictions_only(tmp_path: Path) -> None:
    defs = build_definitions(Settings(home=tmp_path))
    job = defs.resolve_job_def(jobs.PREDICTIONS_JOB)
    assert sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys) == [
        "nba_analytics/upcoming_player_game_context",
        "nba_precompute/ml_feature_store",
        "nba_precompute/player_composite_factors",
        "nba_precompute/player_daily_cache",
        "nba_predictions/player_prop_prediction_history",  # each snapshot's run is kept
        "nba_predictions/player_prop_predictions",
    ]


def test_the_schedules_are_on_eastern_time(tmp_path: Path) -> None:
    defs = build_definitions(Settings(home=tmp_path))
    found = {s.name: s for s in defs.get_repository_def().schedule_defs}
    assert {n: (s.cron_schedule, s.execution_timezone) for n, s in found.items()} == {
        "todays_schedule": ("0 5 * * *", "America/New_York"),
        "morning_operations": ("0 6 * * *", "America/New_York"),
        "lines_snapshots": ("0 8-20/2 * * *", "America/New_York"),
        "post_game": (["0 1 * * *", "0 4 * * *"], "America/New_York"),
    }


# --- freshness ------------------------------------------------------------------------------


def _stand_in(key: dg.AssetKey) -> dg.AssetsDefinition:
    """An asset with the table's key and partitions that writes nothing: what the freshness
    checks look at is the instance's record of when a partition was written."""

    @dg.asset(
        key=key, partitions_def=game_date_partitions, backfill_policy=dg.BackfillPolicy.single_run()
    )
    def _asset() -> None:
        return None

    return _asset


def _grading_freshness(
    instance: dg.DagsterInstance,
    warehouse: WarehouseResource,
    at_time: dt.datetime,
    deadline: freshness.Deadline = GRADING,
) -> list[dg.AssetCheckEvaluation]:
    """The check of ``deadline`` (grading's by default), run on its own at ``at_time``."""
    check = freshness.freshness_check(deadline, clock=lambda: at_time)
    defs = dg.Definitions(
        assets=[_stand_in(deadline.key)],
        asset_checks=[check],
        jobs=[dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(check))],
        resources={"warehouse": warehouse},
    )
    result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    return result.get_asset_check_evaluations()


def _write_grading(
    instance: dg.DagsterInstance, warehouse: WarehouseResource, start: dt.date, end: dt.date
) -> list[dg.AssetCheckEvaluation]:
    """Materialize grading over ``start..end`` as one run with its freshness check selected, as a
    backfill launched from the UI would; returns the check evaluations the run made."""
    check = freshness.freshness_check(GRADING, clock=lambda: dt.datetime.now(dt.UTC))
    result = dg.materialize(
        [_stand_in(GRADING_KEY), check],
        instance=instance,
        resources={"warehouse": warehouse},
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        },
    )
    assert result.success
    return result.get_asset_check_evaluations()


def test_missing_grading_fails_at_0630_and_passes_once_written_despite_backfills(
    instance, warehouse
) -> None:
    today = dt.datetime.now(EASTERN).date()
    yesterday = today - dt.timedelta(days=1)
    games = raw_frames(dt.date(2025, 11, 2), dt.date(2025, 11, 2))["nbac_schedule"]
    write_schedule(instance, warehouse, games.with_columns(game_date=pl.lit(yesterday)), yesterday)
    morning = at(today, dt.time(6, 30))

    (missing,) = _grading_freshness(instance, warehouse, morning)
    assert not missing.passed
    assert missing.metadata["expected_partition"].value == yesterday.isoformat()
    n = games.height
    assert missing.description == (
        f"partition {yesterday} was never written ({n} games on {yesterday}, {n} final)"
    )

    # A backfill of 2023 writes other days: yesterday is still missing. Inside the backfill's
    # run the check does not evaluate at all.
    assert _write_grading(instance, warehouse, dt.date(2023, 1, 1), dt.date(2023, 1, 31)) == []
    (still_missing,) = _grading_freshness(instance, warehouse, morning)
    assert not still_missing.passed

    _write_grading(instance, warehouse, yesterday, yesterday)
    (fresh,) = _grading_freshness(instance, warehouse, morning)
    assert fresh.passed, fresh.description

    _write_grading(instance, warehouse, dt.date(2023, 2, 1), dt.date(2023, 2, 28))
    (after_backfill,) = _grading_freshness(instance, warehouse, morning)
    assert after_backfill.passed, after_backfill.description
    assert after_backfill.metadata["expected_partition"].value == yesterday.isoformat()


def test_the_days_own_early_write_does_not_count_for_its_night(instance, warehouse) -> None:
    # Today's partition written now, before its games: by tomorrow 06:30 it must be written
    # again after them. With end_offset=1, Dagster's own freshness check would pass here.
    today = dt.datetime.now(EASTERN).date()
    _write_grading(instance, warehouse, today, today)
    (evaluation,) = _grading_freshness(
        instance, warehouse, at(today + dt.timedelta(days=1), dt.time(6, 30))
    )
    assert not evaluation.passed
    assert "before" in (evaluation.description or "")
    assert evaluation.metadata["expected_partition"].value == today.isoformat()


def test_an_off_day_expects_no_grading(instance, warehouse) -> None:
    archive_schedule(instance, warehouse, THANKSGIVING, THANKSGIVING)
    (evaluation,) = _grading_freshness(
        instance, warehouse, at(THANKSGIVING + dt.timedelta(days=1), dt.time(6, 30))
    )
    assert evaluation.passed
    assert evaluation.description == "no games on 2025-11-27: nothing expected"


def test_lines_written_without_rows_are_not_fresh_on_a_game_day(instance, warehouse) -> None:
    lines = next(d for d in freshness.DEADLINES if d.check_name == "todays_lines_by_1200")
    today = dt.datetime.now(EASTERN).date()
    games = raw_frames(dt.date(2025, 11, 2), dt.date(2025, 11, 2))["nbac_schedule"]
    write_schedule(instance, warehouse, games.with_columns(game_date=pl.lit(today)), today)
    warehouse.get().replace_partitions(
        raw.odds_player_props, raw.odds_player_props.empty(), today, today
    )
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=lines.key, partition=today.isoformat())
    )
    (evaluation,) = _grading_freshness(instance, warehouse, at(today, dt.time(12, 30)), lines)
    assert not evaluation.passed
    assert evaluation.description == (
        f"partition {today} was written with no rows"
        f" ({games.height} games on {today}, {games.height} final)"
    )


def test_each_check_is_due_at_its_eastern_deadline(tmp_path: Path) -> None:
    defs = build_definitions(Settings(home=tmp_path))
    graph = defs.resolve_asset_graph()
    due = {
        (key.asset_key.to_user_string(), key.name)
        for key in graph.asset_check_keys
        if key.name in {d.check_name for d in freshness.DEADLINES}
    }
    assert due == {
        ("nba_raw/nbac_schedule", "todays_schedule_by_0700"),
        ("nba_predictions/player_prop_predictions", "todays_predictions_by_0730"),
        ("nba_raw/odds_player_props", "todays_lines_by_1200"),
        ("nba_raw/nbac_player_boxscores", "yesterdays_box_scores_by_0400"),
        ("nba_predictions/prediction_accuracy", "yesterdays_grading_by_0600"),
    }
    # Declarative automation runs each check at its deadline (and hourly after), once a tick,
    # and pipeline health after the morning window, for the day's own partition only.
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as inst:
        grading = _newly_requested(defs, inst, dt.time(5, 59), dt.time(6, 1))
        health = _newly_requested(defs, inst, dt.time(7, 44), dt.time(7, 46))
    assert grading == {(GRADING_KEY.to_user_string(), "yesterdays_grading_by_0600")}
    assert health == {(HEALTH_KEY.to_user_string(), "2025-11-03")}


def _newly_requested(
    defs: dg.Definitions, instance: dg.DagsterInstance, before: dt.time, after: dt.time
) -> set[tuple[str, str | None]]:
    """What declarative automation requests on 2025-11-03 between ``before`` and ``after`` ET:
    (asset, check name) for checks, (asset, partition) for assets."""
    day = dt.date(2025, 11, 3)
    first = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, evaluation_time=at(day, before)
    )
    second = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, evaluation_time=at(day, after), cursor=first.cursor
    )
    out: set[tuple[str, str | None]] = set()
    for result in second.results:
        if not result.true_subset.size:
            continue
        if isinstance(result.key, dg.AssetCheckKey):
            out.add((result.key.asset_key.to_user_string(), result.key.name))
        else:
            for entity in result.true_subset.expensively_compute_asset_partitions():
                out.add((result.key.to_user_string(), entity.partition_key))
    return out


# --- pools and retries ----------------------------------------------------------------------


def test_sources_and_warehouse_loads_have_pools(tmp_path: Path) -> None:
    defs = build_definitions(Settings(home=tmp_path))
    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    pool_of = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            pool_of[key.to_user_string()] = job.graph.node_named(
                key.to_python_identifier()
            ).definition.pool
    unpooled = sorted(k for k, p in pool_of.items() if p is None)
    assert unpooled == ["ops/pipeline_health"], (
        "a scrape or table asset without a pool: name its endpoint's source API in"
        " SOURCE_POOL (nba_assets/defs/scrape/assets.py)"
    )
    assert pool_of["landing/scoreboardv2"] == pools.NBA_STATS_POOL
    assert pool_of["landing/event_odds"] == pools.ODDS_API_POOL
    assert pool_of["nba_raw/odds_player_props"] == pools.WAREHOUSE_POOL
    # The scheduled jobs' runs retry: a dead worker from the failed steps, a failing step with
    # exponential backoff.
    morning = defs.resolve_job_def(jobs.MORNING_JOB)
    assert morning.tags["dagster/max_retries"] == "2"
    assert morning.tags["dagster/retry_strategy"] == "FROM_FAILURE"
    policy = morning.op_retry_policy
    assert policy is not None and policy.backoff == dg.Backoff.EXPONENTIAL


def test_local_instance_limits_pools_by_run_and_retries_runs(tmp_path: Path) -> None:
    ensure_local_instance_yaml(tmp_path)
    with dg.DagsterInstance.from_config(str(tmp_path)) as inst:
        config = inst.get_concurrency_config().pool_config
        assert config.pool_granularity.value == "run"
        assert config.default_pool_limit == 1
        assert inst.run_retries_enabled
        assert inst.run_retries_max_retries == 0  # only runs whose tags ask are retried


# --- run failures ---------------------------------------------------------------------------


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
    assert {s.name for s in defs.sensors or []} == {
        "predictions_on_new_lines",
        "grading_when_final",
        "operations_automation",
        "run_failure_log",
    }
