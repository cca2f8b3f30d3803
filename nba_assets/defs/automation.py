"""The run-failure log: every failed run, with the error our code raised, in a file people read.

The schedules, sensors, freshness checks and pools are in ``nba_assets/defs/operations/``.
"""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
from dagster_shared.error import SerializableErrorInfo


def run_failure_log(log_path: Path) -> dg.SensorDefinition:
    """A sensor that appends every failed run, with each failed step's error, to a JSON-lines log.

    The log (``$NBA_HOME/logs/run_failures.jsonl`` locally) is for people: no external alerting
    service is assumed, and the UI's run page has the full event log behind each entry.
    """

    @dg.run_failure_sensor(
        name="run_failure_log",
        monitor_all_code_locations=False,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Appends failed runs and their step errors to {log_path.name}.",
    )
    def _sensor(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        steps = [
            {
                "step": event.step_key,
                "error": root_cause(event.step_failure_data.error)
                if event.step_failure_data.error
                else None,
            }
            for event in context.get_step_failure_events()
        ]
        entry = {
            "run_id": run.run_id,
            "job": run.job_name,
            "failed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "partition": run.tags.get("dagster/partition"),
            "partition_range": [
                run.tags.get("dagster/asset_partition_range_start"),
                run.tags.get("dagster/asset_partition_range_end"),
            ],
            "message": context.failure_event.message,
            "steps": steps,
        }
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        context.log.info(f"run {run.run_id} failed; recorded in {log_path}")

    return _sensor


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
