"""nba_assets: an asset-oriented data platform for NBA player-points props, built on Dagster."""

import warnings

# Single-run backfill policies and partition mappings that tolerate the first day are beta in
# Dagster 1.13, and we rely on both on purpose: saying so for every asset at every import buries
# the CLI's progress lines and the UI's log. Partitioned asset checks (``defs/checks.py``'s
# ``table_check``) are in preview, on purpose too. Other beta and preview warnings still show.
warnings.filterwarnings("ignore", message=".*(backfill_policy|allow_nonexistent_upstream).*")
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")
