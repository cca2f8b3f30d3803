"""Dagster's bookkeeping of a ranged run: the stock SQLite event log against the batching one.

- trivial: the same single-run backfill of chained daily assets that do no work at all, on a
  fresh instance with each storage (and the batching one with a smaller batch), in-process;
- replay: ``nba-assets replay`` of a short range on a fresh NBA_HOME with each storage.
"""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The console logger would print every event: that is not the bookkeeping being measured.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _trivial_assets(count: int):
    import dagster as dg

    days = dg.DailyPartitionsDefinition(start_date="2017-10-01")
    assets = []
    for i in range(count):

        @dg.asset(
            name=f"step_{i}",
            deps=assets[-1:],
            partitions_def=days,
            backfill_policy=dg.BackfillPolicy.single_run(),
        )
        def step(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})

        assets.append(step)
    return assets


@contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _trivial_seconds(assets, days: int, batching: bool, batch_size: int) -> float:
    import dagster as dg

    from nba_assets.dagster_instance import (
        LEGACY_LOCAL_YAML,
        RUN_ENV,
        ensure_local_instance_yaml,
    )
    from nba_assets.partitions import range_tags

    keys = assets[0].partitions_def.get_partition_keys()[:days]
    tags = range_tags(keys[0], keys[-1])
    with (
        tempfile.TemporaryDirectory() as home,
        _env(**{**RUN_ENV, "DAGSTER_EVENT_BATCH_SIZE": str(batch_size)}),
    ):
        if batching:
            ensure_local_instance_yaml(Path(home))
        else:
            (Path(home) / "dagster.yaml").write_text(LEGACY_LOCAL_YAML)
        with dg.DagsterInstance.from_config(home) as instance:
            began = time.perf_counter()
            result = dg.materialize(assets, instance=instance, tags=tags, run_config=QUIET)
            took = time.perf_counter() - began
            assert result.success
            assert len(instance.get_materialized_partitions(assets[-1].key)) == days
    return took


def _replay_seconds(start: str, end: str, batching: bool) -> float:
    from nba_assets.dagster_instance import LEGACY_LOCAL_YAML

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "NBA_HOME": home}
        env.pop("DAGSTER_HOME", None)
        if not batching:
            # With DAGSTER_HOME set the CLI uses the instance as it is: here the stock one.
            (Path(home) / "dagster").mkdir()
            (Path(home) / "dagster" / "dagster.yaml").write_text(LEGACY_LOCAL_YAML)
            env["DAGSTER_HOME"] = str(Path(home) / "dagster")
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "nba_assets.cli", "replay", "--start", start, "--end", end],
            check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return time.perf_counter() - began


def bench_bookkeeping(quick: bool) -> dict[str, float]:
    """Wall times of the same ranged runs on both storages, side by side, and their ratios."""
    from nba_assets.dagster_instance import EVENT_BATCH_SIZE

    count, days = 6, (90 if quick else 365)
    assets = _trivial_assets(count)
    out: dict[str, float] = {"assets": count, "days": days, "batch_size": EVENT_BATCH_SIZE}
    out["stock_s"] = _trivial_seconds(assets, days, batching=False, batch_size=EVENT_BATCH_SIZE)
    out["batched_s"] = _trivial_seconds(assets, days, batching=True, batch_size=EVENT_BATCH_SIZE)
    out["batched_size_50_s"] = _trivial_seconds(assets, days, batching=True, batch_size=50)
    out["stock/batched"] = out["stock_s"] / out["batched_s"]
    start, end = "2025-11-01", ("2025-11-07" if quick else "2025-11-30")
    out["replay_days"] = (int(end[-2:]) - int(start[-2:])) + 1
    out["replay_stock_s"] = _replay_seconds(start, end, batching=False)
    out["replay_batched_s"] = _replay_seconds(start, end, batching=True)
    out["replay_stock/batched"] = out["replay_stock_s"] / out["replay_batched_s"]
    return out


if __name__ == "__main__":
    for key, value in bench_bookkeeping("--quick" in sys.argv).items():
        print(f"{key:<24} {value:>10.3f}")
