"""A game day replayed morning to night from a data folder with three lines snapshots of it.

The shipped archive has one pull a day (noon ET). The folder adds two derived from it: at 10:00
ET every points line one point lower, at 16:00 ET one point higher. 2025-11-02's first game tips
off at 15:30 ET, before the 16:00 pull. The clock goes through the day's schedules on a real
replay server over HTTP; the day's jobs run in process into a DuckDB warehouse:

- each snapshot lands once (a lines run that finds nothing new lands nothing), and gives exactly
  one predictions request, keyed by (day, snapshot);
- the predictions after each snapshot carry that snapshot's lines;
- every predictions run is kept (``player_prop_prediction_history``), and grading grades each
  player-game on the last run made from a snapshot taken before its own tip-off: the 16:00 run
  and lines for the evening games, the noon ones for the 15:30 game;
- re-running the finished day lands no line and changes no graded row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from nba_assets.defs.build import build_definitions
from nba_assets.defs.operations import jobs, sensors
from nba_assets.defs.operations.days import at
from nba_assets.landing.manifest import read_manifest
from nba_assets.landing.resource import LandingResource
from nba_assets.partitions import range_tags
from nba_assets.replay.archive import load_archive
from nba_assets.replay.server import ReplayServer
from nba_assets.settings import Settings
from nba_assets.warehouse.resource import WarehouseResource

DAY = dt.date(2025, 11, 2)
NEXT = DAY + dt.timedelta(days=1)
HISTORY = (dt.date(2025, 10, 30), dt.date(2025, 11, 1))
EARLY = at(DAY, dt.time(10, 0))
LATE = at(DAY, dt.time(16, 0))
NOON_UTC = "2025-11-02T17:00:00Z"


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def three_snapshot_folder(out: Path) -> Path:
    """The shipped archive plus two pulls of DAY derived from its noon one: points lines one
    lower at 10:00 ET and one higher at 16:00 ET."""
    archive = load_archive(None)
    noon = archive.props.filter(pl.col("snapshot_time") == NOON_UTC)
    assert noon.height, "the archive has DAY's noon pull"

    def moved(taken: dt.datetime, by: float) -> pl.DataFrame:
        text = _utc_text(taken)
        points = pl.col("market") == "player_points"
        return noon.with_columns(
            line=pl.when(points).then(pl.col("line") + by).otherwise(pl.col("line")),
            snapshot_time=pl.lit(text),
            last_update=pl.lit(text),
        )

    props = pl.concat([archive.props, moved(EARLY, -1.0), moved(LATE, 1.0)])
    dataclasses.replace(archive, props=props).save(out)
    return out


class Day:
    """One test home on the three-snapshot folder: its code location, instance and server."""

    def __init__(self, home: Path, server: ReplayServer, instance: dg.DagsterInstance):
        self.server, self.instance = server, instance
        settings = Settings(
            home=home,
            nba_stats_base_url=f"{server.base_url}/stats",
            odds_base_url=f"{server.base_url}/v4",
            odds_api_key="replay-key",  # type: ignore[arg-type]
        )
        self.warehouse_path = settings.warehouse_path
        self.defs = build_definitions(settings)
        self.landing = LandingResource(root=str(settings.landing_dir))
        self.warehouse = WarehouseResource(duckdb_path=str(settings.warehouse_path))
        self.sensor = sensors.predictions_on_new_lines(
            jobs.operations_jobs()[jobs.PREDICTIONS_JOB], clock=lambda: self.server.now
        )
        self.cursor: str | None = None
        self.requested: list[str] = []

    def at(self, moment: dt.datetime) -> None:
        self.server.now = moment

    def run(self, job: str, day: dt.date = DAY) -> None:
        result = self.defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, partition_key=day.isoformat()
        )
        assert result.success, job

    def tick(self) -> list[dg.RunRequest]:
        """One tick of the predictions sensor; runs what it asks for, as the daemon would."""
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"landing": self.landing, "warehouse": self.warehouse},
            repository_def=self.defs.get_repository_def(),
        ) as context:
            result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor
        for request in result.run_requests or []:
            assert request.run_key
            self.requested.append(request.run_key)
            self.run(jobs.PREDICTIONS_JOB)
        return list(result.run_requests or [])

    def sql(self, query: str) -> pl.DataFrame:
        with duckdb.connect(str(self.warehouse_path), read_only=True) as con:
            return con.execute(query).pl()

    def lines(self) -> dict[str, float]:
        """The moving-average system's line per player of DAY, as predicted now."""
        rows = self.sql(
            "select player_lookup, line from nba_predictions.player_prop_predictions"
            f" where game_date = '{DAY}' and system_id = 'moving_average_v1'"
            " and line is not null"
        )
        return dict(rows.iter_rows())

    def snapshots(self) -> list[str]:
        manifest = read_manifest(self.landing.zone, "odds_api", "event_odds", DAY) or []
        return sorted({entry.snapshot_time or "" for entry in manifest})


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    folder = three_snapshot_folder(tmp_path_factory.mktemp("three-snapshots"))
    home = tmp_path_factory.mktemp("snapshot-day")
    (home / "dagster").mkdir()
    server = ReplayServer(load_archive(folder), now=at(DAY, dt.time(5, 0))).start()
    try:
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            yield Day(home, server, instance)
    finally:
        server.stop()


def test_a_day_morning_to_night_with_three_snapshots(day: Day) -> None:
    # Three days of history, replayed before DAY's morning.
    history = day.defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=day.instance, tags=range_tags(*(d.isoformat() for d in HISTORY))
    )
    assert history.success

    day.at(at(DAY, dt.time(6, 0)))
    day.run(jobs.MORNING_JOB)
    assert day.snapshots() == [], "no pull is taken before 10:00"
    assert day.lines() == {}
    assert day.tick() == []

    day.at(EARLY)
    day.run(jobs.LINES_JOB)
    assert len(day.tick()) == 1
    early = day.lines()
    assert early

    day.at(at(DAY, dt.time(12, 0)))
    day.run(jobs.LINES_JOB)
    assert len(day.tick()) == 1
    noon = day.lines()
    assert noon.keys() == early.keys()
    assert all(early[p] == noon[p] - 1 for p in noon)

    day.at(at(DAY, dt.time(14, 0)))
    day.run(jobs.LINES_JOB)
    assert day.tick() == [], "nothing new at 14:00: no snapshot, no predictions run"

    day.at(LATE)
    day.run(jobs.LINES_JOB)
    assert len(day.tick()) == 1
    assert day.tick() == [], "a repeat tick asks for nothing"
    assert len(day.snapshots()) == 3
    assert len(set(day.requested)) == len(day.requested) == 3
    assert all(key.startswith(f"predictions:{DAY}:") for key in day.requested)

    day.at(at(DAY, dt.time(20, 0)))
    day.run(jobs.LINES_JOB)
    assert len(day.snapshots()) == 3, "started events are not listed; nothing lands after 16:00"

    # Post-game: box scores at 01:00 and 04:00, then grading.
    for hour in (1, 4):
        day.at(at(NEXT, dt.time(hour, 0)))
        day.run(jobs.POST_GAME_JOB)
    day.run(jobs.GRADING_JOB)
    # Every predictions run is kept: the 06:00 one (no lines yet: the day's first second) and
    # one per snapshot; the day's table holds the latest.
    runs = day.sql(
        "select distinct prediction_snapshot_time"
        " from nba_predictions.player_prop_prediction_history"
        f" where game_date = '{DAY}' order by 1"
    ).to_series()
    noon_pull = at(DAY, dt.time(12, 0))
    assert runs.to_list() == [at(DAY, dt.time(0)), EARLY, noon_pull, LATE]
    current = day.sql(
        "select distinct prediction_snapshot_time from nba_predictions.player_prop_predictions"
        f" where game_date = '{DAY}'"
    ).to_series()
    assert current.to_list() == [LATE]
    graded = day.sql(
        "select a.player_lookup, a.line, a.line_snapshot_time, e.commence_time,"
        " a.prediction_snapshot_time"
        " from nba_predictions.prediction_accuracy a"
        " join nba_raw.odds_player_props p using (game_date, player_lookup)"
        " join nba_raw.odds_events e using (game_date, event_id)"
        f" where a.game_date = '{DAY}' and a.system_id = 'moving_average_v1'"
        " and a.line is not null group by all"
    )
    assert graded.height == len(noon)
    tip = {p: t for p, _, _, t, _ in graded.iter_rows()}
    late_pull = LATE.astimezone(dt.UTC)
    before_late = {p for p, t in tip.items() if t <= late_pull}
    after_late = set(tip) - before_late
    assert before_late and after_late, "the day has games on both sides of the 16:00 pull"
    lines = {p: (line, taken) for p, line, taken, _, _ in graded.iter_rows()}
    assert all(lines[p] == (noon[p], noon_pull) for p in before_late)
    assert all(lines[p] == (noon[p] + 1, LATE) for p in after_late)
    assert all(taken < tip[p] for p, (_, taken) in lines.items()), "graded before tip-off"
    # Each player-game is graded on the run of its line's snapshot: the 16:00 run, made after
    # the 15:30 game began, is not graded for it.
    made = {p: m for p, _, _, _, m in graded.iter_rows()}
    assert all(made[p] == lines[p][1] for p in made)

    # The finished day re-run, every phase: nothing lands, no graded row moves.
    accuracy = f"select * from nba_predictions.prediction_accuracy where game_date = '{DAY}'"
    history = (
        "select * from nba_predictions.player_prop_prediction_history"
        f" where game_date = '{DAY}' order by all"
    )
    before, kept = day.sql(accuracy), day.sql(history)
    day.at(at(NEXT, dt.time(10, 0)))
    day.run(jobs.MORNING_JOB)
    day.run(jobs.GRADING_JOB)
    assert len(day.snapshots()) == 3
    after = day.sql(accuracy)
    keys = ["player_lookup", "system_id"]
    assert (
        before.drop("graded_at", strict=False)
        .sort(keys)
        .equals(after.drop("graded_at", strict=False).sort(keys))
    )
    assert day.sql(history).equals(kept), "every run's predictions are as they were"


def test_a_restated_snapshot_replaces_its_manifest_entry(tmp_path: Path) -> None:
    """A snapshot landed again under its name (the source restated it) is named once."""
    from nba_assets.defs.scrape import assets as scrape
    from nba_assets.sources.http import FetchResult

    landing = LandingResource(root=str(tmp_path))
    name = "20251102T170000Z/e1.json"

    def land(body: bytes) -> None:
        fetched = dt.datetime(2025, 11, 2, 17, 5, tzinfo=dt.UTC)
        result = FetchResult("event_odds", "http://x", 200, body, fetched, 1, 0.1)
        kept = {DAY: read_manifest(landing.zone, scrape.ODDS, scrape.EVENT_ODDS, DAY) or []}
        scrape._land(landing, scrape.ODDS, scrape.EVENT_ODDS, [DAY], [(DAY, name, result)], kept)

    land(b'{"v": 1}')
    land(b'{"v": 2}')
    manifest = read_manifest(landing.zone, scrape.ODDS, scrape.EVENT_ODDS, DAY) or []
    assert [entry.name for entry in manifest] == [name]
    assert landing.zone.read_named(scrape.ODDS, scrape.EVENT_ODDS, DAY, name) == b'{"v": 2}'
