"""The code location loads, with every phase's group and the automation the team relies on."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from nba_assets.definitions import defs
from nba_assets.defs.build import ALL_ASSETS_JOB, HISTORY_JOB, build_definitions
from nba_assets.settings import Settings
from nba_assets.tables import all_tables


def test_definitions_load_with_every_phase() -> None:
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    phases = {"scrape", "raw", "analytics", "precompute", "predictions", "grading"}
    assert groups == {*phases, "operations"}  # operations: the pipeline health asset
    assert definitions.resolve_job_def(ALL_ASSETS_JOB) is not None
    assert definitions.resolve_job_def(HISTORY_JOB) is not None
    names = {s.name for s in definitions.schedules or []}
    assert {"morning_operations", "lines_snapshots", "post_game"} <= names
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.partitions_def is not None, key
            assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_dg_checks_the_code_location() -> None:
    venv = Path(sys.executable).parent.parent
    result = subprocess.run(
        [str(venv / "bin" / "dg"), "check", "defs"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "VIRTUAL_ENV": str(venv)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully." in result.stdout + result.stderr


def test_every_table_asset_shows_its_spec_in_the_catalog(tmp_path: Path) -> None:
    for settings, kind, table_name in (
        (Settings(home=tmp_path, dataset_prefix="test_"), "duckdb", "test_{}"),
        (
            Settings(home=tmp_path, deployment="prod", gcp_project="proj", dataset_prefix="test_"),
            "bigquery",
            "proj.test_{}",
        ),
    ):
        graph = build_definitions(settings).resolve_asset_graph()
        tables = all_tables()
        assert tables
        for spec in tables:
            node = graph.get(dg.AssetKey([spec.dataset, spec.name]))
            assert node.group_name is not None
            assert node.description == spec.description
            assert node.metadata["dagster/table_name"] == table_name.format(spec.qualified_name())
            schema = node.metadata["dagster/column_schema"]
            assert [(c.name, c.type) for c in schema.columns] == [
                (name, str(dtype)) for name, dtype in spec.columns.items()
            ]
            described = {c.name: c.description for c in schema.columns if c.description}
            assert described == spec.column_descriptions
            assert {kind, "polars"} <= node.kinds
