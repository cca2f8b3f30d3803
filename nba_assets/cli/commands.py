"""The ``nba-assets`` commands and their arguments."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from nba_assets.cli.args import (
    Parser,
    UsageError,
    check_range,
    load_settings,
    parse_data_folder,
    parse_date,
    parse_faults,
    parse_moment,
    parse_port,
    parse_prefix,
    run_values,
)
from nba_assets.cli.runs import (
    dagster_home,
    dagster_instance,
    history_gap,
    import_asset_modules,
    replay_sources,
    run_range,
    target,
)
from nba_assets.resources import warehouse_for

DESCRIPTION = "replay history, run the demo, serve the replay sources, report the grading"

# Four seasons of history: LightGBM trained on two (from 2023-10-24) scored MAE 5.10 on the demo
# span, behind the moving average (5.06); on all nine seasons 5.03. Each season costs about two
# minutes of replay here.
DEMO_HISTORY_START = "2021-10-19"
DEMO_HISTORY_SEASONS = 4


DEMO_START, DEMO_END = "2025-10-21", "2025-11-15"


# What the CLI writes to say how to build the warehouse.
HOW_TO_BUILD = "`nba-assets replay --start ... --end ...`, or `nba-assets demo`"


def cmd_replay(args: argparse.Namespace) -> int:
    from nba_assets.run_guards import RangeGuard

    check_range(args.start, args.end)
    values = run_values(prefix=args.prefix, executor=args.executor)
    settings = load_settings(values)
    if settings.deployment == "prod" and not settings.dataset_prefix and not args.force_prod:
        print(
            "refusing to replay into the production datasets: pass --prefix test_"
            " (or --force-prod if you really mean it)",
            file=sys.stderr,
        )
        return 2
    began = time.monotonic()
    with replay_sources(args.data, args.faults, import_asset_modules) as (url, sources):
        values = {**values, **sources}
        print(f"replay {args.start}..{args.end} from {url} into {target(settings)}")
        guard = RangeGuard.begin(dagster_instance(settings), args.start, settings, data=args.data)
        gap = history_gap(settings, args.start)
        guard.watch(gap[0] if gap else args.start, args.end)
        if gap is not None:
            print(f"history {gap[0]}..{gap[1]} first (through features), so features are current")
            if not run_range(values, *gap, history_only=True):
                return 1
        ok = run_range(values, args.start, args.end)
        ok = ok and guard.settle(lambda s, e, h: run_range(values, s, e, history_only=h))
    print(f"took {time.monotonic() - began:.1f}s")
    return 0 if ok else 1


def cmd_report(args: argparse.Namespace) -> int:
    """The grading summary; it only reads (charts are written when ``--charts`` asks)."""
    from nba_assets.lib import report
    from nba_assets.tables import precompute, predictions

    if args.end < args.start:
        raise UsageError(f"--end {args.end} is before --start {args.start}")
    settings = load_settings(run_values(prefix=args.prefix))
    averages_columns = ["game_date", "player_id", "points_avg_season", "points_avg_prev_season"]
    # A report never writes: without a warehouse file it is the empty report, and says so,
    # rather than letting the backend create a file to read nothing from.
    no_warehouse = settings.deployment == "local" and not settings.warehouse_path.is_file()
    if no_warehouse:
        accuracy = predictions.prediction_accuracy.empty()
        averages = precompute.ml_feature_store.empty().select(averages_columns)
    else:
        warehouse = warehouse_for(settings)
        accuracy = warehouse.read(predictions.prediction_accuracy, args.start, args.end)
        averages = warehouse.read(
            precompute.ml_feature_store, args.start, args.end, averages_columns
        )
    systems = report.summarize(accuracy)
    reference = report.season_average_reference(accuracy, averages)
    missing = (
        f"there is no warehouse at {settings.warehouse_path}: build it first ({HOW_TO_BUILD})"
        if no_warehouse
        else f"no predictions in {target(settings)} for these days: materialize them"
        f" first ({HOW_TO_BUILD})"
    )
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
        if not systems:
            print(missing, file=sys.stderr)
        return 0
    where = f"{settings.deployment}, prefix {settings.dataset_prefix!r}"
    print(f"grading {args.start}..{args.end} ({where})")
    if not systems:
        print(missing)
        return 0
    print(report.render_table(systems))
    if reference["player_games"]:
        print(
            f"season-to-date average as a predictor, {reference['player_games']} of the graded"
            f" player-games: MAE {reference['mae']:.3f} (line {reference['line_mae']:.3f})"
        )
    if args.charts:
        from nba_assets.reports.store import ReportsResource

        charts = ReportsResource(root=str(settings.reports_dir))
        for name, body in report.render_plots(accuracy).items():
            print(f"chart: {charts.write(f'{args.start}_{args.end}', name, body)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from nba_assets.run_guards import RangeGuard

    settings = load_settings()
    began = time.monotonic()
    start, end = parse_date(DEMO_START), parse_date(DEMO_END)
    with replay_sources(None, None, import_asset_modules) as (url, values):
        print(f"demo: replay server {url}; warehouse {settings.warehouse_path}")
        guard = RangeGuard.begin(dagster_instance(settings), start, settings, command="demo")
        gap = history_gap(settings, start, full_history_from=parse_date(DEMO_HISTORY_START))
        guard.watch(gap[0] if gap else start, end)
        if gap is not None:
            print(f"1/2 history {gap[0]}..{gap[1]} (through features)")
            # Its four seasons in one run: 1.67 GB at the peak, and each run more cost 7-13 s.
            if not run_range(values, *gap, history_only=True, seasons=DEMO_HISTORY_SEASONS):
                return 1
        else:
            print("1/2 history: already in the warehouse")
        print(f"2/2 every phase {start}..{end}")
        if not run_range(values, start, end) or not guard.settle(
            lambda s, e, h: run_range(values, s, e, history_only=h)
        ):
            return 1
    print(f"demo took {time.monotonic() - began:.0f}s\n")
    cmd_report(argparse.Namespace(start=start, end=end, prefix=None, json=False, charts=True))
    print(
        "\nOpen the UI: `make ui` (or `.venv/bin/nba-assets ui`), then http://127.0.0.1:3000"
        f" (DAGSTER_HOME={dagster_home(settings)}): the runs, the asset graph, checks and charts."
    )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    import subprocess

    from nba_assets.run_guards import mark_ghosts
    from nba_assets.settings import REPO_ROOT

    settings = load_settings()
    mark_ghosts(dagster_instance(settings), "ui")
    with replay_sources(args.data, None) as (url, sources):
        print(f"replay server {url}; Dagster UI on http://127.0.0.1:{args.port}")
        # `dg dev` loads the project as pyproject's [tool.dg] describes it: the same code
        # location, named as in workspace.yaml, that `dg check defs` validates in CI. Its code
        # server reads settings from its environment: the replay sources are set there.
        venv = Path(sys.executable).parent.parent
        env = {
            **os.environ,
            **{f"NBA_{name.upper()}": value for name, value in sources.items()},
            "DAGSTER_HOME": str(dagster_home(settings)),
            "VIRTUAL_ENV": str(venv),
        }
        return subprocess.call(
            [str(venv / "bin" / "dg"), "dev", "-p", str(args.port), "-h", "127.0.0.1"],
            cwd=REPO_ROOT,
            env=env,
        )


def cmd_replay_server(args: argparse.Namespace) -> int:
    from nba_assets.replay.server import main as serve

    argv = ["--port", str(args.port)]
    if args.data:
        argv += ["--data", str(args.data)]
    if args.faults:
        argv += ["--faults", args.faults]
    if args.now:
        argv += ["--now", args.now]
    return serve(argv)


def cmd_sql(args: argparse.Namespace) -> int:
    from nba_assets.warehouse import sql

    settings = load_settings()
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
    parser = Parser(prog="nba-assets", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    replay = sub.add_parser("replay", help="materialize every phase over a date range")
    replay.add_argument("--start", type=parse_date, required=True)
    replay.add_argument("--end", type=parse_date, required=True)
    replay.add_argument(
        "--data", type=parse_data_folder, help="folder of source files (default: shipped archive)"
    )
    replay.add_argument("--prefix", type=parse_prefix, help="dataset prefix, e.g. test_")
    replay.add_argument(
        "--faults", type=parse_faults, help="fault SPEC for the replay server, e.g. 429:0.2,500:0.1"
    )
    replay.add_argument("--executor", choices=["in_process", "multiprocess"])
    replay.add_argument("--force-prod", action="store_true", help="allow unprefixed prod datasets")
    replay.set_defaults(func=cmd_replay)

    demo = sub.add_parser("demo", help="history + the span with real lines, then the report")
    demo.set_defaults(func=cmd_demo)

    rep = sub.add_parser("report", help="the grading summary from the warehouse")
    rep.add_argument("--start", type=parse_date, required=True)
    rep.add_argument("--end", type=parse_date, required=True)
    rep.add_argument("--prefix", type=parse_prefix)
    rep.add_argument("--json", action="store_true")
    rep.add_argument("--charts", action="store_true", help="also write the charts as PNG files")
    rep.set_defaults(func=cmd_report)

    ui = sub.add_parser("ui", help="the replay server and the Dagster UI")
    ui.add_argument("--port", type=parse_port, default=3000)
    ui.add_argument("--data", type=parse_data_folder)
    ui.set_defaults(func=cmd_ui)

    server = sub.add_parser("replay-server", help="serve recorded sources on 127.0.0.1")
    server.add_argument("--data", type=parse_data_folder)
    server.add_argument("--port", type=parse_port, default=8765)
    server.add_argument("--faults", type=parse_faults)
    server.add_argument(
        "--now", type=parse_moment, help="the server clock (ISO time); default: now"
    )
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
