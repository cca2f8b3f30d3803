"""Pipeline health: one daily asset whose metadata says how the day's operations went."""

import datetime as dt
from typing import Any

import dagster as dg
import polars as pl

from nba_assets.defs.lineage import DAY_BEFORE
from nba_assets.defs.operations.days import DaySchedule, at, eastern, schedules_of, written_by_day
from nba_assets.defs.operations.jobs import MORNING_JOB, OPERATIONS_GROUP
from nba_assets.defs.table_asset import asset_key
from nba_assets.defs.util import TABLE_DAYS, each_date, partition_dates
from nba_assets.partitions import GAME_DATE_TIMEZONE, game_date_partitions
from nba_assets.tables import analytics, predictions, raw
from nba_assets.warehouse.resource import WarehouseResource

HEALTH_KEY = dg.AssetKey(["ops", "pipeline_health"])
# The morning run starts at 06:00 and must have today's first predictions by 07:30.
MORNING_WINDOW = (dt.time(6, 0), dt.time(7, 30))
# After the morning window, and again after the noon lines deadline.
HEALTH_CRONS = ("45 7 * * *", "15 12 * * *")
# What last night's post-game runs write for the day before, in the order they run.
NIGHT_PHASES = {
    "box scores": asset_key(raw.nbac_player_boxscores),
    "game summaries": asset_key(analytics.player_game_summary),
    "grading": asset_key(predictions.prediction_accuracy),
    "daily performance": asset_key(predictions.system_daily_performance),
}


def last_night(
    schedule: DaySchedule, written: dict[dg.AssetKey, dict[dt.date, dt.datetime]], day: dt.date
) -> tuple[bool, str]:
    """(completed, what happened) for the night before ``day``, given that day's ``schedule``
    and when each night phase's partitions were ``written``: the day before's phases were all
    written after that day ended, or it had no games."""
    before = schedule.day
    if schedule.known and not schedule.games:
        return True, f"no games on {before}"
    ended = at(day, dt.time(0))
    missing = [
        phase
        for phase, key in NIGHT_PHASES.items()
        if (when := written[key].get(before)) is None or when < ended
    ]
    if missing:
        return False, f"{before}: not written after its games: {', '.join(missing)}"
    return True, f"{before}: {', '.join(NIGHT_PHASES)} written after its games"


def _eastern_from(timestamp: float | None) -> dt.datetime | None:
    return eastern(dt.datetime.fromtimestamp(timestamp, dt.UTC)) if timestamp else None


def morning_runs(instance: dg.DagsterInstance) -> dict[str, dg.RunRecord]:
    """The first scheduled morning run of each partition, by partition key."""
    first: dict[str, dg.RunRecord] = {}
    for record in instance.get_run_records(dg.RunsFilter(job_name=MORNING_JOB)):
        partition = record.dagster_run.tags.get("dagster/partition")
        if partition and (
            partition not in first or record.create_timestamp < first[partition].create_timestamp
        ):
            first[partition] = record
    return first


def morning_run(record: dg.RunRecord | None, day: dt.date) -> tuple[bool, str]:
    """(inside its window, what happened) for the day's scheduled morning run ``record``."""
    if record is None:
        return False, f"no {MORNING_JOB} run for {day}"
    opens, closes = (at(day, t) for t in MORNING_WINDOW)
    started = eastern(
        dt.datetime.fromtimestamp(record.start_time, dt.UTC)
        if record.start_time
        else record.create_timestamp
    )
    ended = _eastern_from(record.end_time)
    status = record.dagster_run.status
    inside = (
        status == dg.DagsterRunStatus.SUCCESS
        and started >= opens
        and ended is not None
        and ended <= closes
    )
    span = f"{started:%Y-%m-%d %H:%M:%S}-" + (f"{ended:%H:%M:%S}" if ended else "")
    window = f"{MORNING_WINDOW[0]:%H:%M}-{MORNING_WINDOW[1]:%H:%M}"
    return inside, f"{status.value} {span} ET (window {day} {window})"


@dg.asset(
    key=HEALTH_KEY,
    group_name=OPERATIONS_GROUP,
    partitions_def=game_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        dg.AssetDep(asset_key(predictions.player_prop_predictions)),
        dg.AssetDep(asset_key(raw.odds_player_props)),
        *(dg.AssetDep(key, partition_mapping=DAY_BEFORE) for key in NIGHT_PHASES.values()),
    ],
    automation_condition=dg.AutomationCondition.in_latest_time_window()
    & ~dg.AutomationCondition.in_progress()
    & (
        dg.AutomationCondition.cron_tick_passed(HEALTH_CRONS[0], GAME_DATE_TIMEZONE)
        | dg.AutomationCondition.cron_tick_passed(HEALTH_CRONS[1], GAME_DATE_TIMEZONE)
    ),
    kinds={"dagster"},
)
def pipeline_health(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """How the day went: last night's phases, the morning run, lines, unmatched names."""
    start, end = partition_dates(context)
    wh = warehouse.get()
    first_night = start - dt.timedelta(days=1)
    with wh.reading("reading the day's health"):
        preds = wh.read(
            predictions.player_prop_predictions, start, end, columns=["game_date", "line"]
        )
        props = wh.read(
            raw.odds_player_props, start, end, columns=["game_date", "player_name", "player_id"]
        )
        nights = schedules_of(context.instance, wh, first_night, end)
    written = {
        key: written_by_day(context.instance, key, first_night, end)
        for key in NIGHT_PHASES.values()
    }
    mornings = morning_runs(context.instance)
    rows: list[dict[str, Any]] = []
    for day in each_date(start, end):
        night_ok, night = last_night(nights[day - dt.timedelta(days=1)], written, day)
        morning_ok, morning = morning_run(mornings.get(day.isoformat()), day)
        day_preds = preds.filter(pl.col("game_date") == day)
        unmatched = (
            props.filter((pl.col("game_date") == day) & pl.col("player_id").is_null())
            .get_column("player_name")
            .unique()
            .sort()
        )
        rows.append(
            {
                "game_date": day.isoformat(),
                "last_night_complete": night_ok,
                "last_night": night,
                "morning_run_in_window": morning_ok,
                "morning_run": morning,
                "predictions": day_preds.height,
                "predictions_with_line": day_preds.get_column("line").is_not_null().sum(),
                "unmatched_names": unmatched.len(),
                "unmatched_sample": ", ".join(unmatched.head(20).to_list()),
            }
        )
    latest = rows[-1]
    shown = rows[-TABLE_DAYS:]
    table = f"| {' | '.join(latest)} |\n|{'---|' * len(latest)}\n" + "\n".join(
        "| " + " | ".join(str(v) for v in row.values()) + " |" for row in shown
    )
    context.log.info(f"pipeline health of {latest['game_date']}: {latest}")
    # A ranged run gives every partition the same metadata: the last day's figures, the range's
    # counts, and a table of its last days.
    return dg.MaterializeResult(
        metadata={
            **{k: v for k, v in latest.items() if k != "game_date"},
            "line_share": round(latest["predictions_with_line"] / latest["predictions"], 3)
            if latest["predictions"]
            else 0.0,
            "range": f"{start}..{end}",
            "nights_complete": sum(r["last_night_complete"] for r in rows),
            "mornings_in_window": sum(r["morning_run_in_window"] for r in rows),
            "days": dg.MetadataValue.md(table),
        }
    )
