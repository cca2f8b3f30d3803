"""Phase 3 transforms: box scores, schedule, player list and lines into per-game tables.

Pure polars, vectorised over any range of days. The ``upcoming_*`` transforms see only what is
known on the morning of each day: the day's schedule, player list and lines, and games played
strictly before it.

One module for the five phase-3 tables (over 350 lines on purpose): they share the rest-day and
game-count helpers and the shooting-box formulas.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from nba_assets.lib.lines import daily_points_lines, pre_game_props
from nba_assets.tables import analytics as tables
from nba_assets.tables.spec import TableSpec

RECENT_TEAM_GAMES = 5
"""A listed player has recent activity when he played in one of his team's last this many games."""
PLAYER_LIST_MAX_AGE_DAYS = 30
"""A day uses the latest player list fetched at most this many days before it."""
# Game types that count: regular season, play-in and playoffs (source spellings differ).
_COUNTING_GAME_TYPES = ("regularseason", "playin", "playoffs")
_POSTSEASON_GAME_TYPES = ("playin", "playoffs")


def _shape(spec: TableSpec, df: pl.DataFrame) -> pl.DataFrame:
    return spec.conform(df.select(list(spec.columns)))


def game_type(season_type: pl.Expr) -> pl.Expr:
    """``season_type`` folded to letters only: ``Play-In`` and ``PlayIn`` are both ``playin``."""
    return season_type.str.to_lowercase().str.replace_all(r"[^a-z]", "")


def is_postseason(season_type: pl.Expr) -> pl.Expr:
    """True for play-in and playoff games."""
    return game_type(season_type).is_in(_POSTSEASON_GAME_TYPES)


def previous_season(season: pl.Expr) -> pl.Expr:
    """``2025-26`` -> ``2024-25``."""
    start = season.str.slice(0, 4).cast(pl.Int64)
    return (start - 1).cast(pl.String) + "-" + (start % 100).cast(pl.String).str.zfill(2)


def _possessions(prefix: str = "") -> pl.Expr:
    c = lambda name: pl.col(prefix + name)  # noqa: E731
    return c("fga") + 0.44 * c("fta") - c("oreb") + c("tov")


def _shooting_load() -> pl.Expr:
    return pl.col("fga") + 0.44 * pl.col("fta") + pl.col("tov")


def _ts_pct(pts: str, fga: str, fta: str) -> pl.Expr:
    attempts = pl.col(fga) + 0.44 * pl.col(fta)
    return pl.when(attempts > 0).then(pl.col(pts) / (2 * attempts))


def _efg_pct(fgm: str, fg3m: str, fga: str) -> pl.Expr:
    return pl.when(pl.col(fga) > 0).then((pl.col(fgm) + 0.5 * pl.col(fg3m)) / pl.col(fga))


def days_rest(games: pl.DataFrame, by: str) -> pl.DataFrame:
    """Full days off before each game of ``by`` (0 on a back-to-back; null for the first).

    Args:
        games: at least ``by`` and ``game_date``; one row per game (duplicates are ignored).
    """
    prev = pl.col("game_date").shift(1).over(by)
    return (
        games.select(by, "game_date")
        .unique()
        .sort(by, "game_date")
        .with_columns(days_rest=((pl.col("game_date") - prev).dt.total_days() - 1).cast(pl.Int64))
    )


def count_before(
    events: pl.DataFrame, targets: pl.DataFrame, by: str, days: int | None = None
) -> pl.Series:
    """For each target row, the number of ``events`` of the same ``by`` strictly before its day.

    With ``days`` the window is ``game_date - days .. game_date - 1``.

    Args:
        events: ``by`` and ``game_date``, one row per event.
        targets: ``by`` and ``game_date``; the result follows its row order.
    """
    ev = (
        events.select(by, "game_date")
        .unique()
        .sort(by, "game_date")
        .with_columns(n=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by))
    )
    tg = targets.select(by, "game_date").with_row_index("_row")

    def upto(at: pl.Expr) -> pl.Series:
        t = tg.with_columns(_at=at).sort("_at")
        joined = t.join_asof(
            ev.rename({"game_date": "_ev_date"}),
            left_on="_at",
            right_on="_ev_date",
            by=by,
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        return joined.sort("_row").get_column("n").fill_null(0)

    before = upto(pl.col("game_date"))
    if days is None:
        return before
    return before - upto(pl.col("game_date") - dt.timedelta(days=days))


def points_lines(props: pl.DataFrame) -> pl.DataFrame:
    """The day's points line per player as the predictions see it (:func:`daily_points_lines`).

    Returns:
        ``game_date, player_lookup, points_line, line_books``.
    """
    return daily_points_lines(pre_game_props(props)).select(
        "game_date", "player_lookup", pl.col("line").alias("points_line"), "line_books"
    )


def player_game_summary(
    box: pl.DataFrame,
    team_box: pl.DataFrame,
    props: pl.DataFrame,
    earlier_games: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per player per game of ``box``.

    Args:
        box: ``nbac_player_boxscores`` rows of the days to summarise.
        team_box: ``nbac_team_boxscores`` rows of the same days (for the usage proxy).
        props: ``odds_player_props`` rows of the same days.
        earlier_games: ``player_id, game_date`` of games before those days, for days_rest.
    """
    history = box.select("player_id", "game_date")
    if earlier_games is not None:
        history = pl.concat([earlier_games.select("player_id", "game_date"), history])
    team_load = team_box.select("game_id", "team_id", _team_load=_shooting_load())
    result = pl.col("pts").cast(pl.Float64) - pl.col("points_line")
    df = (
        box.join(team_load, on=["game_id", "team_id"], how="left")
        .join(days_rest(history, "player_id"), on=["player_id", "game_date"], how="left")
        .join(points_lines(props), on=["game_date", "player_lookup"], how="left")
        .with_columns(
            starter=pl.lit(None, pl.Boolean),
            ts_pct=_ts_pct("pts", "fga", "fta"),
            efg_pct=_efg_pct("fgm", "fg3m", "fga"),
            usage_rate=pl.when(pl.col("_team_load") > 0).then(
                _shooting_load() / pl.col("_team_load")
            ),
            over_under_result=pl.when(result > 0)
            .then(pl.lit("OVER"))
            .when(result < 0)
            .then(pl.lit("UNDER"))
            .when(result == 0)
            .then(pl.lit("PUSH")),
        )
    )
    return _shape(tables.player_game_summary, df)


_TEAM_STATS = ("pts", "fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "tov", "minutes")


def _team_games(team_box: pl.DataFrame) -> pl.DataFrame:
    """Each team row with its opponent's box (``opp_*``) and both teams' possessions."""
    opponent = team_box.select(
        "game_id",
        pl.col("team_id").alias("opponent_team_id"),
        *(pl.col(c).alias(f"opp_{c}") for c in _TEAM_STATS),
    )
    return (
        team_box.join(opponent, on="game_id")
        .filter(pl.col("team_id") != pl.col("opponent_team_id"))
        .with_columns(possessions=_possessions(), opp_possessions=_possessions("opp_"))
        .with_columns(game_possessions=(pl.col("possessions") + pl.col("opp_possessions")) / 2)
        .with_columns(
            pace=pl.when(pl.col("minutes") > 0).then(
                48 * pl.col("game_possessions") / (pl.col("minutes") / 5)
            )
        )
    )


def _per_100(points: str) -> pl.Expr:
    return pl.when(pl.col("game_possessions") > 0).then(
        100 * pl.col(points) / pl.col("game_possessions")
    )


def team_offense_game_summary(team_box: pl.DataFrame) -> pl.DataFrame:
    """One row per team per game: scoring, efficiency, possessions, pace, offensive rating."""
    df = _team_games(team_box).with_columns(
        efg_pct=_efg_pct("fgm", "fg3m", "fga"),
        ts_pct=_ts_pct("pts", "fga", "fta"),
        off_rating=_per_100("pts"),
    )
    return _shape(tables.team_offense_game_summary, df)


def team_defense_game_summary(team_box: pl.DataFrame) -> pl.DataFrame:
    """One row per team per game: what the opponent scored and how efficiently."""
    df = _team_games(team_box).with_columns(
        points_allowed=pl.col("opp_pts"),
        opp_efg_pct=_efg_pct("opp_fgm", "opp_fg3m", "opp_fga"),
        opp_ts_pct=_ts_pct("opp_pts", "opp_fga", "opp_fta"),
        def_rating=_per_100("opp_pts"),
    )
    return _shape(tables.team_defense_game_summary, df)


def _schedule_sides(schedule: pl.DataFrame) -> pl.DataFrame:
    """Two rows per scheduled counting game: one per team, with its opponent."""
    games = schedule.filter(game_type(pl.col("season_type")).is_in(_COUNTING_GAME_TYPES))
    base = ("game_date", "game_id", "season", "season_type")

    def side(team: str, opponent: str, is_home: bool) -> pl.DataFrame:
        return games.select(
            *base,
            team_id=pl.col(f"{team}_team_id"),
            team_abbr=pl.col(f"{team}_team_abbr"),
            opponent_team_id=pl.col(f"{opponent}_team_id"),
            opponent_team_abbr=pl.col(f"{opponent}_team_abbr"),
            is_home=pl.lit(is_home),
        )

    return pl.concat([side("home", "away", True), side("away", "home", False)])


def upcoming_team_game_context(
    schedule: pl.DataFrame, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """Each team's game on each day of ``start..end``, with rest and recent load.

    Args:
        schedule: ``nbac_schedule`` rows up to ``end``, with all the earlier games needed for
            rest (earlier seasons too). Only teams, dates and game types are used, never scores.
    """
    sides = _schedule_sides(schedule).sort("team_id", "game_date")
    sides = sides.with_columns(
        games_last_7_days=count_before(sides, sides, "team_id", days=7),
        team_game_number=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("team_id", "season"),
    )
    df = (
        sides.join(days_rest(sides, "team_id"), on=["team_id", "game_date"], how="left")
        .with_columns(back_to_back=(pl.col("days_rest") == 0).fill_null(False))
        .filter(pl.col("game_date").is_between(start, end))
    )
    opponent = df.select(
        "game_id",
        opponent_team_id=pl.col("team_id"),
        opponent_days_rest=pl.col("days_rest"),
        opponent_back_to_back=pl.col("back_to_back"),
    )
    df = df.join(opponent, on=["game_id", "opponent_team_id"], how="left")
    return _shape(tables.upcoming_team_game_context, df)


def _listed_players(days: pl.DataFrame, player_list: pl.DataFrame) -> pl.DataFrame:
    """Players on the latest list fetched on or before each day (at most 30 days old)."""
    snapshots = player_list.select(list_date=pl.col("game_date")).unique().sort("list_date")
    listed = player_list.filter(pl.col("roster_status").fill_null(1) == 1).rename(
        {"game_date": "list_date"}
    )
    return (
        days.sort("game_date")
        .join_asof(
            snapshots,
            left_on="game_date",
            right_on="list_date",
            strategy="backward",
            tolerance=dt.timedelta(days=PLAYER_LIST_MAX_AGE_DAYS),
        )
        .join(listed, on="list_date")
        .select(
            "game_date",
            "player_id",
            list_team_id=pl.col("team_id"),
            list_name=pl.col("player_name"),
            list_lookup=pl.col("player_lookup"),
        )
        .unique(["game_date", "player_id"], keep="first")
    )


def _recent_players(teams: pl.DataFrame, box: pl.DataFrame) -> pl.DataFrame:
    """(game_date, team_id, player_id) of players who played in the team's last games before it.

    A team's games are numbered within its season from the box scores; the game numbered ``i``
    is among the last ``RECENT_TEAM_GAMES`` before a day when the team had played ``n`` games
    before that day and ``n - RECENT_TEAM_GAMES < i <= n``.
    """
    team_games = (
        box.select("team_id", "season", "game_date")
        .unique()
        .sort("team_id", "game_date")
        .with_columns(i=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("team_id", "season"))
    )
    played = box.select("team_id", "season", "game_date", "player_id").join(
        team_games, on=["team_id", "season", "game_date"]
    )
    covers = played.with_columns(
        n=pl.int_ranges(pl.col("i"), pl.col("i") + RECENT_TEAM_GAMES, dtype=pl.Int64)
    ).explode("n")
    return (
        _season_games_before(team_games, teams)
        .join(covers.select("team_id", "season", "n", "player_id"), on=["team_id", "season", "n"])
        .select("game_date", "team_id", "player_id")
        .unique()
    )


def _season_games_before(team_games: pl.DataFrame, teams: pl.DataFrame) -> pl.DataFrame:
    """``game_date, team_id, season, n``: the team's games this season strictly before the day."""
    joined = (
        teams.select("game_date", "team_id", "season")
        .sort("game_date")
        .join_asof(
            team_games.select("team_id", "season", "i", _d=pl.col("game_date")).sort("_d"),
            left_on="game_date",
            right_on="_d",
            by="team_id",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
            suffix="_last",
        )
    )
    return joined.select(
        "game_date",
        "team_id",
        "season",
        n=pl.when(pl.col("season_last") == pl.col("season")).then(pl.col("i")).otherwise(0),
    )


def upcoming_player_game_context(
    teams: pl.DataFrame,
    player_list: pl.DataFrame,
    box: pl.DataFrame,
    props: pl.DataFrame,
) -> pl.DataFrame:
    """Every player expected to play on each day of ``teams``, as known that morning.

    Expected players are those on the day's player list and those who played for a team in its
    last ``RECENT_TEAM_GAMES`` games of the season. Each is placed on the team of his last
    box-score game of the season before the day (the list's team when he has none) and kept
    when that team plays that day.

    Args:
        teams: ``upcoming_team_game_context`` rows of the days.
        player_list: ``nbac_player_list`` rows fetched up to the last day.
        box: ``nbac_player_boxscores`` rows up to the last day; for each day only the games
            strictly before it are used.
        props: ``odds_player_props`` rows of the days.
    """
    days = teams.select("game_date", "season").unique("game_date", keep="first")
    listed = _listed_players(days.select("game_date"), player_list)
    recent = _recent_players(teams, box)
    last_game = box.select(
        "player_id",
        last_date=pl.col("game_date"),
        last_team_id=pl.col("team_id"),
        last_season=pl.col("season"),
        box_name=pl.col("player_name"),
        box_lookup=pl.col("player_lookup"),
    ).sort("last_date")
    candidates = (
        pl.concat(
            [listed.select("game_date", "player_id"), recent.select("game_date", "player_id")]
        )
        .unique()
        .join(days, on="game_date")
        .sort("game_date")
        .join_asof(
            last_game,
            left_on="game_date",
            right_on="last_date",
            by="player_id",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .join(listed, on=["game_date", "player_id"], how="left")
        .with_columns(
            team_id=pl.when(pl.col("last_season") == pl.col("season"))
            .then(pl.col("last_team_id"))
            .otherwise(pl.col("list_team_id")),
            on_player_list=pl.col("list_team_id").is_not_null(),
            player_name=pl.coalesce("list_name", "box_name"),
            player_lookup=pl.coalesce("list_lookup", "box_lookup"),
            days_rest=((pl.col("game_date") - pl.col("last_date")).dt.total_days() - 1).cast(
                pl.Int64
            ),
        )
        .drop("season")
        .join(
            teams.select(
                "game_date",
                "game_id",
                "season",
                "season_type",
                "team_id",
                "team_abbr",
                "opponent_team_abbr",
                "is_home",
            ),
            on=["game_date", "team_id"],
        )
    )
    candidates = candidates.with_columns(
        games_last_7_days=count_before(box, candidates, "player_id", days=7)
    )
    active = recent.with_columns(has_recent_activity=pl.lit(True))
    df = (
        candidates.join(active, on=["game_date", "team_id", "player_id"], how="left")
        .join(points_lines(props), on=["game_date", "player_lookup"], how="left")
        .with_columns(
            has_recent_activity=pl.col("has_recent_activity").fill_null(False),
            back_to_back=(pl.col("days_rest") == 0).fill_null(False),
        )
    )
    return _shape(tables.upcoming_player_game_context, df)
