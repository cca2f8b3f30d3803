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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from nba_assets.warehouse.errors import WarehouseBusyError

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

    from nba_assets.settings import Settings
    from nba_assets.warehouse.base import Warehouse

# Four seasons of history: LightGBM trained on two (from 2023-10-24) scored MAE 5.10 on the demo
# span, behind the moving average (5.06); on all nine seasons 5.03. Each season costs about two
# minutes of replay here.
DEMO_HISTORY_START = "2021-10-19"
DEMO_START, DEMO_END = "2025-10-21", "2025-11-15"
REPLAY_API_KEY = "replay"
REPLAY_TAG = "nba_assets/replay"
HISTORY_LOOKBACK = dt.timedelta(days=200)
# Dagster's tags for the partition range of a single-run backfill.
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
# What the CLI writes to say how to build the warehouse.
HOW_TO_BUILD = "`nba-assets replay --start ... --end ...`, or `nba-assets demo`"


class UsageError(Exception):
    """A bad argument or setting: one line on stderr, exit status 2, nothing fetched or written."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block) raised as UsageError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _faults(text: str) -> str:
    """A fault spec, as given, once it parses."""
    from nba_assets.replay.faults import FaultSpec

    try:
        FaultSpec.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _prefix(text: str) -> str:
    from nba_assets.settings import check_dataset_prefix

    try:
        return check_dataset_prefix(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _data_folder(text: str) -> Path:
    """An existing folder; whether it holds usable replay data is checked when it is loaded."""
    path = Path(text)
    if not path.is_dir():
        problem = "is not a folder" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"replay data folder {path} {problem}")
    return path


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 0 and 65535")
    return port


def _moment(text: str) -> str:
    """An ISO time for the replay server's clock, as given, once it parses."""
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from None
    return text


def check_range(start: dt.date, end: dt.date) -> None:
    """Refuse a range that is reversed or reaches outside the game-day partitions.

    The last partition is today's (US/Eastern: the daily partitions end one day ahead, so the
    morning's predictions have a partition), computed from the partitions definition now.

    Raises:
        UsageError: saying which bound is wrong and what the partitions allow.
    """
    from nba_assets.partitions import FIRST_GAME_DATE, game_date_partitions

    if end < start:
        raise UsageError(f"--end {end} is before --start {start}")
    first = dt.date.fromisoformat(FIRST_GAME_DATE)
    if start < first:
        raise UsageError(f"--start {start} is before the first game day partition, {first}")
    last = dt.date.fromisoformat(game_date_partitions.get_last_partition_key() or FIRST_GAME_DATE)
    if end > last:
        raise UsageError(
            f"--end {end} is after today's partition, {last} (US/Eastern): later days have no"
            " games to replay yet"
        )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _settings(prefix: str | None = None) -> Settings:
    """The settings, with ``--prefix`` applied first.

    Raises:
        UsageError: for a setting the environment gives that does not validate.
    """
    from pydantic import ValidationError

    from nba_assets.settings import get_settings

    if prefix is not None:
        _set_env(NBA_DATASET_PREFIX=prefix)
    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"NBA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise UsageError(f"bad setting {problems}") from None


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
    import polars as pl

    from nba_assets.replay.faults import FaultSpec
    from nba_assets.replay.server import ReplayServer, load_archive

    try:
        archive = load_archive(data)
    except (OSError, ValueError, pl.exceptions.PolarsError) as error:
        where = f"--data {data}" if data is not None else "the shipped replay archive"
        raise UsageError(f"{where} is not usable replay data: {_first_line(error)}") from None
    spec = FaultSpec.parse(faults) if faults else None
    with ReplayServer(archive, faults=spec) as server:
        _set_env(
            NBA_NBA_STATS_BASE_URL=f"{server.base_url}/stats",
            NBA_ODDS_BASE_URL=f"{server.base_url}/v4",
        )
        if not os.environ.get("NBA_ODDS_API_KEY"):
            _set_env(NBA_ODDS_API_KEY=REPLAY_API_KEY)
        yield server.base_url


def root_cause(error: SerializableErrorInfo) -> str:
    """The message of the error our code raised, found below Dagster's wrappers of it.

    A failed step's error is Dagster's "Error occurred while executing op ..." with the
    project's own error (a PayloadError, a SourceError, ...) as its cause: the first error of
    the cause / context chain that is not Dagster's says what went wrong; when all are
    Dagster's, the deepest does.
    """
    chain: list[SerializableErrorInfo] = []
    current: SerializableErrorInfo | None = error
    while current is not None and len(chain) < 50:
        chain.append(current)
        current = current.cause or current.context
    ours = next((e for e in chain if not (e.cls_name or "").startswith("Dagster")), chain[-1])
    text = ours.message.strip()
    qualified, colon, rest = text.partition(": ")
    if colon and ours.cls_name and qualified.endswith(ours.cls_name):
        text = f"{ours.cls_name}: {rest}"  # without the module path
    return text


class _Progress(threading.Thread):
    """Prints one line per finished step of the run tagged ``tag``, and each failure's cause.

    Each poll reads only the events after the last one it has seen (an event-log cursor).
    """

    PAGE = 500

    def __init__(self, instance, tag: str) -> None:
        super().__init__(daemon=True)
        self.instance, self.tag = instance, tag
        self.stopped = threading.Event()
        self.run_id: str | None = None
        self.cursor: str | None = None
        self.done = 0
        self.failed_steps = 0

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.poll()
        self.poll()

    def poll(self) -> None:
        import dagster as dg

        if self.run_id is None:
            runs = self.instance.get_runs(
                filters=dg.RunsFilter(tags={REPLAY_TAG: self.tag}), limit=1
            )
            if not runs:
                return
            self.run_id = runs[0].run_id
        kinds = {
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.RUN_FAILURE,
        }
        while True:
            page = self.instance.get_records_for_run(
                self.run_id, cursor=self.cursor, of_type=kinds, limit=self.PAGE
            )
            self.cursor = page.cursor
            for record in page.records:
                self.show(record.event_log_entry)
            if not page.has_more:
                return

    def show(self, entry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        if event.is_run_failure:
            # A run that fails outside its steps (planning, resources) says why only here.
            error = event.event_specific_data.error
            if error is not None and not self.failed_steps:
                print("  run FAILED", flush=True)
                _print_cause(root_cause(error))
            return
        self.done += 1
        ok = event.is_step_success
        took = f" ({event.event_specific_data.duration_ms / 1000:.1f}s)" if ok else ""
        print(
            f"  [{self.done:>3}] {'ok' if ok else 'FAILED':<6} {entry.step_key}{took}", flush=True
        )
        if not ok:
            self.failed_steps += 1
            _print_cause(root_cause(event.step_failure_data.error))

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def _print_cause(text: str) -> None:
    for line in text.splitlines():
        print(f"        {line}", flush=True)


def run_range(
    start: dt.date, end: dt.date, executor: str | None = None, history_only: bool = False
) -> bool:
    """Materialize every phase (or the history phases) over ``start..end`` as one Dagster run.

    Returns True when the run succeeded.
    """
    import dagster as dg

    from nba_assets import run_guards
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
        PARTITION_RANGE_START_TAG: start.isoformat(),
        PARTITION_RANGE_END_TAG: end.isoformat(),
        REPLAY_TAG: tag,
        **run_guards.run_tags(),
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
    from nba_assets.run_guards import RangeGuard

    check_range(args.start, args.end)
    settings = _settings(args.prefix)
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
        guard = RangeGuard.begin(_dagster_instance(), args.start, data=args.data)
        gap = history_gap(args.start)
        guard.watch(gap[0] if gap else args.start, args.end)
        if gap is not None:
            print(f"history {gap[0]}..{gap[1]} first (through features), so features are current")
            if not run_range(*gap, args.executor, history_only=True):
                return 1
        ok = run_range(args.start, args.end, args.executor)
        ok = ok and guard.settle(lambda s, e, h: run_range(s, e, args.executor, history_only=h))
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
    from nba_assets.settings import get_settings
    from nba_assets.tables import analytics

    warehouse = _warehouse(get_settings())
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


def _warehouse(settings: Settings) -> Warehouse:
    """The deployment's warehouse, from the one place that builds resources."""
    from nba_assets.resources import build_resources
    from nba_assets.warehouse.resource import WarehouseResource

    resource = build_resources(settings)["warehouse"]
    assert isinstance(resource, WarehouseResource), resource
    return resource.get()


def _target(settings) -> str:
    prefix = settings.dataset_prefix
    if settings.deployment == "prod":
        return f"BigQuery project {settings.gcp_project} (datasets {prefix}nba_*)"
    return f"{settings.warehouse_path} (schemas {prefix}nba_*)"


def cmd_report(args: argparse.Namespace) -> int:
    """The grading summary; it only reads (charts are written when ``--charts`` asks)."""
    from nba_assets.lib import report
    from nba_assets.tables import precompute, predictions

    if args.end < args.start:
        raise UsageError(f"--end {args.end} is before --start {args.start}")
    settings = _settings(args.prefix)
    averages_columns = ["game_date", "player_id", "points_avg_season", "points_avg_prev_season"]
    # A report never writes: without a warehouse file it is the empty report, and says so,
    # rather than letting the backend create a file to read nothing from.
    no_warehouse = settings.deployment == "local" and not settings.warehouse_path.is_file()
    if no_warehouse:
        accuracy = predictions.prediction_accuracy.empty()
        averages = precompute.ml_feature_store.empty().select(averages_columns)
    else:
        warehouse = _warehouse(settings)
        accuracy = warehouse.read(predictions.prediction_accuracy, args.start, args.end)
        averages = warehouse.read(
            precompute.ml_feature_store, args.start, args.end, averages_columns
        )
    systems = report.summarize(accuracy)
    reference = report.season_average_reference(accuracy, averages)
    missing = (
        f"there is no warehouse at {settings.warehouse_path}: build it first ({HOW_TO_BUILD})"
        if no_warehouse
        else f"no predictions in {_target(settings)} for these days: materialize them"
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

    settings = _settings()
    began = time.monotonic()
    start, end = _date(DEMO_START), _date(DEMO_END)
    with replay_sources(None, None) as url:
        print(f"demo: replay server {url}; warehouse {settings.warehouse_path}")
        guard = RangeGuard.begin(_dagster_instance(), start, command="demo")
        gap = history_gap(start, full_history_from=_date(DEMO_HISTORY_START))
        guard.watch(gap[0] if gap else start, end)
        if gap is not None:
            print(f"1/2 history {gap[0]}..{gap[1]} (through features)")
            if not run_range(*gap, history_only=True):
                return 1
        else:
            print("1/2 history: already in the warehouse")
        print(f"2/2 every phase {start}..{end}")
        if not run_range(start, end) or not guard.settle(
            lambda s, e, h: run_range(s, e, history_only=h)
        ):
            return 1
    print(f"demo took {time.monotonic() - began:.0f}s\n")
    cmd_report(argparse.Namespace(start=start, end=end, prefix=None, json=False, charts=True))
    print(
        "\nOpen the UI: `make ui` (or `.venv/bin/nba-assets ui`), then http://127.0.0.1:3000"
        f" (DAGSTER_HOME={settings.dagster_home}): the runs, the asset graph, checks and charts."
    )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    import subprocess

    from nba_assets.run_guards import mark_ghosts
    from nba_assets.settings import REPO_ROOT

    mark_ghosts(_dagster_instance(), "ui")
    with replay_sources(args.data, None) as url:
        print(f"replay server {url}; Dagster UI on http://127.0.0.1:{args.port}")
        # `dg dev` loads the project as pyproject's [tool.dg] describes it: the same code
        # location, named as in workspace.yaml, that `dg check defs` validates in CI.
        venv = Path(sys.executable).parent.parent
        return subprocess.call(
            [str(venv / "bin" / "dg"), "dev", "-p", str(args.port), "-h", "127.0.0.1"],
            cwd=REPO_ROOT,
            env={**os.environ, "VIRTUAL_ENV": str(venv)},
        )


def cmd_replay_server(args: argparse.Namespace) -> int:
    import polars as pl

    from nba_assets.replay.server import main as serve

    argv = ["--port", str(args.port)]
    if args.data:
        argv += ["--data", str(args.data)]
    if args.faults:
        argv += ["--faults", args.faults]
    if args.now:
        argv += ["--now", args.now]
    try:
        return serve(argv) or 0
    except (OSError, ValueError, pl.exceptions.PolarsError) as error:
        # The server fails so only while starting: data it cannot load, a port in use.
        where = f"--data {args.data}" if args.data else f"--port {args.port}"
        raise UsageError(f"{where}: {_first_line(error)}") from None


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
    parser = _Parser(prog="nba-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    replay = sub.add_parser("replay", help="materialize every phase over a date range")
    replay.add_argument("--start", type=_date, required=True)
    replay.add_argument("--end", type=_date, required=True)
    replay.add_argument(
        "--data", type=_data_folder, help="folder of source files (default: shipped archive)"
    )
    replay.add_argument("--prefix", type=_prefix, help="dataset prefix, e.g. test_")
    replay.add_argument(
        "--faults", type=_faults, help="fault SPEC for the replay server, e.g. 429:0.2,500:0.1"
    )
    replay.add_argument("--executor", choices=["in_process", "multiprocess"])
    replay.add_argument("--force-prod", action="store_true", help="allow unprefixed prod datasets")
    replay.set_defaults(func=cmd_replay)

    demo = sub.add_parser("demo", help="history + the span with real lines, then the report")
    demo.set_defaults(func=cmd_demo)

    rep = sub.add_parser("report", help="the grading summary from the warehouse")
    rep.add_argument("--start", type=_date, required=True)
    rep.add_argument("--end", type=_date, required=True)
    rep.add_argument("--prefix", type=_prefix)
    rep.add_argument("--json", action="store_true")
    rep.add_argument("--charts", action="store_true", help="also write the charts as PNG files")
    rep.set_defaults(func=cmd_report)

    ui = sub.add_parser("ui", help="the replay server and the Dagster UI")
    ui.add_argument("--port", type=_port, default=3000)
    ui.add_argument("--data", type=_data_folder)
    ui.set_defaults(func=cmd_ui)

    server = sub.add_parser("replay-server", help="serve recorded sources on 127.0.0.1")
    server.add_argument("--data", type=_data_folder)
    server.add_argument("--port", type=_port, default=8765)
    server.add_argument("--faults", type=_faults)
    server.add_argument("--now", type=_moment, help="the server clock (ISO time); default: now")
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
    """Run one command; exit status 0 done, 1 a run failed, 2 bad arguments or settings."""
    # A UsageError is raised before anything is fetched or written: its one line says what to
    # change, and nothing needs undoing.
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except UsageError as error:
        print(f"nba-assets {args.command}: {error}", file=sys.stderr)
        return 2
    except WarehouseBusyError as error:  # the warehouse read before a run; its message says why
        print(f"nba-assets {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
