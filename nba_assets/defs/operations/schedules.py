"""The day's schedules (Eastern time). A tick with nothing to do requests nothing and says why.

- 05:00 ``todays_schedule``: today's scoreboard, so the morning knows whether the day has games.
- 06:00 ``morning_operations``: today's schedule, player list, lines so far, features and first
  predictions; and, after a day with games, yesterday's final box scores.
- every 2 hours 08:00-20:00 ``lines_snapshot``: a new snapshot of today's lines (game days only).
- 01:00 and 04:00 ``post_game``: yesterday's box scores (grading follows when all are final).

Whether a day has games comes from ``nba_raw.nbac_schedule``; a day whose schedule was never
scraped counts as a game day, so a missed 05:00 run cannot make the morning skip.
"""

import datetime as dt

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from nba_assets.defs.operations.days import day_schedule, eastern
from nba_assets.defs.operations.jobs import BOX_SCORE_ASSETS
from nba_assets.partitions import GAME_DATE_TIMEZONE
from nba_assets.warehouse.resource import WarehouseResource

TODAYS_SCHEDULE_CRON = "0 5 * * *"
MORNING_CRON = "0 6 * * *"
LINES_CRON = "0 8-20/2 * * *"
POST_GAME_CRONS = ["0 1 * * *", "0 4 * * *"]


def _tick(context: dg.ScheduleEvaluationContext) -> dt.datetime:
    return eastern(context.scheduled_execution_time)


def todays_schedule(job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """05:00 ET, every day: today's scoreboard (one request; it is how an off day is known)."""

    @dg.schedule(
        name="todays_schedule",
        job=job,
        cron_schedule=TODAYS_SCHEDULE_CRON,
        execution_timezone=GAME_DATE_TIMEZONE,
        description="05:00 ET: today's scoreboard, which says whether today has games.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        today = _tick(context).date()
        return dg.RunRequest(run_key=f"schedule:{today}", partition_key=today.isoformat())

    return _schedule


def morning_operations(job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """06:00 ET: today's partition on a game day, yesterday's box scores after one."""

    @dg.schedule(
        name="morning_operations",
        job=job,
        cron_schedule=MORNING_CRON,
        execution_timezone=GAME_DATE_TIMEZONE,
        description="06:00 ET: today's schedule, players, features and first predictions, and"
        " yesterday's final box scores; nothing on a day without games today or yesterday.",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        today = _tick(context).date()
        yesterday = today - dt.timedelta(days=1)
        days = {d: day_schedule(context.instance, warehouse.get(), d) for d in (today, yesterday)}
        requests = []
        if days[today].has_games:
            requests.append(
                dg.RunRequest(run_key=f"morning:{today}", partition_key=today.isoformat())
            )
        # A yesterday never scraped is a missed day for the post-game runs or a backfill; the
        # morning only takes a last look at the box scores of a day that had games.
        if days[yesterday].games:
            requests.append(
                # Only the finished day's results: its lines and predictions stay as they were.
                dg.RunRequest(
                    run_key=f"box-scores:{yesterday}:morning",
                    partition_key=yesterday.isoformat(),
                    asset_selection=list(BOX_SCORE_ASSETS),
                )
            )
        if not requests:
            return dg.SkipReason(
                f"{days[today].describe()} and {days[yesterday].describe()}: nothing to do"
            )
        return requests

    return _schedule


def lines_snapshots(job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """Every 2 hours 08:00-20:00 ET: a lines snapshot of today, on game days only."""

    @dg.schedule(
        name="lines_snapshots",
        job=job,
        cron_schedule=LINES_CRON,
        execution_timezone=GAME_DATE_TIMEZONE,
        description="Every 2 hours 08:00-20:00 ET on game days: a new snapshot of today's lines.",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource
    ) -> dg.RunRequest | dg.SkipReason:
        tick = _tick(context)
        today = day_schedule(context.instance, warehouse.get(), tick.date())
        if not today.known:
            return dg.SkipReason(
                f"{today.describe()}: the 05:00 todays_schedule or the 06:00 morning run writes it"
            )
        if not today.games:
            return dg.SkipReason(f"{today.describe()}: no lines to take")
        return dg.RunRequest(
            run_key=f"lines:{today.day}:{tick:%H%M}", partition_key=today.day.isoformat()
        )

    return _schedule


def post_game(job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """01:00 and 04:00 ET: yesterday's box scores, unless it had no games."""

    @dg.schedule(
        name="post_game",
        job=job,
        cron_schedule=POST_GAME_CRONS,
        execution_timezone=GAME_DATE_TIMEZONE,
        description="01:00 and 04:00 ET: yesterday's box scores; its grading follows once every"
        " game is final.",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource
    ) -> dg.RunRequest | dg.SkipReason:
        tick = _tick(context)
        yesterday = day_schedule(context.instance, warehouse.get(), tick.date() - dt.timedelta(1))
        if not yesterday.has_games:
            return dg.SkipReason(f"{yesterday.describe()}: no box scores to fetch or grade")
        return dg.RunRequest(
            run_key=f"box-scores:{yesterday.day}:{tick:%H%M}",
            partition_key=yesterday.day.isoformat(),
        )

    return _schedule
