"""Lineage that tells the truth: a corrected box score of an old day, and what Dagster then
reports stale.

Three weeks are replayed from the shipped archive over HTTP into a DuckDB warehouse. Then one
player's points of an early day are corrected at the source, and the post-game job (box scores
and game summaries, as the 01:00 and 04:00 runs do) runs for that day again. Dagster's stale
status, computed from the declared lineage, must then name exactly the partitions that read the
corrected day: its own grading and expected players, every later day of the features, the model
and the predictions (which read the days before theirs), and the day after for pipeline health.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from nba_assets.defs.build import build_definitions
from nba_assets.defs.operations import jobs
from nba_assets.defs.operations.days import at
from nba_assets.partitions import range_tags
from nba_assets.replay.archive import load_archive
from nba_assets.replay.server import ReplayServer
from nba_assets.settings import Settings

START, END = dt.date(2025, 10, 27), dt.date(2025, 11, 2)
CORRECTED = dt.date(2025, 10, 29)
_BASKET = (("PTS", 2), ("FGM", 1))  # one made two-pointer


def _settings(home: Path, server: ReplayServer) -> Settings:
    return Settings(
        home=home,
        nba_stats_base_url=f"{server.base_url}/stats",
        odds_base_url=f"{server.base_url}/v4",
        odds_api_key="replay-key",  # type: ignore[arg-type]
    )


def _days(first: dt.date, last: dt.date) -> set[str]:
    return {(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)}


def test_a_corrected_box_score_makes_what_reads_it_stale(tmp_path: Path) -> None:
    archive = load_archive(None)
    games = archive.player_games
    on_day = pl.col("GAME_DATE").cast(pl.Utf8).str.slice(0, 10) == CORRECTED.isoformat()
    scorer = games.filter(on_day).sort("PTS", descending=True).row(0, named=True)
    # The day's top scorer made one two-pointer fewer: his line and his team's both change.
    player = on_day & (pl.col("PLAYER_ID") == scorer["PLAYER_ID"])
    team = (pl.col("GAME_ID") == scorer["GAME_ID"]) & (pl.col("TEAM_ID") == scorer["TEAM_ID"])
    corrected = dataclasses.replace(
        archive,
        player_games=games.with_columns(
            *(pl.when(player).then(pl.col(c) - d).otherwise(pl.col(c)) for c, d in _BASKET)
        ),
        team_games=archive.team_games.with_columns(
            *(pl.when(team).then(pl.col(c) - d).otherwise(pl.col(c)) for c, d in _BASKET)
        ),
    )
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    after = at(END + dt.timedelta(days=1), dt.time(10, 0))
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        server = ReplayServer(archive, now=after).start()
        try:
            defs = build_definitions(_settings(home, server))
            replay = defs.resolve_implicit_global_asset_job_def().execute_in_process(
                instance=instance, tags=range_tags(START.isoformat(), END.isoformat())
            )
            assert replay.success
        finally:
            server.stop()

        server = ReplayServer(corrected, now=after).start()
        try:
            defs = build_definitions(_settings(home, server))
            rerun = defs.resolve_job_def(jobs.POST_GAME_JOB).execute_in_process(
                instance=instance, partition_key=CORRECTED.isoformat()
            )
            assert rerun.success
        finally:
            server.stop()
        with duckdb.connect(str(_settings(home, server).warehouse_path), read_only=True) as con:
            (points,) = con.execute(
                "select pts from nba_analytics.player_game_summary"
                " where game_date = ? and player_id = ?",
                [CORRECTED, scorer["PLAYER_ID"]],
            ).fetchone() or (None,)
        assert points == scorer["PTS"] - 2, "the correction reached the game summary"

        graph = defs.resolve_asset_graph()
        resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
        stale = {
            key.to_user_string(): {
                day
                for day in _days(START, END)
                if resolver.get_status(key, day) == StaleStatus.STALE
            }
            for key in graph.get_all_asset_keys()
        }
    day_after = (CORRECTED + dt.timedelta(days=1)).isoformat()
    later = _days(CORRECTED + dt.timedelta(days=1), END)
    expected = {
        "landing/commonallplayers": {CORRECTED.isoformat()},
        # Same day: the player list is scraped for the day's games (its scoreboard was
        # scraped again), the expected players come from the day's box scores and schedule, and the
        # grading from its game summaries.
        "nba_analytics/upcoming_player_game_context": {CORRECTED.isoformat()},
        "nba_analytics/upcoming_team_game_context": {CORRECTED.isoformat()},
        "nba_predictions/prediction_accuracy": {CORRECTED.isoformat()},
        # Every later day: the features and the model read every earlier game (Dagster sees the
        # 99 days before each day; the asset's own day before carries the rest), and the
        # predictions learn on the 84 graded days before theirs.
        **{
            key: later
            for key in (
                "nba_precompute/player_daily_cache",
                "nba_precompute/team_defense_profile",
                "nba_precompute/ml_feature_store",
                "nba_predictions/points_model",
                "nba_predictions/player_prop_predictions",
            )
        },
        # The day after: pipeline health looks at last night's phases.
        "ops/pipeline_health": {day_after},
    }
    reported = {key: days for key, days in stale.items() if days}
    assert reported == expected, reported
