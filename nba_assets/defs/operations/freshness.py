"""Freshness that catches a missed night: each table's expected partition by its Eastern deadline.

A check looks at the one partition its deadline expects (today's or yesterday's) and at when that
partition was last written: on the deadline's own day, so the morning run's empty write of a day
not yet played never counts for that day's night, and a historical backfill, which writes other
partitions, never makes today look fresh. Off days (the schedule table says no games) expect
nothing but the schedule itself, which is how an off day is known.

Dagster's ``build_time_partition_freshness_checks`` asks, with our ``end_offset=1`` partitions, for
the deadline day's own partition; the newer ``FreshnessPolicy`` looks at the latest
materialization of any partition. Neither sees a missed night, hence these checks.

The checks run by declarative automation at their deadline and every hour after (so a late write
turns them green within the hour), in runs of their own; inside a run that writes partitions (a
schedule's run, a replay, a backfill) they do not evaluate.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dagster as dg

from nba_assets.defs.operations.days import at, day_schedule, eastern, last_written
from nba_assets.defs.table_asset import asset_key
from nba_assets.partitions import GAME_DATE_TIMEZONE
from nba_assets.tables import predictions, raw
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.resource import WarehouseResource

Clock = Callable[[], dt.datetime]
RECHECK_CRON = "15 * * * *"  # hourly, after the deadline's own evaluation
PARTITION_TAGS = ("dagster/partition", "dagster/asset_partition_range_start")


@dataclass(frozen=True)
class Deadline:
    """``spec``'s partition of today (``days_back=0``) or yesterday (1), written by ``by`` ET."""

    check_name: str
    spec: TableSpec
    days_back: int
    by: dt.time
    game_days_only: bool = True
    needs_rows: bool = False

    @property
    def key(self) -> dg.AssetKey:
        return asset_key(self.spec)

    @property
    def cron(self) -> str:
        return f"{self.by.minute} {self.by.hour} * * *"

    def describe(self) -> str:
        day = "today's" if self.days_back == 0 else "yesterday's"
        return f"{day} partition written by {self.by:%H:%M} ET" + (
            " on game days" if self.game_days_only else ""
        )


DEADLINES = (
    Deadline("todays_schedule_by_0700", raw.nbac_schedule, 0, dt.time(7, 0), game_days_only=False),
    Deadline("todays_predictions_by_0730", predictions.player_prop_predictions, 0, dt.time(7, 30)),
    Deadline("todays_lines_by_1200", raw.odds_player_props, 0, dt.time(12, 0), needs_rows=True),
    Deadline("yesterdays_box_scores_by_0400", raw.nbac_player_boxscores, 1, dt.time(4, 0)),
    Deadline("yesterdays_grading_by_0600", predictions.prediction_accuracy, 1, dt.time(6, 0)),
)


def last_deadline(deadline: Deadline, now: dt.datetime) -> dt.datetime:
    """The latest time ``deadline.by`` on or before ``now``, Eastern."""
    local = eastern(now)
    due = at(local.date(), deadline.by)
    return due if due <= local else due - dt.timedelta(days=1)


def evaluate(
    deadline: Deadline, now: dt.datetime, instance: dg.DagsterInstance, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Whether the partition ``deadline`` expects at ``now`` was written on the deadline's day."""
    due = last_deadline(deadline, now)
    day = due.date() - dt.timedelta(days=deadline.days_back)
    written = last_written(instance, deadline.key, day)
    since = at(due.date(), dt.time(0))
    metadata = {"expected_partition": day.isoformat(), "deadline": due.isoformat()}
    schedule = day_schedule(instance, warehouse.get(), day)
    if deadline.game_days_only and schedule.known and not schedule.games:
        why, passed = f"no games on {day}: nothing expected", True
    elif written is None:
        why, passed = f"partition {day} was never written ({schedule.describe()})", False
    elif written < since:
        why, passed = (
            f"partition {day} was last written at {eastern(written):%Y-%m-%d %H:%M} ET, before"
            f" {since:%Y-%m-%d} began: the run due by {due:%H:%M} ET did not write it",
            False,
        )
    else:
        late = "" if written <= due else f", {eastern(written) - due} after the deadline"
        why, passed = f"partition {day} written at {eastern(written):%H:%M} ET{late}", True
        if deadline.needs_rows:
            rows = warehouse.get().read(deadline.spec, day, day, columns=["game_date"]).height
            metadata["rows"] = str(rows)
            if not rows:
                why, passed = (
                    f"partition {day} was written with no rows ({schedule.describe()})",
                    False,
                )
    if written is not None:
        metadata["written_at"] = written.isoformat(timespec="seconds")
    return dg.AssetCheckResult(
        passed=passed,
        check_name=deadline.check_name,
        asset_key=deadline.key,
        severity=dg.AssetCheckSeverity.WARN,
        description=why,
        metadata=metadata,
    )


def _automation(deadline: Deadline) -> dg.AutomationCondition:
    return dg.AutomationCondition.cron_tick_passed(
        deadline.cron, GAME_DATE_TIMEZONE
    ) | dg.AutomationCondition.cron_tick_passed(RECHECK_CRON, GAME_DATE_TIMEZONE)


def freshness_check(deadline: Deadline, clock: Clock) -> dg.AssetChecksDefinition:
    """The check of ``deadline``, evaluated at ``clock()`` in runs of its own only."""

    @dg.multi_asset_check(
        name=deadline.check_name,
        specs=[
            dg.AssetCheckSpec(
                deadline.check_name,
                asset=deadline.key,
                description=f"Freshness: {deadline.describe()}.",
                automation_condition=_automation(deadline),
            )
        ],
        can_subset=True,
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        writes = [context.run.tags[t] for t in PARTITION_TAGS if t in context.run.tags]
        if writes:
            # Inside a run of partitions (a replay, a backfill of 2023), "now" says nothing of
            # the partitions written; the check's own runs evaluate it.
            context.log.info(
                f"{deadline.check_name} is not evaluated inside a run of partitions {writes}"
            )
            return
        yield evaluate(deadline, clock(), context.instance, warehouse)

    return _check


def freshness_checks(
    existing: set[dg.AssetKey], clock: Clock = lambda: dt.datetime.now(dt.UTC)
) -> list[dg.AssetChecksDefinition]:
    """One check per deadline whose table is in the code location."""
    return [freshness_check(d, clock) for d in DEADLINES if d.key in existing]
