"""Concurrency pools: one per source API and one for warehouse loads.

A step holding a pool's slot is the only one (up to the pool's limit, set in the instance) using
that API or writing the warehouse across all runs; with ``granularity: run`` in the instance the
run queue holds a run until every pool its steps use is free, so a backfill launched from the UI
waits for a scheduled run on the same sources and tables instead of colliding with it.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from nba_assets.defs.scrape import assets as scrape

NBA_STATS_POOL = "nba_stats"
ODDS_API_POOL = "odds_api"
WAREHOUSE_POOL = "warehouse"
POOLS = (NBA_STATS_POOL, ODDS_API_POOL, WAREHOUSE_POOL)

SOURCE_POOL_OF_ENDPOINT = {
    scrape.SCOREBOARD: NBA_STATS_POOL,
    scrape.PLAYER_GAME_LOG: NBA_STATS_POOL,
    scrape.TEAM_GAME_LOG: NBA_STATS_POOL,
    scrape.PLAYER_LIST: NBA_STATS_POOL,
    scrape.EVENTS: ODDS_API_POOL,
    scrape.EVENT_ODDS: ODDS_API_POOL,
}


def pool_of(assets_def: dg.AssetsDefinition, tables: set[dg.AssetKey]) -> str | None:
    """The pool of an asset's step: its source API for a scrape, the warehouse for a table."""
    key = assets_def.key
    if key.path[0] == scrape.LANDING_PREFIX:
        return SOURCE_POOL_OF_ENDPOINT.get(key.path[-1])
    if key in tables:
        return WAREHOUSE_POOL
    return None


def with_pool(assets_def: dg.AssetsDefinition, pool: str) -> dg.AssetsDefinition:
    """``assets_def`` with its op in ``pool``.

    The phase packages' decorators do not name pools; the code location assigns them here, in
    one place. Dagster has no public way to change an op's pool once defined, so the op is made
    again with every property but the pool unchanged (``OpDefinition.with_replaced_properties``
    does the same, without the pool). An asset's code version lives on its spec, which the
    asset keeps.
    """
    op = assets_def.op
    if op.pool == pool:
        return assets_def
    pooled = dg.OpDefinition(
        name=op.name,
        ins={d.name: dg.In.from_definition(d) for d in op.input_defs},
        outs={d.name: dg.Out.from_definition(d) for d in op.output_defs},
        compute_fn=op.compute_fn,
        config_schema=op.config_schema,
        description=op.description,
        tags=op.tags,
        required_resource_keys=op.required_resource_keys,
        retry_policy=op.retry_policy,
        pool=pool,
    )
    return dg.AssetsDefinition.dagster_internal_init(
        **{**assets_def.get_attributes_dict(), "node_def": pooled}
    )


def with_pools(
    assets: Iterable[dg.AssetsDefinition], tables: set[dg.AssetKey]
) -> list[dg.AssetsDefinition]:
    """Every asset in the pool of the API it calls or of the warehouse it loads."""
    out = []
    for assets_def in assets:
        pool = pool_of(assets_def, tables)
        out.append(with_pool(assets_def, pool) if pool else assets_def)
    return out
