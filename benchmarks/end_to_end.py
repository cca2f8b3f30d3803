"""End-to-end benchmarks through the CLI, each a real ``nba-assets`` process on a fresh NBA_HOME.

- one_day: one game day (2025-11-15), scrape to grading, with the weeks before it already in the
  warehouse; history_load reads that warehouse.
- demo: ``nba-assets demo`` on a fresh NBA_HOME.
- nine_seasons: the replay 2017-10-17..2025-11-15, with the part through the feature store and
  the time outside our asset code taken from the run's step events.
- memory: peak RSS of replays of 1, 3 and 9 seasons.
- scrape: one day's endpoints with 200 ms added to every request, sequential against concurrent.

Peak RSS is the high-water mark (VmHWM) of the nba-assets process and the processes it starts (the
replay server), summed, in MB.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
ONE_DAY = "2025-11-15"
NINE_SEASONS = ("2017-10-17", "2025-11-15")
# Whole seasons, regular season and playoffs, each ending where the nine-season replay ends.
ONE_SEASON = ("2024-10-22", "2025-06-22")
THREE_SEASONS = ("2022-10-18", "2025-06-22")
HISTORY_GROUPS = ("landing", "nba_raw", "nba_analytics", "nba_precompute")


class Measured(NamedTuple):
    """One CLI command's wall seconds and memory: ``peak_mb`` sums each process's own peak
    (an upper bound), ``together_mb`` is the largest summed RSS sampled at one time."""

    wall_s: float
    peak_mb: float
    together_mb: float


def cli(home: Path, *args: str) -> Measured:
    """Run ``nba-assets ARGS`` with NBA_HOME at ``home``; its wall seconds and memory.

    Raises:
        RuntimeError: when the command fails, with the end of its output.
    """
    env = {**os.environ, "NBA_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    log = home / f"{args[0]}.log"
    home.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nba_assets.cli", *args],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        peak_kb, together_kb = _watch_peak(proc)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"nba-assets {' '.join(args)} exited {proc.returncode}:\n{tail}")
    return Measured(wall, peak_kb / 1024, together_kb / 1024)


def _watch_peak(proc: subprocess.Popen) -> tuple[int, int]:
    """Wait for ``proc``; the peak resident set (KB) of it and the processes it started (the
    replay server, Dagster's helpers), each from its own high-water mark, summed; and the
    largest sum of their current resident sets at one sample.

    Not the ``ru_maxrss`` of wait4: a child forked from this process starts with this process's
    peak as its own, so after an in-process benchmark grew this one, every child would report it.
    ``VmHWM`` belongs to the program a process runs (a new address space at exec); read every
    0.1 s, the last read misses at most the growth of its final 0.1 s. The sum is an upper bound
    of the peak of the whole tree at one time (the replay server holds about the same all along).
    """
    import psutil

    peaks: dict[int, int] = {}
    together = 0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            pids = [proc.pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.Error:
            pids = [proc.pid]
        now = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
                    elif line.startswith("VmRSS:"):
                        now += int(line.split()[1])
            except (FileNotFoundError, ProcessLookupError):
                pass
        together = max(together, now)
        time.sleep(0.1)
    return sum(peaks.values()), together


def replay(home: Path, start: str, end: str) -> Measured:
    return cli(home, "replay", "--start", start, "--end", end)


@contextmanager
def warehouse_with_history(quick: bool) -> Iterator[Path]:
    """A fresh NBA_HOME holding the days before ONE_DAY (one week quick, else four)."""
    day = dt.date.fromisoformat(ONE_DAY)
    start = day - dt.timedelta(days=7 if quick else 28)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        replay(home, start.isoformat(), (day - dt.timedelta(days=1)).isoformat())
        yield home


def bench_one_day(home: Path) -> dict[str, float]:
    run = replay(home, ONE_DAY, ONE_DAY)
    return {"wall_s": run.wall_s, "peak_rss_mb": run.peak_mb, "together_rss_mb": run.together_mb}


def bench_history_load(home: Path) -> dict[str, float]:
    """Loading the box-score history of the day's players: one query per player (what a
    per-player loader does) against one batched query filtered in polars (what the assets do)."""
    import duckdb
    import polars as pl

    day = dt.date.fromisoformat(ONE_DAY)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        players = (
            con.execute(
                "select distinct player_id from nba_analytics.upcoming_player_game_context"
                " where game_date = ?",
                [day],
            )
            .pl()
            .get_column("player_id")
        )
        sql = "select * from nba_analytics.player_game_summary where game_date < ?"
        began = time.perf_counter()
        per_player = [con.execute(f"{sql} and player_id = ?", [day, int(p)]).pl() for p in players]
        each = time.perf_counter() - began
        began = time.perf_counter()
        batched = con.execute(sql, [day]).pl().filter(pl.col("player_id").is_in(players))
        once = time.perf_counter() - began
    assert sum(f.height for f in per_player) == batched.height > 0
    return {
        "players": len(players),
        "rows": batched.height,
        "per_player_s": each,
        "batched_s": once,
        "per_player_over_batched": each / once,
    }


def bench_demo() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        run = cli(Path(tmp), "demo")
    return {"wall_s": run.wall_s, "peak_rss_mb": run.peak_mb, "together_rss_mb": run.together_mb}


def _run_profile(home: Path) -> dict[str, float]:
    """From the Dagster instance of ``home``: wall time of its runs, the time our code took
    inside steps, and the time of the history part (through the feature store).

    Our code is a step's compute and its IO manager: from the step's start to its first
    materialization event, which Dagster makes once the IO manager has written (a step without
    one: to its last output or check evaluation). What follows in a step (storing an event per
    partition, Dagster's bookkeeping) and the time between steps are Dagster's.
    """
    import dagster as dg

    materialized = dg.DagsterEventType.ASSET_MATERIALIZATION
    ours_end = {
        materialized,
        dg.DagsterEventType.STEP_OUTPUT,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    wall = ours = history = 0.0
    for run in instance.get_runs():
        stats = instance.get_run_stats(run.run_id)
        began, ended = stats.start_time or 0.0, stats.end_time or 0.0
        wall += ended - began
        started: dict[str, float] = {}
        last_ours: dict[str, float] = {}
        first_materialized: dict[str, float] = {}
        records = instance.get_records_for_run(
            run.run_id,
            of_type={dg.DagsterEventType.STEP_START, *ours_end},
            limit=1_000_000,
        ).records
        for record in records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None or event.step_key is None:
                continue
            key, at = event.step_key, entry.timestamp
            if event.event_type == dg.DagsterEventType.STEP_START:
                started[key] = at
            elif event.event_type == materialized:
                first_materialized[key] = min(first_materialized.get(key, at), at)
            else:
                last_ours[key] = max(last_ours.get(key, 0.0), at)
        for key, start in started.items():
            ours += max(0.0, first_materialized.get(key, last_ours.get(key, start)) - start)
        # The history part: in each run, from its start to its last history step's end (a
        # long replay is several runs, each with its own history steps before the rest).
        ends = [
            step.end_time
            for step in instance.get_run_step_stats(run.run_id)
            if step.end_time is not None and step.step_key.startswith(HISTORY_GROUPS)
        ]
        history += max(ends) - began if ends else 0.0
    return {"runs_wall_s": wall, "ours_s": ours, "history_wall_s": history}


def floor_seconds() -> float:
    """The floor: a plain script, no orchestration and no HTTP, from the same archive: the raw
    tables through the production parsers, phases 3 and 4 with the same transforms, the same
    models on the same cadence, trained two at a time as the asset trains them, and the
    box-score systems over every day, graded
    (``model_quality.py``'s machinery; the market systems, a few seconds in the replay, are
    left out)."""
    import model_quality  # benchmarks/ is on sys.path when run.py runs as a script
    import polars as pl

    from nba_assets.lib import predict

    start, end = (dt.date.fromisoformat(d) for d in NINE_SEASONS)
    began = time.perf_counter()
    tables = model_quality.build_tables(None, end)
    # Predicted from the first boundary with enough games to train on, as the replay's
    # LightGBM skips the days before it.
    rows = predict.training_rows(tables.store, tables.actuals, end)
    first = next(
        b
        for b in predict.boundaries_between(start, end)
        if rows.filter(pl.col("game_date") < b).height >= predict.MIN_TRAINING_ROWS
    )
    model_quality.measure(tables, first, end)
    return time.perf_counter() - began


def bench_nine_seasons() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        run = replay(home, *NINE_SEASONS)
        profile = _run_profile(home)
    dagster = profile["runs_wall_s"] - profile["ours_s"]
    floor = floor_seconds()
    wall = run.wall_s
    return {
        "wall_s": wall,
        "peak_rss_mb": run.peak_mb,
        "together_rss_mb": run.together_mb,
        "history_wall_s": profile["history_wall_s"],
        "dagster_s": dagster,
        "dagster_share": dagster / wall,
        "floor_s": floor,
        "ratio_to_floor": wall / floor,
    }


def bench_memory(nine_seasons: dict[str, float]) -> dict[str, float]:
    """Replays of one and three seasons beside the nine seasons' figures, measured before."""
    peaks = {}
    for label, span in (("one_season", ONE_SEASON), ("three_seasons", THREE_SEASONS)):
        with tempfile.TemporaryDirectory() as tmp:
            run = replay(Path(tmp), *span)
            peaks[f"{label}_peak_rss_mb"] = run.peak_mb
            peaks[f"{label}_together_rss_mb"] = run.together_mb
    peaks["nine_seasons_peak_rss_mb"] = nine_seasons["peak_rss_mb"]
    peaks["nine_seasons_together_rss_mb"] = nine_seasons["together_rss_mb"]
    peaks["growth_9_over_3"] = nine_seasons["peak_rss_mb"] / peaks["three_seasons_peak_rss_mb"]
    return peaks


def bench_scrape(quick: bool) -> dict[str, float]:
    """One game day's requests (scoreboard, game logs, players, events, every event's odds)
    against the replay server with 200 ms added to each, at bounds 1 and 8."""
    from nba_assets.replay.faults import FaultSpec
    from nba_assets.replay.server import ReplayServer, load_archive
    from nba_assets.sources import nba_stats, odds_api
    from nba_assets.sources.http import HttpFetcher

    day = dt.date.fromisoformat(ONE_DAY)
    season = nba_stats.season_for(day)
    archive = load_archive(None)
    out: dict[str, float] = {}
    with ReplayServer(archive, faults=FaultSpec.parse("slow:1.0:0.2s")) as server:
        bases = {"nba_stats": f"{server.base_url}/stats", "odds_api": f"{server.base_url}/v4"}
        listing = HttpFetcher(bases, api_key="replay").fetch_all([odds_api.events(day)])[0]
        # The day is over: each event's odds are its last snapshot before tip-off.
        listed = json.loads(listing.body)["data"]
        events = [(e["id"], dt.datetime.fromisoformat(e["commence_time"])) for e in listed]
        requests = [
            nba_stats.scoreboard(day),
            *(nba_stats.league_game_log(day, pt, season, "Regular Season") for pt in "PT"),
            nba_stats.all_players(season, [day]),
            odds_api.events(day),
            *(odds_api.event_odds(e, day, before=tip) for e, tip in events),
        ]
        for bound in (1, 8):
            fetcher = HttpFetcher(bases, api_key="replay", max_concurrency=bound)
            began = time.perf_counter()
            fetcher.fetch_all(requests)
            out[f"bound_{bound}_s"] = time.perf_counter() - began
    out["requests"] = len(requests)
    out["sequential_over_concurrent"] = out["bound_1_s"] / out["bound_8_s"]
    return out
