"""Benchmarks, measured side by side in one run: ``python benchmarks/run.py [--quick] [--json]``.

- executor: one replayed day through the whole graph, in-process against multiprocess (the
  default executor on one machine is the faster of the two);
- fetch: a range's NBA.com requests against the replay server, concurrent (bound 8) against
  sequential (bound 1);
- warehouse: replacing one day of player box scores in DuckDB, one write of a 30-day range
  against 30 single-day writes;
- features: phases 3 and 4 for a range of days in one vectorised pass against one pass per day
  (what a per-partition asset would do), on the raw tables a replay of the shipped archive
  writes (``nba_assets.pipeline``).
- bookkeeping: the same single-run backfill of trivial daily assets, and a short replay, on
  the stock SQLite event log against the batching one (``benchmarks/bookkeeping.py``).
- scrape, one_day, history_load, demo, nine_seasons, memory: through the CLI
  (``benchmarks/end_to_end.py``; the last three in a full run only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _replay_seconds(executor: str, day: str) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "NBA_HOME": home}
        env.pop("DAGSTER_HOME", None)
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "nba_assets.cli", "replay", "--start", day, "--end", day,
             "--executor", executor],
            check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return time.perf_counter() - began


def bench_executor(quick: bool) -> dict[str, float]:
    day = "2025-11-02"
    inproc = _replay_seconds("in_process", day)
    multi = _replay_seconds("multiprocess", day)
    return {
        "in_process_s": inproc,
        "multiprocess_s": multi,
        "multiprocess/in_process": multi / inproc,
    }


def bench_fetch(quick: bool) -> dict[str, float]:
    from nba_assets.replay.faults import FaultSpec
    from nba_assets.replay.server import ReplayServer, load_archive
    from nba_assets.sources import nba_stats
    from nba_assets.sources.http import HttpFetcher

    days = [dt.date(2025, 11, 1) + dt.timedelta(days=i) for i in range(5 if quick else 20)]
    requests = [nba_stats.scoreboard(d) for d in days] + [
        nba_stats.league_game_log(d, pt, "2025-26", "Regular Season") for d in days for pt in "PT"
    ]
    out: dict[str, float] = {"requests": len(requests)}
    archive = load_archive(None)
    # Every request delayed 0.2 s stands for the real sites' latency; without it the two
    # measure only this machine's CPU.
    for label, faults in (("local", None), ("latency_0.2s", FaultSpec.parse("slow:1.0:0.2s"))):
        for bound in (1, 8):
            with ReplayServer(archive, faults=faults) as server:
                fetcher = HttpFetcher(
                    {"nba_stats": f"{server.base_url}/stats"}, max_concurrency=bound
                )
                began = time.perf_counter()
                fetcher.fetch_all(requests)
                out[f"{label}_bound_{bound}_s"] = time.perf_counter() - began
        out[f"{label}_sequential/concurrent"] = (
            out[f"{label}_bound_1_s"] / out[f"{label}_bound_8_s"]
        )
    return out


def bench_warehouse(quick: bool) -> dict[str, float]:
    import polars as pl

    from nba_assets.tables.spec import TableSpec
    from nba_assets.warehouse.duckdb import DuckDBWarehouse

    spec = TableSpec(
        dataset="bench",
        name="rows",
        columns={"game_date": pl.Date(), "player_id": pl.Int64(), "pts": pl.Int64()},
        key=("game_date", "player_id"),
        clustering=("player_id",),
        description="benchmark table",
    )
    days = 10 if quick else 30
    start = dt.date(2025, 10, 21)
    frame = pl.DataFrame(
        {
            "game_date": [start + dt.timedelta(days=d) for d in range(days) for _ in range(250)],
            "player_id": [p for _ in range(days) for p in range(250)],
            "pts": [p % 40 for _ in range(days) for p in range(250)],
        }
    )
    end = start + dt.timedelta(days=days - 1)
    with tempfile.TemporaryDirectory() as tmp:
        wh = DuckDBWarehouse(Path(tmp) / "w.duckdb")
        wh.ensure_tables([spec])
        began = time.perf_counter()
        wh.replace_partitions(spec, frame, start, end)
        once = time.perf_counter() - began
        began = time.perf_counter()
        for d in range(days):
            day = start + dt.timedelta(days=d)
            wh.replace_partitions(spec, frame.filter(pl.col("game_date") == day), day, day)
        per_day = time.perf_counter() - began
    return {"days": days, "range_write_s": once, "per_day_writes_s": per_day,
            "per_day/range": per_day / once}  # fmt: skip


def bench_features(quick: bool) -> dict[str, float]:
    from nba_assets.pipeline import compute_phases, raw_frames

    end = dt.date(2025, 11, 15)
    start = end - dt.timedelta(days=(14 if quick else 59))
    frames = raw_frames(dt.date(2024, 10, 1), end)
    began = time.perf_counter()
    compute_phases(frames, start, end)
    once = time.perf_counter() - began
    began = time.perf_counter()
    day = start
    while day <= end:
        compute_phases(frames, day, day)
        day += dt.timedelta(days=1)
    per_day = time.perf_counter() - began
    return {"days": (end - start).days + 1, "range_pass_s": once, "per_day_passes_s": per_day,
            "per_day/range": per_day / once}  # fmt: skip


def bench_bookkeeping(quick: bool) -> dict[str, float]:
    # benchmarks/ is on sys.path when this file runs as a script.
    from bookkeeping import bench_bookkeeping as measure

    return measure(quick)


END_TO_END = ("scrape", "one_day", "history_load", "demo", "nine_seasons", "memory")


def end_to_end(quick: bool, only: set[str] | None = None) -> dict[str, dict[str, float]]:
    """The CLI benchmarks (``benchmarks/end_to_end.py``) that ``only`` names (None: all); the
    demo, nine seasons and memory only in a full run (they take most of an hour here)."""
    import end_to_end as e2e

    def wanted(name: str) -> bool:
        return only is None or name in only

    results = {}
    if wanted("scrape"):
        results["scrape"] = e2e.bench_scrape(quick)
    if wanted("one_day") or wanted("history_load"):
        with e2e.warehouse_with_history(quick) as home:
            if wanted("one_day"):
                results["one_day"] = e2e.bench_one_day(home)
            if wanted("history_load"):
                results["history_load"] = e2e.bench_history_load(home)
    if quick:
        return results
    if wanted("demo"):
        results["demo"] = e2e.bench_demo()
    if wanted("nine_seasons") or wanted("memory"):
        # memory compares against the nine seasons' peak, so it needs that replay too.
        results["nine_seasons"] = e2e.bench_nine_seasons()
    if wanted("memory"):
        results["memory"] = e2e.bench_memory(results["nine_seasons"])
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    results = {}
    for name, bench in (("fetch", bench_fetch), ("warehouse", bench_warehouse),
                        ("features", bench_features), ("executor", bench_executor),
                        ("bookkeeping", bench_bookkeeping)):  # fmt: skip
        if only is None or name in only:
            results[name] = bench(args.quick)
    if only is None or only & set(END_TO_END):
        results.update(end_to_end(args.quick, only))
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{'benchmark':<12} {'figure':<36} {'value':>10}")
    for name, figures in results.items():
        for key, value in figures.items():
            print(f"{name:<12} {key:<36} {value:>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
