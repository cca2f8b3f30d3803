"""Operations: the day runs itself. Schedules, sensors, freshness, pipeline health and pools.

`build_operations` assembles what the code location adds for them; the pipeline health asset is
a module-level asset (``health.py``) found with the phases' assets.
"""

from nba_assets.defs.operations.build import Operations, build_operations

__all__ = ["Operations", "build_operations"]
