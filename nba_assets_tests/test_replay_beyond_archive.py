"""``replay --data DIR`` with sportsbook lines for days after the shipped archive's last line.

The folder holds the shipped archive with more props rows for 2025-11-16..17 (after its last
line). Those days' games and box scores are real; their lines are each player's latest real
median line from earlier days, posted on the games the player really played, so every prop row
refers to a real player in a real game on that day.
"""

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import polars as pl

from nba_assets import cli
from nba_assets.lib.names import player_lookup
from nba_assets.replay.archive import Archive, load_archive

LATE_DAYS = ("2025-11-16", "2025-11-17")


def late_props(archive: Archive) -> pl.DataFrame:
    """Rows in the archive's props shape for LATE_DAYS, from the archive's own tables."""
    props = archive.props
    last_line = (
        props.filter(pl.col("market") == "player_points")
        .with_columns(day=pl.col("snapshot_time").str.slice(0, 10))
        .group_by("player", "day")
        .agg(pl.col("line").median())
        .sort("day")
        .group_by("player")
        .agg(pl.col("line").last())
        .with_columns(lookup=pl.col("player").map_elements(player_lookup, return_dtype=pl.String))
    )
    teams = archive.teams.select("TEAM_ABBREVIATION", "TEAM_FULL_NAME")
    games = (
        archive.games.filter(pl.col("GAME_DATE").is_in(LATE_DAYS))
        .join(
            teams.rename({"TEAM_FULL_NAME": "home"}),
            left_on="HOME_TEAM_ABBREVIATION",
            right_on="TEAM_ABBREVIATION",
        )
        .join(
            teams.rename({"TEAM_FULL_NAME": "away"}),
            left_on="AWAY_TEAM_ABBREVIATION",
            right_on="TEAM_ABBREVIATION",
        )
    )
    played = archive.player_games.filter(pl.col("GAME_DATE").is_in(LATE_DAYS))
    rows = []
    for game in games.iter_rows(named=True):
        day = game["GAME_DATE"]
        teams_in_game = (game["HOME_TEAM_ABBREVIATION"], game["AWAY_TEAM_ABBREVIATION"])
        event_id = hashlib.md5(f"{game['GAME_ID']}".encode()).hexdigest()
        players = played.filter(
            (pl.col("GAME_DATE") == day) & pl.col("TEAM_ABBREVIATION").is_in(teams_in_game)
        ).with_columns(
            lookup=pl.col("PLAYER_NAME").map_elements(player_lookup, return_dtype=pl.String)
        )
        for player in players.join(last_line, on="lookup").iter_rows(named=True):
            rows.append(
                {
                    "game_date": day,
                    "event_id": event_id,
                    "commence_time": f"{day}T23:30:00Z",
                    "home_team": game["home"],
                    "away_team": game["away"],
                    "bookmaker": "draftkings",
                    "market": "player_points",
                    "player": player["player"],
                    "line": player["line"],
                    "over_odds": -110.0,
                    "under_odds": -110.0,
                    "snapshot_time": f"{day}T17:00:00Z",
                    "last_update": None,
                }
            )
    return pl.DataFrame(rows, schema=props.schema)


def test_days_after_the_archive_get_lines_predictions_and_grades(
    tmp_path: Path, monkeypatch
) -> None:
    archive = load_archive()
    assert archive.props.get_column("game_date").max() < LATE_DAYS[0]
    extra = late_props(archive)
    assert extra.height > 100
    data = tmp_path / "data"
    dataclasses.replace(archive, props=pl.concat([archive.props, extra])).save(data)

    monkeypatch.setenv("NBA_HOME", str(tmp_path / "home"))
    args = ["replay", "--start", LATE_DAYS[0], "--end", LATE_DAYS[-1], "--data", str(data)]
    assert cli.main(args) == 0

    late = [dt.date.fromisoformat(d) for d in LATE_DAYS]
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        props = con.execute(
            "SELECT game_date, count(*) FROM nba_raw.odds_player_props"
            " WHERE market = 'player_points' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert [d for d, _ in props] == late
        assert sum(n for _, n in props) == extra.height
        graded = con.execute(
            "SELECT system_id, count(*) FROM nba_predictions.prediction_accuracy"
            " WHERE line IS NOT NULL AND actual_points IS NOT NULL GROUP BY 1"
        ).fetchall()
        # The feature store of those days is feature set v2, with the late days' lines in it.
        features = con.execute(
            "SELECT feature_set_version, count(points_line) FROM nba_precompute.ml_feature_store"
            " GROUP BY 1"
        ).fetchall()
    assert [version for version, _ in features] == ["v2"] and features[0][1] > 100
    assert {system for system, _ in graded} >= {
        "moving_average_v1",
        "ensemble_v1",
        "market_blend_v1",
        "market_residual_v1",
    }
    assert all(n > 100 for _, n in graded), graded
