"""A small code location of daily assets that take a partition range in one run.

The batching tests materialize it in-process and, as the UI would, through a backfill that the
backfill daemon launches from a code server.
"""

from typing import Any

import dagster as dg

DAYS = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-03-01")
RANGED = {"partitions_def": DAYS, "backfill_policy": dg.BackfillPolicy.single_run()}


def _metadata(context: dg.AssetExecutionContext) -> dict[str, Any]:
    keys = context.partition_keys
    return {
        "days": dg.MetadataValue.int(len(keys)),
        "range": dg.MetadataValue.text(f"{keys[0]}..{keys[-1]}"),
        "share": dg.MetadataValue.float(len(keys) / 100),
    }


@dg.asset(code_version="1", **RANGED)
def games(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=_metadata(context))


@dg.asset(code_version="1", deps=[games], **RANGED)
def boxscores(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=_metadata(context))


@dg.asset(code_version="2", deps=[boxscores], **RANGED)
def features(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=_metadata(context))


@dg.asset_check(asset=features, description="The run covered at least one day.")
def features_cover_the_range(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    keys = context.partition_key_range
    return dg.AssetCheckResult(passed=True, metadata={"range": f"{keys.start}..{keys.end}"})


ASSETS = [games, boxscores, features]
CHECKS = [features_cover_the_range]
# In-process, as the project's own code location runs UI-launched runs on one machine.
defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS, executor=dg.in_process_executor)
