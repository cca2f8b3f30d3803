"""Phase 3: per-game player and team summaries, and each day's context before tip-off."""

import datetime as dt

import dagster as dg
import polars as pl

from nba_assets.defs.table_asset import table_asset
from nba_assets.defs.util import partition_dates
from nba_assets.lib import analytics
from nba_assets.tables import analytics as tables
from nba_assets.tables import raw
from nba_assets.warehouse.resource import WarehouseResource

GROUP = "analytics"
_DAY = dt.timedelta(days=1)


def _days(df: pl.DataFrame) -> int:
    return df.get_column("game_date").n_unique() if df.height else 0


def _count(flags: pl.Series) -> int:
    """How many of ``flags`` are true."""
    return int(flags.sum())


@table_asset(
    tables.player_game_summary,
    group=GROUP,
    deps=[raw.nbac_player_boxscores, raw.nbac_team_boxscores, raw.odds_player_props],
)
def player_game_summary(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """One row per player per game: box score, efficiency, rest and the day's points line."""
    start, end = partition_dates(context)
    wh = warehouse.get()
    with wh.reading("reading player_game_summary's inputs"):
        box = wh.read(raw.nbac_player_boxscores, start, end)
        earlier = wh.read(raw.nbac_player_boxscores, None, start - _DAY, ["player_id", "game_date"])
        team_box = wh.read(raw.nbac_team_boxscores, start, end)
        props = wh.read(raw.odds_player_props, start, end)
    df = analytics.player_game_summary(box, team_box, props, earlier)
    return dg.Output(
        df,
        metadata={
            "days": _days(df),
            "with_line": _count(df.get_column("points_line").is_not_null()),
            "with_shooting_box": _count(df.get_column("ts_pct").is_not_null()),
        },
    )


def _team_output(df: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return dg.Output(
        df,
        metadata={
            "days": _days(df),
            "with_possessions": _count(df.get_column("game_possessions").is_not_null()),
        },
    )


@table_asset(tables.team_offense_game_summary, group=GROUP, deps=[raw.nbac_team_boxscores])
def team_offense_game_summary(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """One row per team per game: points scored, shooting efficiency, possessions and pace."""
    start, end = partition_dates(context)
    team_box = warehouse.get().read(raw.nbac_team_boxscores, start, end)
    return _team_output(analytics.team_offense_game_summary(team_box))


@table_asset(tables.team_defense_game_summary, group=GROUP, deps=[raw.nbac_team_boxscores])
def team_defense_game_summary(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """One row per team per game: points and efficiency allowed, possessions and pace."""
    start, end = partition_dates(context)
    team_box = warehouse.get().read(raw.nbac_team_boxscores, start, end)
    return _team_output(analytics.team_defense_game_summary(team_box))


_SCHEDULE_COLUMNS = [
    "game_date",
    "game_id",
    "season",
    "season_type",
    "home_team_id",
    "home_team_abbr",
    "away_team_id",
    "away_team_abbr",
]


@table_asset(tables.upcoming_team_game_context, group=GROUP, deps=[raw.nbac_schedule])
def upcoming_team_game_context(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """Each team playing on the day, from the morning schedule: opponent, venue and rest."""
    start, end = partition_dates(context)
    # Every earlier game too: rest is counted from the team's previous game, any season.
    schedule = warehouse.get().read(raw.nbac_schedule, None, end, _SCHEDULE_COLUMNS)
    df = analytics.upcoming_team_game_context(schedule, start, end)
    return dg.Output(
        df,
        metadata={
            "days": _days(df),
            "back_to_backs": _count(df.get_column("back_to_back")),
        },
    )


_BOX_HISTORY_COLUMNS = [
    "game_date",
    "game_id",
    "season",
    "player_id",
    "player_name",
    "player_lookup",
    "team_id",
    "team_abbr",
]


@table_asset(
    tables.upcoming_player_game_context,
    group=GROUP,
    deps=[
        tables.upcoming_team_game_context,
        raw.nbac_player_list,
        raw.nbac_player_boxscores,
        raw.odds_player_props,
    ],
)
def upcoming_player_game_context(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """Each player expected to play on the day, with opponent, rest and the day's points line."""
    start, end = partition_dates(context)
    wh = warehouse.get()
    list_from = start - dt.timedelta(days=analytics.PLAYER_LIST_MAX_AGE_DAYS)
    with wh.reading("reading upcoming_player_game_context's inputs"):
        teams = wh.read(tables.upcoming_team_game_context, start, end)
        player_list = wh.read(raw.nbac_player_list, list_from, end)
        # Box scores before the last day only: nothing played on a day may shape its context.
        box = wh.read(raw.nbac_player_boxscores, None, end - _DAY, _BOX_HISTORY_COLUMNS)
        props = wh.read(raw.odds_player_props, start, end)
    df = analytics.upcoming_player_game_context(teams, player_list, box, props)
    lines = analytics.points_lines(props)
    unmatched = lines.join(df, on=["game_date", "player_lookup"], how="anti")
    if unmatched.height:
        names = unmatched.get_column("player_lookup").unique().sort().head(20).to_list()
        context.log.warning(
            f"{unmatched.height} points lines have no expected player: {', '.join(names)}"
        )
    return dg.Output(
        df,
        metadata={
            "days": _days(df),
            "with_line": _count(df.get_column("points_line").is_not_null()),
            "lines_without_expected_player": unmatched.height,
            "without_recent_activity": _count(~df.get_column("has_recent_activity")),
        },
    )
