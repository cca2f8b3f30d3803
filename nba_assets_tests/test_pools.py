"""Pools in the run queue: a backfill launched from the UI waits while a scheduled run uses the
same source APIs and the warehouse, on the local instance's own ``dagster.yaml``.

The runs are created in a real instance as the UI and the scheduler create them (their pools
come from the execution plan); the queue's decision is the one the run-queue daemon takes each
iteration (``GlobalOpConcurrencyLimitsCounter``, Dagster's, with our instance's pool config).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.op_concurrency_limits_counter import GlobalOpConcurrencyLimitsCounter

from nba_assets.dagster_instance import ensure_local_instance_yaml
from nba_assets.defs import pools
from nba_assets.defs.build import build_definitions
from nba_assets.defs.operations import jobs
from nba_assets.settings import Settings

DAY = "2025-11-02"


def _queue_blocks(instance: dg.DagsterInstance, queued: dg.DagsterRun) -> bool:
    """Whether the run queue holds ``queued`` back, given the runs in progress. (The runs here
    are created, not submitted: a queued run needs a code location origin to be launched.)"""
    in_progress = instance.get_run_records(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
    )
    storage = instance.event_log_storage

    def counter() -> GlobalOpConcurrencyLimitsCounter:
        return GlobalOpConcurrencyLimitsCounter(
            instance,
            [queued],
            in_progress,
            concurrency_keys=storage.get_concurrency_keys(),
            pool_limits=storage.get_pool_limits(),
            pool_granularity=instance.get_concurrency_config().pool_config.pool_granularity,
        )

    counter()  # the first pass sets the pools it sees to the instance's default limit
    return counter().is_blocked(queued)


def test_a_ui_backfill_waits_for_the_scheduled_run_on_the_same_pools(tmp_path: Path) -> None:
    dagster_home = tmp_path / "dagster"
    ensure_local_instance_yaml(dagster_home)
    defs = build_definitions(Settings(home=tmp_path))
    morning = defs.resolve_job_def(jobs.MORNING_JOB)
    ui_job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        scheduled = instance.create_run_for_job(
            morning,
            status=dg.DagsterRunStatus.STARTED,
            tags={"dagster/partition": DAY, "dagster/schedule_name": "morning_operations"},
        )
        assert scheduled.run_op_concurrency is not None
        assert set(scheduled.run_op_concurrency.all_pools or []) == set(pools.POOLS)

        backfill = instance.create_run_for_job(
            ui_job,
            tags={"dagster/backfill": "ui", "dagster/partition": DAY},
        )
        assert _queue_blocks(instance, backfill)

        # Box scores only: the odds API is free, but the stats API and the warehouse are not.
        box_scores = instance.create_run_for_job(
            ui_job,
            asset_selection=set(jobs.BOX_SCORE_ASSETS),
        )
        assert box_scores.run_op_concurrency is not None
        assert pools.ODDS_API_POOL not in (box_scores.run_op_concurrency.all_pools or [])
        assert _queue_blocks(instance, box_scores)

        # Once the scheduled run is done, the backfill goes.
        instance.report_run_failed(scheduled)
        assert not _queue_blocks(instance, backfill)
