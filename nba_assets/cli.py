"""``nba-assets``: replay history, run the demo, serve the replay sources, report the grading."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

# Four seasons of history: LightGBM trained on two (from 2023-10-24) scored MAE 5.10 on the demo
# span, behind the moving average (5.06); on all nine seasons 5.03. Each season costs about two
# minutes of replay here.
DEMO_HISTORY_START = "2021-10-19"
DEMO_START, DEMO_END = "2025-10-21", "2025-11-15"
REPLAY_API_KEY = "replay"
REPLAY_TAG = "nba_assets/replay"
HISTORY_LOOKBACK = dt.timedelta(days=200)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _set_env(**values: str) -> None:
    """Settings are read from the environment; child step processes inherit it."""
    from nba_assets.settings import get_settings

    os.environ.update(values)
    get_settings.cache_clear()


def _dagster_instance():
    """The local Dagster instance (``$NBA_HOME/dagster`` unless DAGSTER_HOME says otherwise).

    Also sets the environment our runs need (batched event writes, planned events per range),
    which ``dagster dev`` and every run and step process it starts inherit.
    """
    import dagster as dg

    from nba_assets.dagster_instance import RUN_ENV, ensure_local_instance_yaml
    from nba_assets.settings import get_settings

    for name, value in RUN_ENV.items():
        os.environ.setdefault(name, value)
    if not os.environ.get("DAGSTER_HOME"):
        home = get_settings().dagster_home
        ensure_local_instance_yaml(home)
        os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


@contextmanager
def replay_sources(data: Path | None, faults: str | None) -> Iterator[str]:
    """Start the replay server and point the scrapers at it; yields its base URL."""
    from nba_assets.replay.faults import FaultSpec
    from nba_assets.replay.server import ReplayServer, load_archive

    archive = load_archive(data)
    spec = FaultSpec.parse(faults) if faults else None
    with ReplayServer(archive, faults=spec) as server:
        _set_env(
            NBA_NBA_STATS_BASE_URL=f"{server.base_url}/stats",
            NBA_ODDS_BASE_URL=f"{server.base_url}/v4",
        )
        if not os.environ.get("NBA_ODDS_API_KEY"):
            _set_env(NBA_ODDS_API_KEY=REPLAY_API_KEY)
        yield server.base_url


class _Progress(threading.Thread):
    """Prints one line per finished step of the run tagged ``tag``, read from the event log."""

    def __init__(self, instance, tag: str) -> None:
        super().__init__(daemon=True)
        self.instance, self.tag = instance, tag
        self.stopped = threading.Event()
        self.done = 0

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.poll()
        self.poll()

    def poll(self) -> None:
        import dagster as dg

        runs = self.instance.get_runs(filters=dg.RunsFilter(tags={REPLAY_TAG: self.tag}), limit=1)
        if not runs:
            return
        kinds = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
        events = [
            e
            for e in self.instance.all_logs(runs[0].run_id, of_type=kinds)
            if e.dagster_event is not None
        ]
        for entry in events[self.done :]:
            event = entry.dagster_event
            self.done += 1
            ok = event.event_type_value == "STEP_SUCCESS"
            took = f" ({event.event_specific_data.duration_ms / 1000:.1f}s)" if ok else ""
            print(
                f"  [{self.done:>3}] {'ok' if ok else 'FAILED':<6} {entry.step_key}{took}",
                flush=True,
            )
            if not ok:
                print(f"        {event.step_failure_data.error.message.strip()}", flush=True)

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def run_range(
    start: dt.date, end: dt.date, executor: str | None = None, history_only: bool = False
) -> bool:
    """Materialize every phase (or the history phases) over ``start..end`` as one Dagster run.

    Returns True when the run succeeded.
    """
    import dagster as dg
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from nba_assets.defs.build import replay_history_job, replay_job
    from nba_assets.settings import get_settings

    if executor:
        _set_env(NBA_EXECUTOR=executor)
    # One planned event per partition range instead of per partition and asset: planning a
    # two-season run drops from minutes to seconds (the per-partition failure status is coarser).
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
    instance = _dagster_instance()
    tag = uuid.uuid4().hex
    tags = {
        ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
        REPLAY_TAG: tag,
    }
    progress = _Progress(instance, tag)
    progress.start()
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    try:
        if get_settings().executor == "multiprocess":
            # Step processes rebuild the job from the environment, so it must be reconstructable.
            job = replay_history_job if history_only else replay_job
            result = dg.execute_job(
                dg.reconstructable(job), instance=instance, tags=tags, run_config=quiet
            )
        else:
            # Built afresh here: a reconstructable job is cached per process and would keep the
            # replay server address of an earlier run.
            job_def = replay_history_job() if history_only else replay_job()
            result = job_def.execute_in_process(
                instance=instance, tags=tags, run_config=quiet, raise_on_error=False
            )
    finally:
        progress.stop()
    print(f"run {result.run_id} {'succeeded' if result.success else 'FAILED'}")
    return result.success


def cmd_replay(args: argparse.Namespace) -> int:
    from nba_assets.settings import get_settings

    if args.end < args.start:
        print("--end is before --start", file=sys.stderr)
        return 2
    if args.prefix is not None:
        _set_env(NBA_DATASET_PREFIX=args.prefix)
    settings = get_settings()
    if settings.deployment == "prod" and not settings.dataset_prefix and not args.force_prod:
        print(
            "refusing to replay into the production datasets: pass --prefix test_"
            " (or --force-prod if you really mean it)",
            file=sys.stderr,
        )
        return 2
    began = time.monotonic()
    with replay_sources(args.data, args.faults) as url:
        print(f"replay {args.start}..{args.end} from {url} into {_target(settings)}")
        gap = history_gap(args.start)
        if gap is not None:
            print(f"history {gap[0]}..{gap[1]} first (through features), so features are current")
            if not run_range(*gap, args.executor, history_only=True):
                return 1
        ok = run_range(args.start, args.end, args.executor)
    print(f"took {time.monotonic() - began:.1f}s")
    return 0 if ok else 1


def history_gap(
    start: dt.date, full_history_from: dt.date | None = None
) -> tuple[dt.date, dt.date] | None:
    """Days between the warehouse's last game and ``start`` that a replay must fill first.

    Features for ``start`` use the games before it, read from the warehouse. When the warehouse
    stops short of ``start`` those days are replayed first (through the feature store). When it
    has no recent games at all, the history from ``full_history_from`` is the gap; without that
    date we say how to build the history rather than replay years unasked.
    """
    from nba_assets.resources import build_resources
    from nba_assets.settings import get_settings
    from nba_assets.tables import analytics

    warehouse = build_resources(get_settings())["warehouse"].get()  # type: ignore[attr-defined]
    day_before = start - dt.timedelta(days=1)
    recent = warehouse.read(
        analytics.player_game_summary, start - HISTORY_LOOKBACK, day_before, ["game_date"]
    )
    if recent.is_empty() and full_history_from is not None:
        return full_history_from, day_before
    if recent.is_empty():
        suggested = dt.date(start.year - (1 if start.month >= 8 else 2), 10, 1)
        print(
            f"note: the warehouse has no games in the {HISTORY_LOOKBACK.days} days before {start},"
            " so the first days' features and the model have little history; build it first with"
            f" `nba-assets replay --start {suggested} --end {day_before}` (the demo does this)."
        )
        return None
    latest = recent.get_column("game_date").max()
    assert isinstance(latest, dt.date)
    return (latest + dt.timedelta(days=1), day_before) if latest < day_before else None


def _target(settings) -> str:
    prefix = settings.dataset_prefix
    if settings.deployment == "prod":
        return f"BigQuery project {settings.gcp_project} (datasets {prefix}nba_*)"
    return f"{settings.warehouse_path} (schemas {prefix}nba_*)"


def cmd_report(args: argparse.Namespace) -> int:
    from nba_assets.lib import report
    from nba_assets.resources import build_resources
    from nba_assets.settings import get_settings
    from nba_assets.tables import precompute, predictions

    if args.prefix is not None:
        _set_env(NBA_DATASET_PREFIX=args.prefix)
    settings = get_settings()
    warehouse = build_resources(settings)["warehouse"].get()  # type: ignore[attr-defined]
    accuracy = warehouse.read(predictions.prediction_accuracy, args.start, args.end)
    systems = report.summarize(accuracy)
    averages = warehouse.read(
        precompute.ml_feature_store,
        args.start,
        args.end,
        ["game_date", "player_id", "points_avg_season", "points_avg_prev_season"],
    )
    reference = report.season_average_reference(accuracy, averages)
    if args.json:
        print(
            json.dumps(
                {
                    "start": str(args.start),
                    "end": str(args.end),
                    "systems": systems,
                    "season_average": reference,
                }
            )
        )
        return 0
    where = f"{settings.deployment}, prefix {settings.dataset_prefix!r}"
    print(f"grading {args.start}..{args.end} ({where})")
    if not systems:
        print(
            f"no predictions in {_target(settings)} for these days: materialize them"
            " first (`nba-assets replay --start ... --end ...`, or `nba-assets demo`)"
        )
        return 0
    print(report.render_table(systems))
    if reference["player_games"]:
        print(
            f"season-to-date average as a predictor, {reference['player_games']} of the graded"
            f" player-games: MAE {reference['mae']:.3f} (line {reference['line_mae']:.3f})"
        )
    out_dir = settings.reports_dir / f"{args.start}_{args.end}"
    for path in report.write_plots(accuracy, out_dir):
        print(f"chart: {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from nba_assets.settings import get_settings

    settings = get_settings()
    began = time.monotonic()
    start, end = _date(DEMO_START), _date(DEMO_END)
    with replay_sources(None, None) as url:
        print(f"demo: replay server {url}; warehouse {settings.warehouse_path}")
        gap = history_gap(start, full_history_from=_date(DEMO_HISTORY_START))
        if gap is not None:
            print(f"1/2 history {gap[0]}..{gap[1]} (through features)")
            if not run_range(*gap, history_only=True):
                return 1
        else:
            print("1/2 history: already in the warehouse")
        print(f"2/2 every phase {start}..{end}")
        if not run_range(start, end):
            return 1
    print(f"demo took {time.monotonic() - began:.0f}s\n")
    cmd_report(argparse.Namespace(start=start, end=end, prefix=None, json=False))
    print(
        "\nOpen the UI: `make ui` (or `.venv/bin/nba-assets ui`), then http://127.0.0.1:3000"
        f" (DAGSTER_HOME={settings.dagster_home}): the runs, the asset graph, checks and charts."
    )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    import subprocess

    _dagster_instance()
    with replay_sources(args.data, None) as url:
        print(f"replay server {url}; Dagster UI on http://127.0.0.1:{args.port}")
        cmd = [sys.executable, "-m", "dagster", "dev", "-m", "nba_assets.definitions"]
        return subprocess.call([*cmd, "-p", str(args.port), "-h", "127.0.0.1"])


def cmd_replay_server(args: argparse.Namespace) -> int:
    from nba_assets.replay.server import main as serve

    argv = ["--port", str(args.port)]
    if args.data:
        argv += ["--data", str(args.data)]
    if args.faults:
        argv += ["--faults", args.faults]
    if args.now:
        argv += ["--now", args.now]
    return serve(argv) or 0


def cmd_sql(args: argparse.Namespace) -> int:
    from nba_assets.settings import get_settings
    from nba_assets.warehouse import sql

    settings = get_settings()
    if settings.deployment != "local":
        print(
            "nba-assets sql reads the embedded DuckDB warehouse; in prod, query BigQuery",
            file=sys.stderr,
        )
        return 2
    fmt = "json" if args.json else "csv" if args.csv else "table"
    return sql.run(
        settings.warehouse_path,
        args.statement,
        fmt,
        args.max_rows,
        settings.warehouse_lock_timeout_seconds,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nba-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    replay = sub.add_parser("replay", help="materialize every phase over a date range")
    replay.add_argument("--start", type=_date, required=True)
    replay.add_argument("--end", type=_date, required=True)
    replay.add_argument(
        "--data", type=Path, help="folder of source files (default: shipped archive)"
    )
    replay.add_argument("--prefix", help="dataset prefix, e.g. test_")
    replay.add_argument("--faults", help="fault SPEC for the replay server, e.g. 429:0.2,500:0.1")
    replay.add_argument("--executor", choices=["in_process", "multiprocess"])
    replay.add_argument("--force-prod", action="store_true", help="allow unprefixed prod datasets")
    replay.set_defaults(func=cmd_replay)

    demo = sub.add_parser("demo", help="history + the span with real lines, then the report")
    demo.set_defaults(func=cmd_demo)

    rep = sub.add_parser("report", help="the grading summary from the warehouse")
    rep.add_argument("--start", type=_date, required=True)
    rep.add_argument("--end", type=_date, required=True)
    rep.add_argument("--prefix")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=cmd_report)

    ui = sub.add_parser("ui", help="the replay server and the Dagster UI")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--data", type=Path)
    ui.set_defaults(func=cmd_ui)

    server = sub.add_parser("replay-server", help="serve recorded sources on 127.0.0.1")
    server.add_argument("--data", type=Path)
    server.add_argument("--port", type=int, default=8765)
    server.add_argument("--faults")
    server.add_argument("--now", help="the server clock (ISO time); default: now")
    server.set_defaults(func=cmd_replay_server)

    query = sub.add_parser(
        "sql", help="a read-only query on the warehouse, safe while the pipeline runs"
    )
    query.add_argument("statement", help='e.g. "select count(*) from nba_raw.nbac_schedule"')
    output = query.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="all rows as one JSON array")
    output.add_argument("--csv", action="store_true", help="all rows as CSV")
    query.add_argument("--max-rows", type=int, default=50, help="rows the table shows")
    query.set_defaults(func=cmd_sql)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Single-run backfill policies and partition mappings that tolerate the first day are beta
    # in Dagster 1.13; saying so on every import buries the progress lines.
    warnings.filterwarnings("ignore", message=".*(backfill_policy|allow_nonexistent_upstream).*")
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
