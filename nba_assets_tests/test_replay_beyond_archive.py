"""``replay --data DIR`` with sportsbook lines for days after the shipped archive's last line.

The folder holds the real source files plus one more props file for 2025-11-16..17 (after the
archive's cut-off). Those days' games and box scores are real; their lines are each player's
latest real median line from earlier days, posted on the games the player really played, so
every prop row refers to a real player in a real game on that day.
"""

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import polars as pl

from nba_assets import cli
from nba_assets.lib.names import player_lookup

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LATE_DAYS = ("2025-11-16", "2025-11-17")


def late_props() -> pl.DataFrame:
    props = pl.read_parquet(SHARED_DATA / "props_all_markets_snapshots_2025-26.parquet")
    last_line = (
        props.filter(pl.col("market") == "player_points")
        .with_columns(day=pl.col("snapshot_label").str.slice(0, 10))
        .group_by("player", "day")
        .agg(pl.col("line").median())
        .sort("day")
        .group_by("player")
        .agg(pl.col("line").last())
        .with_columns(lookup=pl.col("player").map_elements(player_lookup, return_dtype=pl.String))
    )
    teams = pl.read_csv(SHARED_DATA / "nba_api_static_teams.csv").select(
        "abbreviation", "full_name"
    )
    games = (
        pl.read_parquet(SHARED_DATA / "schedule_2025-26.parquet")
        .filter(pl.col("GAME_DATE").is_in(LATE_DAYS))
        .join(teams.rename({"full_name": "home"}), left_on="HOME_ABBR", right_on="abbreviation")
        .join(teams.rename({"full_name": "away"}), left_on="AWAY_ABBR", right_on="abbreviation")
    )
    played = pl.read_parquet(SHARED_DATA / "player_game_logs_lite_2017-18_2025-26.parquet").filter(
        pl.col("GAME_DATE").is_in(LATE_DAYS)
    )
    rows = []
    for game in games.iter_rows(named=True):
        day, teams_in_game = game["GAME_DATE"], (game["HOME_ABBR"], game["AWAY_ABBR"])
        event_id = hashlib.md5(f"{game['GAME_ID']}".encode()).hexdigest()
        players = played.filter(
            (pl.col("GAME_DATE") == day) & pl.col("TEAM_ABBREVIATION").is_in(teams_in_game)
        ).with_columns(
            lookup=pl.col("PLAYER_NAME").map_elements(player_lookup, return_dtype=pl.String)
        )
        for player in players.join(last_line, on="lookup").iter_rows(named=True):
            rows.append(
                {
                    "event_id": event_id,
                    "player": player["player"],
                    "market": "player_points",
                    "line": player["line"],
                    "bookmaker": "draftkings",
                    "game": f"{game['away']} @ {game['home']}",
                    "game_time": f"{day}T23:30:00Z",
                    "over_odds": -110.0,
                    "under_odds": -110.0,
                    "snapshot_label": f"{day}T17:00:00",
                    "source_file": f"late_{day}.csv",
                }
            )
    return pl.DataFrame(rows, schema=props.schema)


def test_days_after_the_archive_get_lines_predictions_and_grades(
    tmp_path: Path, monkeypatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for source in SHARED_DATA.iterdir():
        (data / source.name).symlink_to(source)
    extra = late_props()
    assert extra.height > 100
    extra.write_parquet(data / "props_all_markets_snapshots_2025-26_late.parquet")

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
    assert {system for system, _ in graded} >= {"moving_average_v1", "ensemble_v1"}
    assert all(n > 100 for _, n in graded), graded
