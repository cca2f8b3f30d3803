"""Sensors on what Dagster's graph cannot see: a lines snapshot landing, a day's games going final.

Both need facts outside the event log (the landing zone's manifest, the games' status in the
schedule table) and an exact-once guarantee per occurrence, which a run key gives: one
predictions run per (day, snapshot), one grading run per day.
"""

import datetime as dt
from collections.abc import Callable

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from nba_assets.defs.operations.days import day_schedule, eastern, last_written
from nba_assets.defs.operations.jobs import PREDICTIONS_KEY, PROPS_KEY
from nba_assets.defs.scrape.assets import EVENT_ODDS, ODDS, SCOREBOARD, scrape_key
from nba_assets.defs.table_asset import asset_key
from nba_assets.landing.manifest import LandedFile, read_manifest, snapshot_time
from nba_assets.landing.resource import LandingResource
from nba_assets.landing.zone import LandingZone
from nba_assets.tables import analytics, predictions
from nba_assets.warehouse.resource import WarehouseResource

Clock = Callable[[], dt.datetime]
SCOREBOARD_KEY = scrape_key(SCOREBOARD)
GAME_SUMMARY_KEY = asset_key(analytics.player_game_summary)
GRADING_KEY = asset_key(predictions.prediction_accuracy)
# A day's grading is requested while its box scores may still change: the day before yesterday
# too, for a night whose last games went final after the 04:00 run.
GRADING_LOOKBACK_DAYS = 3
SNAPSHOT_TAG = "nba/lines_snapshot"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def landed_snapshot(zone: LandingZone, day: dt.date) -> LandedFile | None:
    """The day's latest landed lines snapshot (an event odds payload of its manifest, the last
    by snapshot time), or None when no odds have landed for that day."""
    manifest = [f for f in read_manifest(zone, ODDS, EVENT_ODDS, day) or [] if f.status == 200]
    return max(manifest, key=snapshot_time, default=None)


def predictions_on_new_lines(
    job: UnresolvedAssetJobDefinition, clock: Clock = _utc_now
) -> dg.SensorDefinition:
    """Today's predictions once per landed lines snapshot, once its props are parsed; ``clock``
    says what today is."""

    @dg.sensor(
        name="predictions_on_new_lines",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Today's predictions once per lines snapshot, after its props are parsed.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, landing: LandingResource
    ) -> dg.RunRequest | dg.SkipReason:
        today = eastern(clock()).date()
        landed = landed_snapshot(landing.zone, today)
        if landed is None:
            return dg.SkipReason(f"no lines landed for {today} yet ({ODDS}/{EVENT_ODDS})")
        snapshot = snapshot_time(landed)
        key = f"{today}:{snapshot.isoformat()}"
        if context.cursor == key:
            return dg.SkipReason(f"predictions for the {snapshot:%H:%M}Z snapshot already asked")
        # The snapshot's own time is the source's clock; when it landed is this instance's.
        parsed = last_written(context.instance, PROPS_KEY, today)
        if parsed is None or parsed < dt.datetime.fromisoformat(landed.fetched_at):
            return dg.SkipReason(
                f"the {snapshot:%H:%M}Z snapshot of {today} landed; waiting for"
                f" {PROPS_KEY.to_user_string()} to parse it"
            )
        predicted = last_written(context.instance, PREDICTIONS_KEY, today)
        if predicted is not None and predicted > parsed:
            context.update_cursor(key)
            return dg.SkipReason(
                f"predictions for {today} were made after the {snapshot:%H:%M}Z snapshot was parsed"
            )
        context.update_cursor(key)
        return dg.RunRequest(
            run_key=f"predictions:{key}",
            partition_key=today.isoformat(),
            tags={SNAPSHOT_TAG: snapshot.isoformat()},
        )

    return _sensor


def grading_when_final(
    job: UnresolvedAssetJobDefinition, clock: Clock = _utc_now
) -> dg.SensorDefinition:
    """Grading of each of the last few days, once all its games are final and summarised."""

    @dg.sensor(
        name="grading_when_final",
        job=job,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Grades a day once, when all its games are final and its box scores are in.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, warehouse: WarehouseResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        today = eastern(clock()).date()
        requests, waiting = [], []
        for back in range(1, GRADING_LOOKBACK_DAYS + 1):
            day = today - dt.timedelta(days=back)
            schedule = day_schedule(context.instance, warehouse.get(), day)
            if not schedule.all_final:
                waiting.append(schedule.describe())
                continue
            # The box scores are fetched after the scoreboard that said every game was final
            # (their scrapes depend on it), so summaries written after it hold the final games.
            scoreboard = last_written(context.instance, SCOREBOARD_KEY, day)
            summaries = last_written(context.instance, GAME_SUMMARY_KEY, day)
            if summaries is None or scoreboard is None or summaries < scoreboard:
                waiting.append(f"{day}: all final; waiting for its box scores to be summarised")
                continue
            graded = last_written(context.instance, GRADING_KEY, day)
            if graded is not None and graded > summaries:
                waiting.append(f"{day}: graded")
                continue
            requests.append(dg.RunRequest(run_key=f"grading:{day}", partition_key=day.isoformat()))
        return requests or dg.SkipReason("; ".join(waiting))

    return _sensor
