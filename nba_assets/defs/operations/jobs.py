"""The jobs the day's schedules and sensors launch: what each runs, and how its runs retry."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from nba_assets.defs.scrape import assets as scrape
from nba_assets.defs.table_asset import asset_key
from nba_assets.tables import analytics, predictions, raw

GRADING_GROUP = "grading"
OPERATIONS_GROUP = "operations"

TODAYS_SCHEDULE_JOB = "todays_schedule"
MORNING_JOB = "morning_operations"
LINES_JOB = "lines_snapshot"
POST_GAME_JOB = "post_game_box_scores"
PREDICTIONS_JOB = "predictions_from_lines"
GRADING_JOB = "grading"

SCHEDULE_ASSETS = (scrape.scrape_key(scrape.SCOREBOARD), asset_key(raw.nbac_schedule))
LINES_ASSETS = (
    scrape.scrape_key(scrape.EVENTS),
    scrape.scrape_key(scrape.EVENT_ODDS),
    asset_key(raw.odds_events),
    asset_key(raw.odds_player_props),
)
# A finished day's results: never its lines or predictions, which are what was knowable before
# tip-off and must not be overwritten after it.
BOX_SCORE_ASSETS = (
    *SCHEDULE_ASSETS,
    scrape.scrape_key(scrape.PLAYER_GAME_LOG),
    scrape.scrape_key(scrape.TEAM_GAME_LOG),
    asset_key(raw.nbac_player_boxscores),
    asset_key(raw.nbac_team_boxscores),
    asset_key(analytics.player_game_summary),
    asset_key(analytics.team_offense_game_summary),
    asset_key(analytics.team_defense_game_summary),
)
PROPS_KEY = asset_key(raw.odds_player_props)
PREDICTIONS_KEY = asset_key(predictions.player_prop_predictions)
MODEL_KEY = asset_key(predictions.points_model)

# Run retries (the instance's run_retries, read by the daemon) re-launch a run whose worker died,
# from the failed steps on; a failing step is retried inside its run with backoff instead, so a
# source that answered 5xx for a minute or a warehouse busy with another writer gets time.
RUN_RETRY_TAGS = {"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"}
STEP_RETRY_POLICY = dg.RetryPolicy(
    max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def _job(name: str, selection: dg.AssetSelection, description: str) -> UnresolvedAssetJobDefinition:
    """A scheduled job: its runs retry (``RUN_RETRY_TAGS``), its steps with backoff."""
    return dg.define_asset_job(
        name,
        selection=selection,
        description=description,
        tags=RUN_RETRY_TAGS,
        op_retry_policy=STEP_RETRY_POLICY,
    )


def operations_jobs() -> dict[str, UnresolvedAssetJobDefinition]:
    """Every job the schedules and sensors launch, by name. They use the code location's
    executor (in-process on one machine)."""
    not_today = dg.AssetSelection.groups(GRADING_GROUP, OPERATIONS_GROUP)
    # What a new snapshot changes: the expected players, their features and the predictions;
    # not the day's model (trained on earlier days) nor its game summaries (none before games).
    todays_predictions = (
        dg.AssetSelection.assets(PROPS_KEY).downstream(include_self=False)
        - not_today
        - dg.AssetSelection.assets(MODEL_KEY, asset_key(analytics.player_game_summary))
    )
    return {
        job.name: job
        for job in (
            _job(
                TODAYS_SCHEDULE_JOB,
                dg.AssetSelection.assets(*SCHEDULE_ASSETS),
                "Today's scoreboard: whether the day has games, before the morning run.",
            ),
            _job(
                MORNING_JOB,
                dg.AssetSelection.all() - not_today,
                "Today's schedule, player list, lines so far, features and first predictions.",
            ),
            _job(
                LINES_JOB,
                dg.AssetSelection.assets(*LINES_ASSETS),
                "A new snapshot of today's sportsbook lines, parsed.",
            ),
            _job(
                POST_GAME_JOB,
                dg.AssetSelection.assets(*BOX_SCORE_ASSETS),
                "A finished day's scoreboard, box scores and game summaries (never its lines).",
            ),
            _job(
                PREDICTIONS_JOB,
                todays_predictions,
                "Today's predictions again, from the lines snapshot that just landed.",
            ),
            _job(
                GRADING_JOB,
                dg.AssetSelection.groups(GRADING_GROUP),
                "Grade a day whose games are all final.",
            ),
        )
    }
