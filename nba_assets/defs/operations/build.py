"""What operations add to the code location: jobs, schedules, sensors, freshness checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from nba_assets.defs import automation
from nba_assets.defs.operations import freshness, jobs, schedules, sensors
from nba_assets.defs.operations.health import HEALTH_KEY

AUTOMATION_SENSOR = "operations_automation"


@dataclass(frozen=True)
class Operations:
    """What operations add to the code location."""

    schedules: list[dg.ScheduleDefinition]
    sensors: list[dg.SensorDefinition]
    checks: list[dg.AssetChecksDefinition]


def build_operations(
    existing: set[dg.AssetKey],
    run_failure_log: Path,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Operations:
    """The schedules, sensors and freshness checks of the assets in ``existing``; ``clock`` is
    what the sensors and checks take for now (the schedules have their tick's time)."""
    by_name = jobs.operations_jobs()
    checks = freshness.freshness_checks(existing, clock)
    automated = dg.AssetSelection.checks(*checks)
    if HEALTH_KEY in existing:
        automated |= dg.AssetSelection.assets(HEALTH_KEY)
    return Operations(
        schedules=[
            schedules.todays_schedule(by_name[jobs.TODAYS_SCHEDULE_JOB]),
            schedules.morning_operations(by_name[jobs.MORNING_JOB]),
            schedules.lines_snapshots(by_name[jobs.LINES_JOB]),
            schedules.post_game(by_name[jobs.POST_GAME_JOB]),
        ],
        sensors=[
            sensors.predictions_on_new_lines(by_name[jobs.PREDICTIONS_JOB], clock),
            sensors.grading_when_final(by_name[jobs.GRADING_JOB], clock),
            dg.AutomationConditionSensorDefinition(
                AUTOMATION_SENSOR,
                target=automated,
                default_status=dg.DefaultSensorStatus.RUNNING,
                minimum_interval_seconds=60,
                description="Freshness checks at their deadlines, pipeline health after the"
                " morning and the noon lines.",
            ),
            automation.run_failure_log(run_failure_log),
        ],
        checks=checks,
    )
