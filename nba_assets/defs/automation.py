"""Morning operations, overnight grading and freshness: the day runs without anyone."""

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.definitions.partitions.partitioned_schedule import (
    UnresolvedPartitionedAssetScheduleDefinition,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster_shared.error import SerializableErrorInfo

from nba_assets.partitions import GAME_DATE_TIMEZONE

# Yesterday's box scores are final by 04:00 ET; the morning slate's props are posted by then too.
OVERNIGHT_CRON = "0 5 * * *"
MORNING_CRON = "30 6 * * *"
FRESHNESS_DEADLINE = dt.time(9, 0)
FRESHNESS_DEADLINE_CRON = "5 9 * * *"
FRESHNESS_CHECK = "yesterday_final_by_morning"
FRESHNESS_JOB = "freshness_checks"
# Tables that must hold yesterday's partition every morning.
FRESH_BY_MORNING = (
    ("nba_raw", "nbac_player_boxscores"),
    ("nba_analytics", "player_game_summary"),
    ("nba_predictions", "prediction_accuracy"),
)


def morning_schedule(
    job: UnresolvedAssetJobDefinition,
) -> dg.ScheduleDefinition | UnresolvedPartitionedAssetScheduleDefinition:
    """06:30 ET: every phase for today's partition (schedule, rosters, props, predictions)."""
    return dg.build_schedule_from_partitioned_job(
        job, name="morning_operations", hour_of_day=6, minute_of_hour=30
    )


def overnight_schedule(job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """05:00 ET: every phase again for yesterday, now that its games are final, and grade it."""

    @dg.schedule(
        name="overnight_grading",
        job=job,
        cron_schedule=OVERNIGHT_CRON,
        execution_timezone=GAME_DATE_TIMEZONE,
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time.astimezone(ZoneInfo(GAME_DATE_TIMEZONE))
        yesterday = (tick.date() - dt.timedelta(days=1)).isoformat()
        return dg.RunRequest(run_key=f"overnight-{yesterday}", partition_key=yesterday)

    return _schedule


def _last_deadline(now: dt.datetime) -> dt.datetime:
    """The most recent FRESHNESS_DEADLINE on or before ``now``, in US/Eastern."""
    local = now.astimezone(ZoneInfo(GAME_DATE_TIMEZONE))
    deadline = dt.datetime.combine(local.date(), FRESHNESS_DEADLINE, tzinfo=local.tzinfo)
    return deadline if deadline <= local else deadline - dt.timedelta(days=1)


def _freshness_check(
    key: dg.AssetKey, clock: Callable[[], dt.datetime]
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name=FRESHNESS_CHECK,
        description="The day before the 09:00 ET deadline was written after its games ended.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        deadline = _last_deadline(clock())
        day = deadline.date() - dt.timedelta(days=1)
        day_ended = dt.datetime.combine(deadline.date(), dt.time(0), tzinfo=deadline.tzinfo)
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]), limit=1
        ).records
        written = dt.datetime.fromtimestamp(records[0].timestamp, dt.UTC) if records else None
        passed = written is not None and written >= day_ended
        if written is None:
            why = f"partition {day} was never written"
        elif passed:
            why = f"partition {day} written at {written:%Y-%m-%d %H:%M}Z, after its games"
        else:
            why = (
                f"partition {day} was last written at {written:%Y-%m-%d %H:%M}Z, before its"
                " games ended: the post-game run did not write it"
            )
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=why,
            metadata={"expected_partition": day.isoformat(), "deadline": str(deadline)},
        )

    return _check


def freshness(
    existing: set[dg.AssetKey], clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
) -> tuple[list[dg.AssetChecksDefinition], dg.ScheduleDefinition]:
    """Checks that yesterday's partitions were written after its games, by 09:00 ET.

    Dagster's `build_time_partition_freshness_checks` asks, with our end_offset=1 partitions, for
    the deadline day's own partition, which the morning run writes (empty): a failed night would
    pass. The newer FreshnessPolicy looks only at the latest materialization of any partition, so
    a historical backfill would count as fresh. Here the partition of the day before the deadline
    must have been materialized after that day ended (by a post-game run, once its box scores
    are final), so a missed or failed night fails the check.
    """
    keys = [dg.AssetKey(list(k)) for k in FRESH_BY_MORNING if dg.AssetKey(list(k)) in existing]
    checks = [_freshness_check(key, clock) for key in keys]
    job = dg.define_asset_job(
        FRESHNESS_JOB,
        selection=dg.AssetSelection.checks(*checks),
        executor_def=dg.in_process_executor,
    )
    schedule = dg.ScheduleDefinition(
        name="freshness_by_morning",
        job=job,
        cron_schedule=FRESHNESS_DEADLINE_CRON,
        execution_timezone=GAME_DATE_TIMEZONE,
        description="09:05 ET: did yesterday's box scores, summaries and grading land overnight?",
    )
    return checks, schedule


def run_failure_log(log_path: Path) -> dg.SensorDefinition:
    """A sensor that appends every failed run, with each failed step's error, to a JSON-lines log.

    The log (``$NBA_HOME/logs/run_failures.jsonl`` locally) is for people: no external alerting
    service is assumed, and the UI's run page has the full event log behind each entry.
    """

    @dg.run_failure_sensor(
        name="run_failure_log",
        monitor_all_code_locations=False,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Appends failed runs and their step errors to {log_path.name}.",
    )
    def _sensor(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        steps = [
            {
                "step": event.step_key,
                "error": root_cause(event.step_failure_data.error)
                if event.step_failure_data.error
                else None,
            }
            for event in context.get_step_failure_events()
        ]
        entry = {
            "run_id": run.run_id,
            "job": run.job_name,
            "failed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "partition": run.tags.get("dagster/partition"),
            "partition_range": [
                run.tags.get("dagster/asset_partition_range_start"),
                run.tags.get("dagster/asset_partition_range_end"),
            ],
            "message": context.failure_event.message,
            "steps": steps,
        }
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        context.log.info(f"run {run.run_id} failed; recorded in {log_path}")

    return _sensor


def root_cause(error: SerializableErrorInfo) -> str:
    """The message of the error our code raised, found below Dagster's wrappers of it.

    A failed step's error is Dagster's "Error occurred while executing op ..." with the
    project's own error (a PayloadError, a SourceError, ...) as its cause: the first error of
    the cause / context chain that is not Dagster's says what went wrong; when all are
    Dagster's, the deepest does.
    """
    chain: list[SerializableErrorInfo] = []
    current: SerializableErrorInfo | None = error
    while current is not None and len(chain) < 50:
        chain.append(current)
        current = current.cause or current.context
    ours = next((e for e in chain if not (e.cls_name or "").startswith("Dagster")), chain[-1])
    text = ours.message.strip()
    qualified, colon, rest = text.partition(": ")
    if colon and ours.cls_name and qualified.endswith(ours.cls_name):
        text = f"{ours.cls_name}: {rest}"  # without the module path
    return text
