"""The asset graph against its committed snapshot, so a changed graph is a reviewed diff.

After an intended change to the graph, rewrite the snapshot and review its diff with the code:
``python -m nba_assets_tests.test_graph_snapshot``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg

from nba_assets.defs.build import build_definitions
from nba_assets.settings import Settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return (
            f"{type(partitions_def).__name__}(start={partitions_def.start:%Y-%m-%d},"
            f" timezone={partitions_def.timezone}, cron={partitions_def.cron_schedule},"
            f" end_offset={partitions_def.end_offset})"
        )
    return repr(partitions_def)


def graph_snapshot() -> dict[str, Any]:
    """Keys, groups, kinds, partitions, backfill policies, deps with their partition mappings,
    checks, jobs, schedules and sensors of the local code location."""
    with tempfile.TemporaryDirectory() as home:
        defs = build_definitions(Settings(home=Path(home)))
        graph = defs.resolve_asset_graph()
        repository = defs.get_repository_def()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        deps = {}
        for parent in sorted(node.parent_keys, key=lambda k: k.to_user_string()):
            mapping = graph.get_partition_mapping(key, parent)
            deps[parent.to_user_string()] = repr(mapping)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": repr(node.backfill_policy),
            "deps": deps,
            "checks": {
                check.name: "blocking" if graph.get_check_spec(check).blocking else "warn"
                for check in sorted(node.check_keys, key=lambda c: c.name)
            },
        }
    return {
        "assets": assets,
        "jobs": sorted(job.name for job in repository.get_all_jobs()),
        "schedules": {
            s.name: f"{s.cron_schedule} {s.execution_timezone} -> {s.job_name}"
            for s in sorted(repository.schedule_defs, key=lambda s: s.name)
        },
        "sensors": sorted(s.name for s in repository.sensor_defs),
    }


def _text(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=1, sort_keys=True, default=list) + "\n"


def test_the_asset_graph_matches_its_snapshot() -> None:
    expected = SNAPSHOT.read_text()
    actual = _text(graph_snapshot())
    assert actual == expected, (
        "the asset graph changed: if intended, run `python -m nba_assets_tests.test_graph_snapshot`"
        " and commit the snapshot's diff with the change"
    )


if __name__ == "__main__":
    SNAPSHOT.write_text(_text(graph_snapshot()))
    print(f"wrote {SNAPSHOT}")
