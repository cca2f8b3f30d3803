"""The Dagster code location (``dagster dev -w workspace.yaml`` loads it)."""

import dagster as dg

from nba_assets.defs.build import build_definitions
from nba_assets.settings import get_settings


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(get_settings())
