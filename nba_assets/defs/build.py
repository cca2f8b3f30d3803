"""Assemble the code location: every phase's assets and checks, jobs, automation, resources."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

import nba_assets.defs
from nba_assets.defs import table_asset
from nba_assets.defs.operations import build_operations
from nba_assets.defs.table_asset import asset_key
from nba_assets.resources import build_resources
from nba_assets.settings import Settings, settings_with
from nba_assets.tables import all_tables

ALL_ASSETS_JOB = "nba_all_phases"
HISTORY_JOB = "nba_history"
HISTORY_GROUPS = ("scrape", "raw", "analytics", "precompute")


def phase_assets() -> list[dg.AssetsDefinition]:
    """Every asset the phase packages define, found there, never listed by hand: a new asset in
    a phase's module is part of the code location (and of the graph snapshot test) by being
    defined."""
    found = dg.load_assets_from_package_module(nba_assets.defs)
    odd = [a for a in found if not isinstance(a, dg.AssetsDefinition)]
    if odd:
        raise TypeError(f"the phase packages define assets that are not asset definitions: {odd}")
    return [a for a in found if isinstance(a, dg.AssetsDefinition)]


def _executor(executor: str) -> dg.ExecutorDefinition:
    """The executor the settings name (``NBA_EXECUTOR``); ``k8s`` runs each step in its own pod.

    Raises:
        ImportError: ``k8s`` without the ``prod`` extra, with the command that installs it.
    """
    if executor == "k8s":
        try:
            # Imported only here: dagster-k8s is the `prod` extra, not needed locally.
            from dagster_k8s import k8s_job_executor
        except ImportError as error:
            raise ImportError(
                "NBA_EXECUTOR=k8s runs steps with dagster_k8s.k8s_job_executor, which is not"
                f" installed ({error}): pip install 'nba-assets[prod]'"
            ) from error
        return k8s_job_executor
    return dg.multiprocess_executor if executor == "multiprocess" else dg.in_process_executor


def all_assets_job(executor: str) -> UnresolvedAssetJobDefinition:
    """Every phase for a day or a range of days, as one run."""
    return dg.define_asset_job(
        ALL_ASSETS_JOB,
        selection=dg.AssetSelection.all(),
        executor_def=_executor(executor),
        description="Scrape, parse, analyse, predict and grade the selected game days.",
    )


def history_job(executor: str) -> UnresolvedAssetJobDefinition:
    """The phases that build history (through the feature store), without predicting it."""
    return dg.define_asset_job(
        HISTORY_JOB,
        selection=dg.AssetSelection.groups(*HISTORY_GROUPS),
        executor_def=_executor(executor),
        description="Scrape, parse, analyse and build features for past days (no predictions).",
    )


def _table_names(settings: Settings) -> dict[dg.AssetKey, str]:
    """Where each table lives in this deployment, as ``dagster/table_name`` shows it."""
    prefix = settings.dataset_prefix
    if settings.deployment == "prod":
        return {
            asset_key(s): f"{settings.gcp_project}.{s.qualified_name(prefix)}" for s in all_tables()
        }
    return {asset_key(s): s.qualified_name(prefix) for s in all_tables()}


def build_definitions(settings: Settings) -> dg.Definitions:
    storage = "bigquery" if settings.deployment == "prod" else "duckdb"
    names = _table_names(settings)
    assets = [table_asset.with_storage(a, storage, names) for a in phase_assets()]
    checks = dg.load_asset_checks_from_package_module(nba_assets.defs)
    job = all_assets_job(settings.executor)
    ops = build_operations({a.key for a in assets}, settings.run_failure_log)
    return dg.Definitions(
        assets=assets,
        asset_checks=[*checks, *ops.checks],
        jobs=[job, history_job(settings.executor)],
        schedules=ops.schedules,
        sensors=ops.sensors,
        resources=build_resources(settings),
        # Runs and backfills launched from the UI use the code location's executor: a process
        # per step costs about 3 s here, more than most steps (2-day backfill: 136 s vs 7 s).
        executor=_executor(settings.executor),
    )


def replay_job(values: Mapping[str, str], history_only: bool = False) -> dg.JobDefinition:
    """The all-phases (or the history) job of a CLI run: the deployment's settings with the
    run's own ``values`` (settings by field name: the replay server's URLs, the dataset prefix,
    the executor) applied.

    Step processes rebuild the job by calling this again with the same arguments (see
    ``dg.build_reconstructable_job``), so run values never go through the environment.
    """
    settings = settings_with(values)
    return build_definitions(settings).resolve_job_def(
        HISTORY_JOB if history_only else ALL_ASSETS_JOB
    )
