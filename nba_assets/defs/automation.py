"""Morning operations, overnight grading and freshness: the day runs without anyone."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.definitions.partitions.partitioned_schedule import (
    UnresolvedPartitionedAssetScheduleDefinition,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from nba_assets.partitions import GAME_DATE_TIMEZONE

# Yesterday's box scores are final by 04:00 ET; the morning slate's props are posted by then too.
OVERNIGHT_CRON = "0 5 * * *"
MORNING_CRON = "30 6 * * *"
FRESHNESS_DEADLINE_CRON = "0 9 * * *"
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


def freshness(
    existing: set[dg.AssetKey],
) -> tuple[Sequence[dg.AssetChecksDefinition], dg.SensorDefinition]:
    """Checks that yesterday's partitions landed by 09:00 ET, and the sensor that runs them."""
    keys = [dg.AssetKey(list(k)) for k in FRESH_BY_MORNING if dg.AssetKey(list(k)) in existing]
    # The newer FreshnessPolicy looks only at the latest materialization of any partition, so a
    # historical backfill would count as fresh; these checks ask for yesterday's partition.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        checks = dg.build_time_partition_freshness_checks(
            assets=keys, deadline_cron=FRESHNESS_DEADLINE_CRON, timezone=GAME_DATE_TIMEZONE
        )
        sensor = dg.build_sensor_for_freshness_checks(freshness_checks=checks)
    return checks, sensor
