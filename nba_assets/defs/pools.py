"""Concurrency pools: one per source API and one for warehouse loads.

A step holding a pool's slot is the only one (up to the pool's limit, set in the instance) using
that API or writing the warehouse across all runs; with ``granularity: run`` in the instance the
run queue holds a run until every pool its steps use is free, so a backfill launched from the UI
waits for a scheduled run on the same sources and tables instead of colliding with it. Each
scrape asset names its source's pool, and the table factory the warehouse's.
"""

NBA_STATS_POOL = "nba_stats"
ODDS_API_POOL = "odds_api"
WAREHOUSE_POOL = "warehouse"
POOLS = (NBA_STATS_POOL, ODDS_API_POOL, WAREHOUSE_POOL)
