"""Phase 3 and phase 4 tables from raw frames, with the transforms the assets call.

Each asset computes one table from warehouse reads; these functions compute a whole phase from
frames in memory, routing the same inputs to the same ``nba_assets.lib`` transforms, so that
tests and benchmarks build exactly what a range run of the assets stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from nba_assets.lib import analytics, features, market
from nba_assets.tables import analytics as analytics_tables
from nba_assets.tables import precompute as precompute_tables
from nba_assets.tables import raw

Frames = Mapping[str, pl.DataFrame]


def analytics_phase(raw_frames: Frames, start: dt.date, end: dt.date) -> dict[str, pl.DataFrame]:
    """Every ``nba_analytics`` table, keyed by table name.

    The game summaries cover every game in ``raw_frames``; the ``upcoming_*`` contexts cover the
    days ``start..end`` and see, for each day, only what was known that morning.

    Args:
        raw_frames: ``nba_raw`` tables keyed by name, with the history the contexts need.
    """
    box = raw_frames[raw.nbac_player_boxscores.name]
    team_box = raw_frames[raw.nbac_team_boxscores.name]
    props = raw_frames[raw.odds_player_props.name]
    teams = analytics.upcoming_team_game_context(raw_frames[raw.nbac_schedule.name], start, end)
    players = analytics.upcoming_player_game_context(
        teams, raw_frames[raw.nbac_player_list.name], box, props
    )
    return {
        analytics_tables.player_game_summary.name: analytics.player_game_summary(
            box, team_box, props
        ),
        analytics_tables.team_offense_game_summary.name: analytics.team_offense_game_summary(
            team_box
        ),
        analytics_tables.team_defense_game_summary.name: analytics.team_defense_game_summary(
            team_box
        ),
        analytics_tables.upcoming_team_game_context.name: teams,
        analytics_tables.upcoming_player_game_context.name: players,
    }


def precompute_phase(
    analytics_frames: Frames, props: pl.DataFrame | None = None
) -> dict[str, pl.DataFrame]:
    """Every ``nba_precompute`` table for the days of the ``upcoming_*`` contexts, keyed by name.

    Args:
        analytics_frames: ``nba_analytics`` tables keyed by name (see `analytics_phase`); each
            day's features use only the games before it.
        props: ``odds_player_props`` rows of the days: the feature store is then feature set
            v2, as the asset writes it (v1 without them).
    """
    players = analytics_frames[analytics_tables.upcoming_player_game_context.name]
    teams = analytics_frames[analytics_tables.upcoming_team_game_context.name]
    summary = analytics_frames[analytics_tables.player_game_summary.name]
    offense = analytics_frames[analytics_tables.team_offense_game_summary.name]
    defense = analytics_frames[analytics_tables.team_defense_game_summary.name]
    cache = features.player_daily_cache(players, summary)
    profile = features.team_defense_profile(teams, defense)
    composite = features.player_composite_factors(players, teams, cache, profile)
    market_features = (
        None
        if props is None
        else market.market_features(players, cache, props, market.team_last_game(teams, offense))
    )
    store = features.ml_feature_store(
        players,
        cache,
        composite,
        profile,
        features.team_offense_form(teams, offense),
        market_features,
    )
    return {
        precompute_tables.player_daily_cache.name: cache,
        precompute_tables.team_defense_profile.name: profile,
        precompute_tables.player_composite_factors.name: composite,
        precompute_tables.ml_feature_store.name: store,
    }


def compute_phases(raw_frames: Frames, start: dt.date, end: dt.date) -> dict[str, pl.DataFrame]:
    """Every phase-3 and phase-4 table for ``start..end`` from raw frames (history included)."""
    tables = analytics_phase(raw_frames, start, end)
    props = raw_frames[raw.odds_player_props.name].filter(
        pl.col("game_date").is_between(start, end)
    )
    return {**tables, **precompute_phase(tables, props)}
