"""The pipeline's wiring outside Dagster: raw tables from the shipped replay archive through the
production parsers, then phase 3 and phase 4 from them with the assets' transforms.

Tests and benchmarks build their inputs here, so they stand on what the repository ships.
"""

from nba_assets.pipeline.phases import analytics_phase, compute_phases, precompute_phase
from nba_assets.pipeline.replayed import raw_frames

__all__ = ["analytics_phase", "compute_phases", "precompute_phase", "raw_frames"]
