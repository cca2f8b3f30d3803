"""How the CLI runs Dagster: the local instance, the replay sources, one run per range with
its progress lines, and the history a range needs first."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from nba_assets.cli.args import RunValues, UsageError, load_settings
from nba_assets.defs.automation import root_cause
from nba_assets.resources import warehouse_for

if TYPE_CHECKING:
    import dagster as dg

    from nba_assets.settings import Settings

REPLAY_API_KEY = "replay"


REPLAY_TAG = "nba_assets/replay"


HISTORY_LOOKBACK = dt.timedelta(days=200)


def dagster_home(settings: Settings) -> Path:
    """The Dagster instance's folder: DAGSTER_HOME when set, else ``$NBA_HOME/dagster`` (with
    the local instance's dagster.yaml written there the first time)."""
    from nba_assets.dagster_instance import ensure_local_instance_yaml

    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    ensure_local_instance_yaml(settings.dagster_home)
    return settings.dagster_home


def dagster_instance(settings: Settings | None = None) -> dg.DagsterInstance:
    """The Dagster instance the CLI's runs are recorded in (see ``dagster_home``)."""
    import dagster as dg

    from nba_assets.dagster_instance import RUN_ENV

    # Dagster reads these switches (batched event writes, planned events per range) from the
    # process environment, and step processes inherit them.
    for name, value in RUN_ENV.items():
        os.environ.setdefault(name, value)
    home = dagster_home(settings or load_settings())
    if not home.is_dir():  # only a DAGSTER_HOME from the environment can be missing
        raise UsageError(f"DAGSTER_HOME {home} is not a directory: create it, or unset it")
    # Dagster creates a new home's SQLite tables on first open, and two commands started
    # together on a new home both try ("table secondary_indexes already exists"): one at a time.
    with FileLock(home / ".instance-open.lock"):
        return dg.DagsterInstance.from_config(str(home))


@contextmanager
def replay_sources(
    data: Path | None, faults: str | None, while_starting: Callable[[], object] | None = None
) -> Iterator[tuple[str, RunValues]]:
    """Start the replay server in a process of its own; yields its base URL and the run values
    that point the scrapers at it (the replay API key too, unless the environment gives one).

    In this process, its answers would take turns with the scrapers for the interpreter: they
    run beside them instead, on the other core. ``while_starting`` runs here while the server
    loads its archive.
    """
    argv = [sys.executable, "-m", "nba_assets.replay.server", "--port", "0"]
    argv += ["--parent-pid", str(os.getpid())]
    if data is not None:
        argv += ["--data", str(data)]
    if faults:
        argv += ["--faults", faults]
    with tempfile.TemporaryFile("w+") as errors:
        server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            if while_starting is not None:
                while_starting()
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            if not url.startswith("http://"):
                server.wait(timeout=60)
                errors.seek(0)
                said = errors.read().strip().splitlines()
                raise UsageError(
                    said[-1] if said else f"the replay server exited {server.returncode}"
                )
            values = {"nba_stats_base_url": f"{url}/stats", "odds_base_url": f"{url}/v4"}
            if not load_settings().odds_api_key.get_secret_value():
                values["odds_api_key"] = REPLAY_API_KEY
            yield url, values
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def import_asset_modules() -> None:
    """Import every phase's modules (LightGBM, SciPy and matplotlib among them) as the first
    run would: a few seconds, spent while the replay server starts."""
    from nba_assets.defs.build import phase_assets

    phase_assets()


class Progress(threading.Thread):
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
                print_cause(root_cause(error))
            return
        self.done += 1
        ok = event.is_step_success
        took = f" ({event.event_specific_data.duration_ms / 1000:.1f}s)" if ok else ""
        print(
            f"  [{self.done:>3}] {'ok' if ok else 'FAILED':<6} {entry.step_key}{took}", flush=True
        )
        if not ok:
            self.failed_steps += 1
            print_cause(root_cause(event.step_failure_data.error))

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def print_cause(text: str) -> None:
    for line in text.splitlines():
        print(f"        {line}", flush=True)


# A ranged run holds each table of its range in memory, so a long replay runs as consecutive
# runs of at most `replay_seasons_per_run` seasons (settings): its peak memory is that of a
# season, not of the range. A last part shorter than TAIL_DAYS (a season's first weeks) joins
# the one before: one run less.
TAIL_DAYS = 120


def run_parts(start: dt.date, end: dt.date, seasons: int = 1) -> list[tuple[dt.date, dt.date]]:
    """``start..end`` cut into consecutive parts of at most ``seasons`` seasons, each ending on
    July 31 (the off-season) but the last, which may run up to :data:`TAIL_DAYS` longer."""
    parts: list[tuple[dt.date, dt.date]] = []
    while start <= end:
        first_season_ends = start.year + (1 if start.month >= 8 else 0)
        last = min(end, dt.date(first_season_ends + seasons - 1, 7, 31))
        parts.append((start, last))
        start = last + dt.timedelta(days=1)
    if len(parts) > 1 and (parts[-1][1] - parts[-1][0]).days < TAIL_DAYS:
        parts[-2:] = [(parts[-2][0], parts[-1][1])]
    return parts


def run_range(
    values: RunValues,
    start: dt.date,
    end: dt.date,
    history_only: bool = False,
    seasons: int | None = None,
) -> bool:
    """Materialize every phase (or the history phases) over ``start..end``: one Dagster run per
    part of :func:`run_parts` (``seasons`` per run, default the ``replay_seasons_per_run``
    setting), in date order, stopping at the first that fails.

    Returns True when every run succeeded.
    """
    parts = run_parts(start, end, seasons or load_settings(values).replay_seasons_per_run)
    for i, (first, last) in enumerate(parts, start=1):
        if len(parts) > 1:
            print(f"part {i}/{len(parts)}: {first}..{last}", flush=True)
        if not _run_once(values, first, last, history_only):
            return False
    return True


def _run_once(values: RunValues, start: dt.date, end: dt.date, history_only: bool) -> bool:
    """Materialize every phase (or the history phases) over ``start..end`` as one Dagster run,
    with the deployment's settings and this command's run ``values`` applied.

    Returns True when the run succeeded.
    """
    import dagster as dg

    from nba_assets import run_guards
    from nba_assets.defs.build import replay_job
    from nba_assets.partitions import range_tags

    settings = load_settings(values)
    instance = dagster_instance(settings)
    tag = uuid.uuid4().hex
    tags = {
        **range_tags(start.isoformat(), end.isoformat()),
        REPLAY_TAG: tag,
        **run_guards.run_tags(settings),
    }
    progress = Progress(instance, tag)
    progress.start()
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    try:
        if settings.executor == "multiprocess":
            # Step processes rebuild the job from the same function and arguments.
            job = dg.build_reconstructable_job(
                "nba_assets.defs.build",
                "replay_job",
                reconstructable_kwargs={"values": dict(values), "history_only": history_only},
            )
            result = dg.execute_job(job, instance=instance, tags=tags, run_config=quiet)
        else:
            result = replay_job(values, history_only).execute_in_process(
                instance=instance, tags=tags, run_config=quiet, raise_on_error=False
            )
    finally:
        progress.stop()
    print(f"run {result.run_id} {'succeeded' if result.success else 'FAILED'}")
    return result.success


def history_gap(
    settings: Settings, start: dt.date, full_history_from: dt.date | None = None
) -> tuple[dt.date, dt.date] | None:
    """Days between the warehouse's last game and ``start`` that a replay must fill first.

    Features for ``start`` use the games before it, read from the warehouse. When the warehouse
    stops short of ``start`` those days are replayed first (through the feature store). When it
    has no recent games at all, the history from ``full_history_from`` is the gap; without that
    date we say how to build the history rather than replay years unasked.
    """
    from nba_assets.tables import analytics

    warehouse = warehouse_for(settings)
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


def target(settings) -> str:
    prefix = settings.dataset_prefix
    if settings.deployment == "prod":
        return f"BigQuery project {settings.gcp_project} (datasets {prefix}nba_*)"
    return f"{settings.warehouse_path} (schemas {prefix}nba_*)"
