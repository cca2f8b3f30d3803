"""Phase 3 transforms on real data: summaries equal the source, nulls are never invented.

Inputs are the raw tables a replay of the shipped archive writes (``nba_assets.pipeline``).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_assets.lib import analytics
from nba_assets.pipeline import raw_frames
from nba_assets.replay.archive import load_archive
from nba_assets.tables import analytics as tables

LINES_START, LINES_END = dt.date(2025, 11, 8), dt.date(2025, 11, 12)  # real lines
BOX_START, BOX_END = dt.date(2023, 1, 10), dt.date(2023, 1, 14)  # full shooting box
# No shooting box: the archive has none before 2022-23 (2025-26 has one for the players the
# books list, so it cannot stand for a season without).
NO_BOX_START, NO_BOX_END = dt.date(2022, 1, 10), dt.date(2022, 1, 14)


@pytest.fixture(scope="module")
def lines_raw() -> dict[str, pl.DataFrame]:
    return raw_frames(LINES_START, LINES_END)


@pytest.fixture(scope="module")
def box_raw() -> dict[str, pl.DataFrame]:
    return raw_frames(BOX_START, BOX_END)


@pytest.fixture(scope="module")
def no_box_raw() -> dict[str, pl.DataFrame]:
    return raw_frames(NO_BOX_START, NO_BOX_END)


def _summary(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return analytics.player_game_summary(
        frames["nbac_player_boxscores"], frames["nbac_team_boxscores"], frames["odds_player_props"]
    )


def test_summary_rows_and_points_equal_the_source_file(lines_raw: dict[str, pl.DataFrame]) -> None:
    summary = _summary(lines_raw)
    tables.player_game_summary.conform(summary)
    # The archive's player games, as recorded (see the archive's PROVENANCE.md).
    source = load_archive().player_games.select(
        player_id=pl.col("PLAYER_ID"),
        game_date=pl.col("GAME_DATE").str.to_date(),
        source_pts=pl.col("PTS"),
        source_minutes=pl.col("MIN").cast(pl.Float64),
    )
    source = source.filter(pl.col("game_date").is_between(LINES_START, LINES_END))
    assert summary.height == source.height > 500
    joined = summary.join(source, on=["player_id", "game_date"], how="full")
    assert joined.get_column("pts").null_count() == 0
    assert joined.get_column("source_pts").null_count() == 0
    assert (joined.get_column("pts") == joined.get_column("source_pts")).all()
    assert (joined.get_column("minutes") == joined.get_column("source_minutes")).all()
    assert not summary.select(tables.player_game_summary.key).is_duplicated().any()


def test_ts_pct_and_usage_are_null_without_attempts_or_box(
    no_box_raw: dict[str, pl.DataFrame], box_raw: dict[str, pl.DataFrame]
) -> None:
    no_box = _summary(no_box_raw)
    assert no_box.height > 500
    for column in ("ts_pct", "efg_pct", "usage_rate", "fga", "fta"):
        assert no_box.get_column(column).is_null().all(), column
    with_box = _summary(box_raw)
    no_attempts = (pl.col("fga") == 0) & (pl.col("fta") == 0)
    assert with_box.filter(no_attempts).height > 0
    assert with_box.filter(no_attempts).get_column("ts_pct").is_null().all()
    attempted = with_box.filter(~no_attempts)
    expected = attempted.get_column("pts") / (
        2 * (attempted.get_column("fga") + 0.44 * attempted.get_column("fta"))
    )
    assert attempted.get_column("ts_pct").to_list() == pytest.approx(expected.to_list())
    # The players' shares of their team's shooting load sum to one, less the share of the
    # turnovers NBA.com charges to the team and to no player (shot clock, eight seconds, ...):
    # the expected sums come from the archive's own player and team games.
    shares = with_box.group_by("game_id", "team_id").agg(pl.col("usage_rate").sum())
    archive = load_archive()
    load = pl.col("FGA") + 0.44 * pl.col("FTA") + pl.col("TOV")
    players = archive.player_games.group_by("GAME_ID", "TEAM_ID").agg(
        player_load=load.sum(), player_tov=pl.col("TOV").sum()
    )
    expected = archive.team_games.join(players, on=["GAME_ID", "TEAM_ID"]).select(
        game_id="GAME_ID",
        team_id="TEAM_ID",
        expected=pl.col("player_load") / load,
        team_only_tov=pl.col("TOV") - pl.col("player_tov"),
    )
    shares = shares.join(expected, on=["game_id", "team_id"], how="left")
    assert shares.height > 20 and shares.get_column("expected").null_count() == 0
    assert shares.get_column("usage_rate").to_list() == pytest.approx(
        shares.get_column("expected").to_list()
    )
    exact = shares.filter(pl.col("team_only_tov") == 0)
    assert exact.height > 10
    assert exact.get_column("usage_rate").is_between(0.999, 1.001).all()
    assert shares.filter(pl.col("team_only_tov") > 0).get_column("usage_rate").max() < 1


def test_team_points_equal_the_sum_of_their_players(box_raw: dict[str, pl.DataFrame]) -> None:
    offense = analytics.team_offense_game_summary(box_raw["nbac_team_boxscores"])
    tables.team_offense_game_summary.conform(offense)
    players = _summary(box_raw).group_by("game_id", "team_id").agg(player_pts=pl.col("pts").sum())
    joined = offense.join(players, on=["game_id", "team_id"], how="full")
    assert joined.height == offense.height > 20
    assert (joined.get_column("pts") == joined.get_column("player_pts")).all()
    defense = analytics.team_defense_game_summary(box_raw["nbac_team_boxscores"])
    both = offense.join(
        defense,
        left_on=["game_id", "opponent_team_id"],
        right_on=["game_id", "team_id"],
        suffix="_def",
    )
    # What a team scores is what its opponent allowed, in the same number of possessions.
    assert both.height == offense.height
    assert (both.get_column("pts") == both.get_column("points_allowed")).all()
    assert (both.get_column("team_id") == both.get_column("opponent_team_id_def")).all()
    assert (both.get_column("game_possessions") == both.get_column("game_possessions_def")).all()
    assert offense.get_column("pace").is_between(85, 120).all()


def test_lines_are_the_median_across_books(lines_raw: dict[str, pl.DataFrame]) -> None:
    summary = _summary(lines_raw)
    with_line = summary.filter(pl.col("points_line").is_not_null())
    assert with_line.height > 0.5 * summary.height
    props = lines_raw["odds_player_props"].filter(pl.col("market") == "player_points")
    row = with_line.sort("line_books", "player_id", descending=True).row(0, named=True)
    quotes = props.filter(
        (pl.col("player_lookup") == row["player_lookup"])
        & (pl.col("game_date") == row["game_date"])
    )
    assert row["line_books"] == quotes.height
    assert row["points_line"] == quotes.get_column("line").median()
    diff = pl.col("pts") - pl.col("points_line")
    check = with_line.select(
        ok=pl.when(diff > 0)
        .then(pl.col("over_under_result") == "OVER")
        .when(diff < 0)
        .then(pl.col("over_under_result") == "UNDER")
        .otherwise(pl.col("over_under_result") == "PUSH")
    )
    assert check.get_column("ok").all()
    no_line = summary.filter(pl.col("points_line").is_null())
    assert no_line.get_column("over_under_result").is_null().all()
    assert no_line.get_column("line_books").is_null().all()


def test_upcoming_context_uses_nothing_from_the_day_itself(
    lines_raw: dict[str, pl.DataFrame],
) -> None:
    history = raw_frames(dt.date(2025, 10, 1), LINES_END)
    day = dt.date(2025, 11, 10)
    teams = analytics.upcoming_team_game_context(history["nbac_schedule"], day, day)
    assert teams.height > 0 and not teams.select("game_id", "team_id").is_duplicated().any()
    box = history["nbac_player_boxscores"]
    args = (teams, history["nbac_player_list"])
    props = history["odds_player_props"]
    full = analytics.upcoming_player_game_context(*args, box, props)
    before = analytics.upcoming_player_game_context(
        *args, box.filter(pl.col("game_date") < day), props
    )
    assert full.sort("player_id").equals(before.sort("player_id"))
    tables.upcoming_player_game_context.conform(full)
    assert set(full.get_column("team_abbr")) == set(teams.get_column("team_abbr"))
    assert full.get_column("has_recent_activity").mean() > 0.5  # type: ignore[operator]
    # Rest agrees between the morning context and the summary of the game once played.
    summary = analytics.player_game_summary(box, history["nbac_team_boxscores"], props).filter(
        pl.col("game_date") == day
    )
    rest = full.join(summary, on=["player_id", "game_date"], suffix="_played")
    assert rest.height > 100
    assert (rest.get_column("days_rest") == rest.get_column("days_rest_played")).all()
    assert (rest.get_column("points_line").eq_missing(rest.get_column("points_line_played"))).all()


def test_back_to_backs_and_games_in_seven_days(lines_raw: dict[str, pl.DataFrame]) -> None:
    schedule = raw_frames(dt.date(2025, 10, 1), LINES_END)["nbac_schedule"]
    teams = analytics.upcoming_team_game_context(schedule, LINES_START, LINES_END)
    sides = pl.concat(
        [
            schedule.select("game_date", team="home_team_abbr"),
            schedule.select("game_date", team="away_team_abbr"),
        ]
    )
    for row in teams.sample(20, seed=7).iter_rows(named=True):
        played = sides.filter(pl.col("team") == row["team_abbr"]).get_column("game_date")
        earlier = played.filter(played < row["game_date"])
        week = played.filter(
            played.is_between(row["game_date"] - dt.timedelta(days=7), earlier.max())
        )
        assert row["games_last_7_days"] == week.len()
        assert row["days_rest"] == (row["game_date"] - earlier.max()).days - 1
        assert row["back_to_back"] == (row["days_rest"] == 0)
