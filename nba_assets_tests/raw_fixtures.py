"""``nba_raw`` tables built straight from the real data files, for tests of later phases.

The frames have the exact ``nba_assets.tables.raw`` schemas. Sources (see the data README):
- player box: the full LeagueGameLog for 2022-23 and 2023-24 (with play-in), the lite game logs
  for every other game (shooting box, OREB, DREB and PF null there); game and team ids come from
  the team game logs (to 2024-25) and the 2025-26 schedule;
- team box: the team game logs (full box, to 2024-25) and the lite team logs for 2025-26
  (shooting box and minutes null), kept only for games that have player rows;
- schedule: every regular-season, play-in and playoff game from 2017-18;
- player list: for each game day, every player of that season (box scores and season index) on
  the team of his next game from that day (else his last one, else the index's team), as a
  roster fetched that morning would show him;
- props: the player-prop snapshots, one line per book, market and player (the most balanced of a
  book's alternate lines), names normalised with the alias table, and ``player_id`` where the
  lookup matches exactly one box-score player.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import polars as pl

from nba_assets.lib.names import apply_aliases, with_player_lookup
from nba_assets.player_aliases import load_aliases
from nba_assets.tables import raw
from nba_assets.warehouse.base import Warehouse

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
FIRST_SEASON = "2017-18"
RAW_TABLES = raw.TABLES

_SEASON_TYPES = {"2": "Regular Season", "4": "Playoffs", "5": "PlayIn"}
_STAGES = {"Regular Season": "Regular Season", "Play-In": "PlayIn", "Playoffs": "Playoffs"}


def _read(data_dir: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(data_dir / f"{name}.parquet")


def _matchup(col: str = "MATCHUP") -> dict[str, pl.Expr]:
    return {
        "opponent_team_abbr": pl.col(col).str.slice(-3),
        "is_home": pl.col(col).str.contains(" vs. ", literal=True),
    }


def _game_date(col: str) -> pl.Expr:
    return pl.col(col).str.slice(0, 10).str.to_date("%Y-%m-%d")


def _team_logs(data_dir: Path) -> pl.DataFrame:
    logs = _read(data_dir, "team_game_logs_2014-15_2024-25")
    kind = pl.col("SEASON_ID").str.slice(0, 1)
    return (
        logs.filter((pl.col("SEASON") >= FIRST_SEASON) & kind.is_in(list(_SEASON_TYPES)))
        .with_columns(season_type=kind.replace_strict(_SEASON_TYPES))
        .unique(["TEAM_ID", "GAME_ID"], keep="first")
    )


def _schedule_2025(data_dir: Path) -> pl.DataFrame:
    sched = _read(data_dir, "schedule_2025-26")
    return sched.filter(pl.col("STAGE").is_in(list(_STAGES))).with_columns(
        season_type=pl.col("STAGE").replace_strict(_STAGES)
    )


def _schedule(data_dir: Path) -> pl.DataFrame:
    logs = _team_logs(data_dir)
    home = logs.filter(pl.col("MATCHUP").str.contains(" vs. ", literal=True))
    away = logs.filter(pl.col("MATCHUP").str.contains(" @ ", literal=True)).select(
        "GAME_ID",
        away_team_id=pl.col("TEAM_ID"),
        away_team_abbr=pl.col("TEAM_ABBREVIATION"),
        away_pts=pl.col("PTS"),
    )
    old = home.join(away, on="GAME_ID").select(
        game_date=_game_date("GAME_DATE"),
        game_id=pl.col("GAME_ID"),
        season=pl.col("SEASON"),
        season_type=pl.col("season_type"),
        game_status=pl.lit(3, pl.Int64),
        home_team_id=pl.col("TEAM_ID"),
        home_team_abbr=pl.col("TEAM_ABBREVIATION"),
        away_team_id=pl.col("away_team_id"),
        away_team_abbr=pl.col("away_team_abbr"),
        home_pts=pl.col("PTS"),
        away_pts=pl.col("away_pts"),
    )
    new = _schedule_2025(data_dir).select(
        game_date=_game_date("GAME_DATE"),
        game_id=pl.col("GAME_ID"),
        season=pl.col("SEASON"),
        season_type=pl.col("season_type"),
        game_status=pl.col("STATUS"),
        home_team_id=pl.col("HOME_TEAM_ID"),
        home_team_abbr=pl.col("HOME_ABBR"),
        away_team_id=pl.col("AWAY_TEAM_ID"),
        away_team_abbr=pl.col("AWAY_ABBR"),
        home_pts=pl.col("HOME_PTS"),
        away_pts=pl.col("AWAY_PTS"),
    )
    return raw.nbac_schedule.conform(pl.concat([old, new]))


def _team_games(schedule: pl.DataFrame) -> pl.DataFrame:
    """(team_abbr, game_date) -> game_id, team_id, season_type: the lite logs have no ids."""
    cols = ("game_date", "game_id", "season_type")
    return pl.concat(
        [
            schedule.select(*cols, team_id="home_team_id", team_abbr="home_team_abbr"),
            schedule.select(*cols, team_id="away_team_id", team_abbr="away_team_abbr"),
        ]
    )


_BOX_COLS = {
    "fgm": "FGM",
    "fga": "FGA",
    "fg3m": "FG3M",
    "fg3a": "FG3A",
    "ftm": "FTM",
    "fta": "FTA",
    "oreb": "OREB",
    "dreb": "DREB",
    "reb": "REB",
    "ast": "AST",
    "stl": "STL",
    "blk": "BLK",
    "tov": "TOV",
    "pf": "PF",
}


def _box_stats(available: list[str]) -> dict[str, pl.Expr]:
    return {
        ours: pl.col(theirs) if theirs in available else pl.lit(None, pl.Int64)
        for ours, theirs in _BOX_COLS.items()
    }


def _player_box(data_dir: Path, schedule: pl.DataFrame) -> pl.DataFrame:
    full = _read(data_dir, "player_box_leaguegamelog_2022-23_2023-24")
    lite = _read(data_dir, "player_game_logs_lite_2017-18_2025-26").join(
        full.select("PLAYER_ID", "GAME_DATE"), on=["PLAYER_ID", "GAME_DATE"], how="anti"
    )
    from_full = full.select(
        game_date=_game_date("GAME_DATE"),
        game_id=pl.col("GAME_ID"),
        season=pl.col("SEASON"),
        season_type=pl.col("SEASON_TYPE"),
        player_id=pl.col("PLAYER_ID"),
        player_name=pl.col("PLAYER_NAME"),
        team_id=pl.col("TEAM_ID"),
        team_abbr=pl.col("TEAM_ABBREVIATION"),
        **_matchup(),
        wl=pl.col("WL"),
        minutes=pl.col("MIN").cast(pl.Float64),
        pts=pl.col("PTS"),
        **_box_stats(full.columns),
        plus_minus=pl.col("PLUS_MINUS").cast(pl.Float64),
    )
    from_lite = (
        lite.with_columns(game_date=_game_date("GAME_DATE"))
        .join(
            _team_games(schedule),
            left_on=["TEAM_ABBREVIATION", "game_date"],
            right_on=["team_abbr", "game_date"],
        )
        .select(
            "game_date",
            "game_id",
            season=pl.col("SEASON"),
            season_type=pl.col("season_type"),
            player_id=pl.col("PLAYER_ID"),
            player_name=pl.col("PLAYER_NAME"),
            team_id=pl.col("team_id"),
            team_abbr=pl.col("TEAM_ABBREVIATION"),
            **_matchup(),
            wl=pl.col("WL"),
            minutes=pl.col("MIN").cast(pl.Float64),
            pts=pl.col("PTS"),
            **_box_stats(lite.columns),
            plus_minus=pl.col("PLUS_MINUS").cast(pl.Float64),
        )
    )
    box = with_player_lookup(pl.concat([from_full, from_lite]), "player_name")
    return raw.nbac_player_boxscores.conform(box.select(list(raw.nbac_player_boxscores.columns)))


def _team_box(data_dir: Path, schedule: pl.DataFrame, player_box: pl.DataFrame) -> pl.DataFrame:
    logs = _team_logs(data_dir)
    old = logs.select(
        game_date=_game_date("GAME_DATE"),
        game_id=pl.col("GAME_ID"),
        season=pl.col("SEASON"),
        season_type=pl.col("season_type"),
        team_id=pl.col("TEAM_ID"),
        team_abbr=pl.col("TEAM_ABBREVIATION"),
        **_matchup(),
        wl=pl.col("WL"),
        minutes=pl.col("MIN").cast(pl.Float64),
        pts=pl.col("PTS"),
        **_box_stats(logs.columns),
        plus_minus=pl.col("PLUS_MINUS").cast(pl.Float64),
    )
    lite = _read(data_dir, "team_game_logs_lite_2017-18_2025-26").filter(
        pl.col("SEASON") > logs.get_column("SEASON").max()  # type: ignore[operator]
    )
    new = (
        lite.with_columns(game_date=_game_date("GAME_DATE"))
        .join(
            _team_games(schedule).drop("team_abbr"),
            left_on=["TEAM_ID", "game_date"],
            right_on=["team_id", "game_date"],
        )
        .select(
            "game_date",
            "game_id",
            season=pl.col("SEASON"),
            season_type=pl.col("season_type"),
            team_id=pl.col("TEAM_ID"),
            team_abbr=pl.col("TEAM_ABBREVIATION"),
            **_matchup(),
            wl=pl.col("WL"),
            minutes=pl.lit(None, pl.Float64),
            pts=pl.col("PTS"),
            **_box_stats(lite.columns),
            plus_minus=pl.col("PLUS_MINUS").cast(pl.Float64),
        )
    )
    both = pl.concat([old, new]).join(player_box.select("game_id").unique(), on="game_id")
    return raw.nbac_team_boxscores.conform(both)


def _implied(price: pl.Expr) -> pl.Expr:
    return pl.when(price < 0).then(-price / (100 - price)).otherwise(100 / (100 + price))


def _props(data_dir: Path, player_box: pl.DataFrame) -> pl.DataFrame:
    snap = _read(data_dir, "props_all_markets_snapshots_2025-26")
    commence = pl.col("game_time").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
    ids = (
        player_box.filter(pl.col("season") == "2025-26")
        .group_by("player_lookup")
        .agg(player_id=pl.col("player_id").unique())
        .filter(pl.col("player_id").list.len() == 1)
        .with_columns(pl.col("player_id").list.first())
    )
    props = (
        with_player_lookup(snap.filter(pl.col("line").is_not_null()), "player")
        .with_columns(
            player_lookup=apply_aliases(pl.col("player_lookup"), load_aliases()),
            commence_time=commence,
            game_date=commence.dt.convert_time_zone("America/New_York").dt.date(),
            away_team=pl.col("game").str.split(" @ ").list.first(),
            home_team=pl.col("game").str.split(" @ ").list.last(),
            _balance=(_implied(pl.col("over_odds")) - _implied(pl.col("under_odds"))).abs(),
        )
        # A book quoting alternate lines keeps its most balanced one, its main line.
        .sort("_balance", "line", nulls_last=True)
        .unique(["event_id", "bookmaker", "market", "player_lookup"], keep="first")
        .join(ids, on="player_lookup", how="left")
        .select(
            "game_date",
            "event_id",
            "commence_time",
            "home_team",
            "away_team",
            "bookmaker",
            "market",
            player_name=pl.col("player"),
            player_lookup=pl.col("player_lookup"),
            player_id=pl.col("player_id"),
            line=pl.col("line"),
            over_price=pl.col("over_odds"),
            under_price=pl.col("under_odds"),
            last_update=pl.lit(None, pl.Datetime("us", "UTC")),
        )
    )
    return raw.odds_player_props.conform(props)


@functools.cache
def _sources(data_dir: Path) -> dict[str, pl.DataFrame]:
    schedule = _schedule(data_dir)
    player_box = _player_box(data_dir, schedule)
    props = _props(data_dir, player_box)
    events = props.select(list(raw.odds_events.columns)).unique("event_id", keep="first")
    index = _read(data_dir, "player_season_index_2017-18_2025-26")
    indexed = (
        index.sort("GP", descending=True)
        .unique(["SEASON", "PLAYER_ID"], keep="first")
        .select(
            season=pl.col("SEASON"),
            player_id=pl.col("PLAYER_ID"),
            index_name=pl.col("PLAYER_NAME"),
            index_team_id=pl.col("TEAM_ID"),
            index_team_abbr=pl.col("TEAM_ABBREVIATION"),
        )
    )
    return {
        raw.nbac_schedule.name: schedule,
        raw.nbac_player_boxscores.name: player_box,
        raw.nbac_team_boxscores.name: _team_box(data_dir, schedule, player_box),
        raw.odds_player_props.name: props,
        raw.odds_events.name: raw.odds_events.conform(events),
        "_season_index": indexed,
    }


def _player_list(sources: dict[str, pl.DataFrame], days: pl.DataFrame) -> pl.DataFrame:
    """Each day's roster: the season's players on the team of their next game from that day."""
    box = sources[raw.nbac_player_boxscores.name]
    played = box.select("season", "player_id", box_name="player_name").unique(
        ["season", "player_id"], keep="first"
    )
    season_players = played.join(sources["_season_index"], on=["season", "player_id"], how="full")
    season_players = season_players.select(
        season=pl.coalesce("season", "season_right"),
        player_id=pl.coalesce("player_id", "player_id_right"),
        player_name=pl.coalesce("box_name", "index_name"),
        index_team_id=pl.col("index_team_id"),
        index_team_abbr=pl.col("index_team_abbr"),
    )
    games = box.select(
        "player_id",
        "season",
        _d=pl.col("game_date"),
        team_id=pl.col("team_id"),
        team_abbr="team_abbr",
    ).sort("_d")

    def team_on(roster: pl.DataFrame, strategy: str, allow_exact: bool) -> pl.DataFrame:
        return (
            roster.sort("game_date")
            .join_asof(
                games,
                left_on="game_date",
                right_on="_d",
                by="player_id",
                strategy=strategy,  # type: ignore[arg-type]
                allow_exact_matches=allow_exact,
                check_sortedness=False,
            )
            .select(
                "game_date",
                "player_id",
                team_id=pl.when(pl.col("season_right") == pl.col("season")).then("team_id"),
                team_abbr=pl.when(pl.col("season_right") == pl.col("season")).then("team_abbr"),
            )
        )

    roster = days.join(season_players, on="season")
    key = ["game_date", "player_id"]
    nxt, last = team_on(roster, "forward", True), team_on(roster, "backward", False)
    listed = (
        roster.join(nxt, on=key)
        .join(last, on=key, suffix="_last")
        .select(
            "game_date",
            "season",
            "player_id",
            "player_name",
            team_id=pl.coalesce("team_id", "team_id_last", "index_team_id"),
            team_abbr=pl.coalesce("team_abbr", "team_abbr_last", "index_team_abbr"),
            roster_status=pl.lit(1, pl.Int64),
        )
        .filter(pl.col("team_id").is_not_null())
    )
    listed = with_player_lookup(listed, "player_name")
    return raw.nbac_player_list.conform(listed.select(list(raw.nbac_player_list.columns)))


def raw_frames(start: dt.date, end: dt.date, data_dir: Path = DATA_DIR) -> dict[str, pl.DataFrame]:
    """Every ``nba_raw`` table's rows with game_date in ``start..end``, keyed by table name."""
    sources = _sources(data_dir)
    in_range = pl.col("game_date").is_between(start, end)
    frames = {
        spec.name: sources[spec.name].filter(in_range)
        for spec in RAW_TABLES
        if spec.name in sources
    }
    days = (
        frames[raw.nbac_schedule.name]
        .select("game_date", "season")
        .unique("game_date", keep="first")
    )
    frames[raw.nbac_player_list.name] = _player_list(sources, days)
    return frames


def write_raw(
    warehouse: Warehouse,
    start: dt.date,
    end: dt.date,
    frames: dict[str, pl.DataFrame] | None = None,
) -> dict[str, int]:
    """Replace ``start..end`` of every ``nba_raw`` table with the fixture rows; rows per table."""
    frames = frames if frames is not None else raw_frames(start, end)
    return {
        spec.name: warehouse.replace_partitions(spec, frames[spec.name], start, end)
        for spec in RAW_TABLES
    }
