"""``sql/`` is the BigQuery DDL of the current specs, and that DDL is valid BigQuery."""

from __future__ import annotations

import uuid
from pathlib import Path

import polars as pl
import pytest
from google.cloud import bigquery

from nba_assets.settings import REPO_ROOT
from nba_assets.tables import all_tables
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.bigquery import bigquery_schema, describe_table
from nba_assets.warehouse.ddl import REGENERATE_COMMAND, bigquery_ddl, write_ddl


def _files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_sql_dir_matches_the_specs(tmp_path: Path) -> None:
    write_ddl(all_tables(), tmp_path)
    expected, committed = _files(tmp_path), _files(REPO_ROOT / "sql")
    stale = sorted(name for name in expected if committed.get(name) != expected[name])
    extra = sorted(set(committed) - set(expected))
    assert not stale and not extra, (
        f"sql/ is stale (outdated or missing: {stale}; files no spec produces: {extra});"
        f" run `{REGENERATE_COMMAND}`"
    )


def test_column_descriptions_name_columns_of_the_table() -> None:
    unknown = {
        spec.qualified_name(): sorted(set(spec.column_descriptions) - set(spec.columns))
        for spec in all_tables()
        if set(spec.column_descriptions) - set(spec.columns)
    }
    assert not unknown, f"column descriptions for columns that are not in the schema: {unknown}"


def test_ddl_escapes_descriptions() -> None:
    tricky = TableSpec(
        dataset="nba_test",
        name="quotes",
        columns={"game_date": pl.Date()},
        key=("game_date",),
        clustering=(),
        description='a "quoted" \\ back\nslash',
    )
    assert 'OPTIONS(description="a \\"quoted\\" \\\\ back\\nslash");' in bigquery_ddl(tricky)
    assert "CLUSTER BY" not in bigquery_ddl(tricky)


@pytest.mark.bigquery
def test_ddl_runs_on_bigquery_and_builds_the_spec_tables(bq_client: bigquery.Client) -> None:
    prefix = f"ddl_{uuid.uuid4().hex[:8]}_"
    specs = all_tables()
    for dataset in sorted({spec.dataset_name(prefix) for spec in specs}):
        bq_client.create_dataset(f"{bq_client.project}.{dataset}")
    for spec in specs:
        bq_client.query(bigquery_ddl(spec, prefix)).result(timeout=60)
        table_id = f"{bq_client.project}.{spec.qualified_name(prefix)}"
        described = describe_table(bq_client, table_id)
        assert described["partitioning_type"] == "DAY"
        assert described["partitioning_field"] == spec.partition_column
        assert described["clustering_fields"] == list(spec.clustering)
        assert described["description"] == spec.description
        assert described["columns"] == {f.name: f.field_type for f in bigquery_schema(spec)}
        descriptions = {f.name: f.description for f in bq_client.get_table(table_id).schema}
        for column in spec.columns:
            assert descriptions[column] == spec.column_descriptions.get(column)
    # IF NOT EXISTS: running a DDL again is harmless.
    bq_client.query(bigquery_ddl(specs[0], prefix)).result(timeout=60)
