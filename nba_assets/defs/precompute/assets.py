"""Phase 4: each expected player's and team's form as of the day, and the ML feature store."""

import datetime as dt

import dagster as dg
import polars as pl

from nba_assets.defs.lineage import history_of
from nba_assets.defs.table_asset import asset_key, table_asset
from nba_assets.defs.util import partition_dates
from nba_assets.lib import features, market
from nba_assets.tables import analytics, precompute, raw
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.resource import WarehouseResource

GROUP = "precompute"
_DAY = dt.timedelta(days=1)


def _same_day(spec: TableSpec) -> dg.AssetDep:
    return dg.AssetDep(asset_key(spec))


def _history(games: TableSpec, own: TableSpec) -> list[dg.AssetDep]:
    """Day D's form comes from every game before D (the season, the one before, a player's last
    games of any season): the game table's history, declared as lineage reads it."""
    return history_of(asset_key(games), asset_key(own))


def _output(
    df: pl.DataFrame, null_columns: list[str], **extra: float | int | str
) -> dg.Output[pl.DataFrame]:
    """``df`` with the metadata every phase-4 table shows: days and the nulls of the
    columns that say most about missing history."""
    counts = df.select(null_columns).null_count().row(0, named=True)
    return dg.Output(
        df,
        metadata={
            "days": df.get_column("game_date").n_unique() if df.height else 0,
            **{f"null_{name}": int(n) for name, n in counts.items()},
            **extra,
        },
    )


_PLAYER_GAME_COLUMNS = [
    "game_date",
    "season",
    "season_type",
    "player_id",
    "minutes",
    "pts",
    "fga",
    "fta",
    "fg3a",
    "usage_rate",
]


_PROP_COLUMNS = [
    "game_date",
    "event_id",
    "snapshot_time",
    "commence_time",
    "bookmaker",
    "market",
    "player_lookup",
    "line",
    "over_price",
    "under_price",
    "last_update",
]


@table_asset(
    precompute.player_daily_cache,
    group=GROUP,
    deps=[
        _same_day(analytics.upcoming_player_game_context),
        *_history(analytics.player_game_summary, precompute.player_daily_cache),
    ],
)
def player_daily_cache(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """Each expected player's rolling scoring and minutes form as of the morning of the day."""
    start, end = partition_dates(context)
    wh = warehouse.get()
    players = wh.read(analytics.upcoming_player_game_context, start, end)
    games = wh.read(analytics.player_game_summary, None, end - _DAY, _PLAYER_GAME_COLUMNS)
    df = features.player_daily_cache(players, games)
    return _output(df, ["points_avg_last_10", "points_avg_season", "usage_last_10"])


@table_asset(
    precompute.team_defense_profile,
    group=GROUP,
    deps=[
        _same_day(analytics.upcoming_team_game_context),
        *_history(analytics.team_defense_game_summary, precompute.team_defense_profile),
    ],
)
def team_defense_profile(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """Each team playing on the day: points and efficiency it allowed, and its pace, so far."""
    start, end = partition_dates(context)
    wh = warehouse.get()
    teams = wh.read(analytics.upcoming_team_game_context, start, end)
    defense = wh.read(analytics.team_defense_game_summary, None, end - _DAY)
    df = features.team_defense_profile(teams, defense)
    return _output(df, ["points_allowed_avg_last_10", "def_rating_last_10"])


@table_asset(
    precompute.player_composite_factors,
    group=GROUP,
    deps=[
        _same_day(analytics.upcoming_player_game_context),
        _same_day(analytics.upcoming_team_game_context),
        _same_day(precompute.player_daily_cache),
        _same_day(precompute.team_defense_profile),
    ],
)
def player_composite_factors(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """Each expected player's fatigue, rest against the opponent, expected pace and trends."""
    start, end = partition_dates(context)
    wh = warehouse.get()
    with wh.reading("reading player_composite_factors' inputs"):
        inputs = (
            wh.read(analytics.upcoming_player_game_context, start, end),
            wh.read(analytics.upcoming_team_game_context, start, end),
            wh.read(precompute.player_daily_cache, start, end),
            wh.read(precompute.team_defense_profile, start, end),
        )
    df = features.player_composite_factors(*inputs)
    return _output(df, ["fatigue_score", "rest_advantage", "pace_factor"])


@table_asset(
    precompute.ml_feature_store,
    group=GROUP,
    deps=[
        _same_day(analytics.upcoming_player_game_context),
        _same_day(analytics.upcoming_team_game_context),
        _same_day(precompute.player_daily_cache),
        _same_day(precompute.player_composite_factors),
        _same_day(precompute.team_defense_profile),
        *_history(analytics.team_offense_game_summary, precompute.ml_feature_store),
        _same_day(raw.odds_player_props),
    ],
)
def ml_feature_store(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """One feature vector (feature set v2: box-score form and the pre-game market) per expected
    player per game day."""
    start, end = partition_dates(context)
    wh = warehouse.get()
    with wh.reading("reading ml_feature_store's inputs"):
        teams = wh.read(analytics.upcoming_team_game_context, start, end)
        offense = wh.read(analytics.team_offense_game_summary, None, end - _DAY)
        players = wh.read(analytics.upcoming_player_game_context, start, end)
        cache = wh.read(precompute.player_daily_cache, start, end)
        props = wh.read(raw.odds_player_props, start, end, _PROP_COLUMNS)
        factors = wh.read(precompute.player_composite_factors, start, end)
        defense = wh.read(precompute.team_defense_profile, start, end)
    df = features.ml_feature_store(
        players,
        cache,
        factors,
        defense,
        features.team_offense_form(teams, offense),
        market.market_features(players, cache, props, market.team_last_game(teams, offense)),
    )
    quality = df.get_column("feature_quality")
    return _output(
        df,
        [],
        feature_set_version=features.FEATURE_SET_VERSION,
        mean_feature_quality=float(quality.mean() or 0.0),  # type: ignore[arg-type]
        below_50_quality=int((quality < 50).sum()),
        with_points_line=int(df.get_column("points_line").is_not_null().sum()),
        with_pra_line=int(df.get_column("pra_line").is_not_null().sum()),
    )
