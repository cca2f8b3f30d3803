"""Which days a game day reads, declared as partition mappings so Dagster knows what a changed
day makes stale and what a backfill of it must re-run.

Three shapes cover every asset:

- the same day (Dagster's default identity mapping);
- a bounded look-back, ``days_before(n)``: the ``n`` days before, and the day itself when it
  reads it too (predictions learn on the 84 days before theirs);
- all earlier days (a season's averages, the last games of any season, a model trained on every
  game before its boundary): ``history_of(parent, own)`` declares the parent's last
  ``STALE_WINDOW_DAYS`` days and the asset's own day before. Day D-1 of the asset read
  everything before D-1, so the chain reaches every earlier day; the window is what Dagster's
  stale status can see (it skips dependencies of 100 partitions or more, and an asset's
  dependencies on itself once it has 100 partitions). One mapping thousands of days wide would
  say the same, but Dagster's stale status would see none of it.
"""

from __future__ import annotations

import dagster as dg


def days_before(n: int, *, same_day: bool = False) -> dg.TimeWindowPartitionMapping:
    """Day D reads D-n .. D-1 (through D itself with ``same_day``); days before the first
    partition are simply not there."""
    return dg.TimeWindowPartitionMapping(
        start_offset=-n,
        end_offset=0 if same_day else -1,
        allow_nonexistent_upstream_partitions=True,
    )


DAY_BEFORE = days_before(1)
# The widest look-back Dagster's stale status follows (fewer than 100 partitions).
STALE_WINDOW_DAYS = 99


def history_of(parent: dg.AssetKey, own: dg.AssetKey) -> list[dg.AssetDep]:
    """The deps of an asset whose day D reads every day of ``parent`` before D: ``parent``'s
    last ``STALE_WINDOW_DAYS`` days, and the asset ``own`` the day before (which read the days
    before that)."""
    return [
        dg.AssetDep(parent, partition_mapping=days_before(STALE_WINDOW_DAYS)),
        dg.AssetDep(own, partition_mapping=DAY_BEFORE),
    ]
