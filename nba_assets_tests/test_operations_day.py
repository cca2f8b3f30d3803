"""A game day's sensors and pipeline health on a real replay: the day's jobs run in process
against the replay server over HTTP into a DuckDB warehouse, the sensors tick on frozen clocks.

- each lines snapshot that lands gives one predictions request, keyed by (day, snapshot); a
  repeat tick gives none;
- a day is graded once all its games are final and its box scores are in, and only once;
- the pipeline health asset says what happened, from the instance and the warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from nba_assets.defs.build import build_definitions
from nba_assets.defs.operations import jobs, sensors
from nba_assets.defs.operations.days import at
from nba_assets.defs.operations.health import HEALTH_KEY
from nba_assets.landing.manifest import snapshot_time
from nba_assets.landing.resource import LandingResource
from nba_assets.replay.archive import load_archive
from nba_assets.replay.server import ReplayServer
from nba_assets.settings import Settings
from nba_assets.warehouse.resource import WarehouseResource

DAY = dt.date(2025, 11, 2)
NEXT = DAY + dt.timedelta(days=1)
PLAYER_LIST_ASSETS = [
    dg.AssetKey(["landing", "commonallplayers"]),
    dg.AssetKey(["nba_raw", "nbac_player_list"]),
]


class Day:
    """The code location of one test home, its instance, and the replay server it scrapes."""

    def __init__(self, home: Path, server: ReplayServer, instance: dg.DagsterInstance):
        self.server, self.instance = server, instance
        self.settings = Settings(
            home=home,
            nba_stats_base_url=f"{server.base_url}/stats",
            odds_base_url=f"{server.base_url}/v4",
            odds_api_key="replay-key",  # type: ignore[arg-type]
        )
        self.defs = build_definitions(self.settings)
        self.landing = LandingResource(root=str(self.settings.landing_dir))
        self.warehouse = WarehouseResource(duckdb_path=str(self.settings.warehouse_path))

    def run(self, job: str, day: dt.date, selection: list[dg.AssetKey] | None = None) -> None:
        result = self.defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, partition_key=day.isoformat(), asset_selection=selection
        )
        assert result.success, job

    def tick(self, sensor: dg.SensorDefinition, now: dt.datetime, cursor: str | None = None):
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=cursor,
            resources={"landing": self.landing, "warehouse": self.warehouse},
            repository_def=self.defs.get_repository_def(),
        ) as context:
            return sensor.evaluate_tick(context)

    def sql(self, query: str) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as con:
            return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    home = tmp_path_factory.mktemp("operations-day")
    (home / "dagster").mkdir()
    # 13:00 ET: after the day's noon lines snapshot, before its games.
    server = ReplayServer(load_archive(None), now=at(DAY, dt.time(13, 0))).start()
    try:
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            yield Day(home, server, instance)
    finally:
        server.stop()


def test_each_lines_snapshot_gives_one_predictions_run(day: Day) -> None:
    by_name = jobs.operations_jobs()
    noon = at(DAY, dt.time(13, 5))
    sensor = sensors.predictions_on_new_lines(by_name[jobs.PREDICTIONS_JOB], clock=lambda: noon)
    before = day.tick(sensor, noon)
    assert not before.run_requests
    assert before.skip_message == f"no lines landed for {DAY} yet (odds_api/event_odds)"

    day.run(jobs.TODAYS_SCHEDULE_JOB, DAY)
    day.run(jobs.MORNING_JOB, DAY, PLAYER_LIST_ASSETS)
    day.run(jobs.LINES_JOB, DAY)
    first = day.tick(sensor, noon)
    ((request),) = first.run_requests or []
    snapshot = sensors.landed_snapshot(day.landing.zone, DAY)
    assert snapshot is not None
    taken = snapshot_time(snapshot)
    assert taken == day.server.now, "a live pull is taken at the source's clock"
    assert request.run_key == f"predictions:{DAY}:{taken.isoformat()}"
    assert request.partition_key == DAY.isoformat()
    assert request.tags[sensors.SNAPSHOT_TAG] == taken.isoformat()

    repeat = day.tick(sensor, noon, cursor=first.cursor)
    assert not repeat.run_requests
    assert "already asked" in (repeat.skip_message or "")

    # Another lines run with nothing new lands no snapshot and asks for nothing (a day with
    # several snapshots: test_lines_snapshots.py).
    day.run(jobs.LINES_JOB, DAY)
    assert sensors.landed_snapshot(day.landing.zone, DAY) == snapshot
    assert not day.tick(sensor, noon, cursor=first.cursor).run_requests


def test_a_day_is_graded_once_when_all_its_games_are_final(day: Day) -> None:
    by_name = jobs.operations_jobs()
    early = at(NEXT, dt.time(0, 30))
    sensor = sensors.grading_when_final(by_name[jobs.GRADING_JOB], clock=lambda: early)
    (games,) = day.sql(f"select count(*) from nba_raw.nbac_schedule where game_date = '{DAY}'")
    waiting = day.tick(sensor, early)
    assert not waiting.run_requests
    assert f"{games[0]} games on {DAY}, 0 final" in (waiting.skip_message or "")

    # 04:00 ET the next day: the games are final and the post-game run fetches the box scores.
    day.server.now = at(NEXT, dt.time(4, 0))
    day.run(jobs.POST_GAME_JOB, DAY)
    final = day.tick(sensor, at(NEXT, dt.time(4, 10)))
    ((request),) = final.run_requests or []
    assert (request.run_key, request.partition_key) == (f"grading:{DAY}", DAY.isoformat())

    day.run(jobs.GRADING_JOB, DAY)
    graded = day.tick(sensor, at(NEXT, dt.time(4, 20)))
    assert not graded.run_requests
    assert f"{DAY}: graded" in (graded.skip_message or "")


def test_pipeline_health_says_how_the_night_and_morning_went(day: Day) -> None:
    health_job = day.defs.resolve_implicit_global_asset_job_def()
    result = health_job.execute_in_process(
        instance=day.instance, partition_key=DAY.isoformat(), asset_selection=[HEALTH_KEY]
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("ops__pipeline_health")
    meta = {k: v.value for k, v in materialization.metadata.items()}
    ((unmatched,),) = day.sql(
        "select count(distinct player_name) from nba_raw.odds_player_props"
        f" where game_date = '{DAY}' and player_id is null"
    )
    assert meta["unmatched_names"] == unmatched
    assert meta["predictions"] == 0  # the predictions run was only requested here
    # The morning job ran for DAY here (its player list), but today, not in DAY's window.
    assert meta["morning_run_in_window"] is False
    assert meta["morning_run"].startswith("SUCCESS ")
    assert meta["morning_run"].endswith(f"ET (window {DAY} 06:00-07:30)")

    # The next day: the night before (DAY) had its box scores and grading written after it.
    result = health_job.execute_in_process(
        instance=day.instance, partition_key=NEXT.isoformat(), asset_selection=[HEALTH_KEY]
    )
    (materialization,) = result.asset_materializations_for_node("ops__pipeline_health")
    meta = {k: v.value for k, v in materialization.metadata.items()}
    assert meta["last_night_complete"] is True, meta["last_night"]
    assert meta["morning_run"] == f"no morning_operations run for {NEXT}"
    assert meta["last_night"] == (
        f"{DAY}: box scores, game summaries, grading, daily performance written after its games"
    )


def test_pipeline_health_over_a_range_of_days(day: Day) -> None:
    # Replays and single-run backfills write a range of days in one run.
    result = day.defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=day.instance,
        asset_selection=[HEALTH_KEY],
        tags={
            "dagster/asset_partition_range_start": DAY.isoformat(),
            "dagster/asset_partition_range_end": NEXT.isoformat(),
        },
    )
    assert result.success
    materializations = result.asset_materializations_for_node("ops__pipeline_health")
    assert sorted(m.partition or "" for m in materializations) == [
        DAY.isoformat(),
        NEXT.isoformat(),
    ]
    table = str(materializations[0].metadata["days"].value)
    assert [line.split(" | ")[0] for line in table.splitlines()[2:]] == [
        f"| {DAY}",
        f"| {NEXT}",
    ]
