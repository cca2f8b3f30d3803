"""BigQuery DDL from the table specs; `python -m nba_assets.warehouse.ddl` rewrites ``sql/``.

The files under ``sql/`` are for people (review, running by hand); the warehouse itself creates
its tables through the API from the same specs, and a test fails when ``sql/`` is stale.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from nba_assets.settings import REPO_ROOT
from nba_assets.tables import all_tables
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.bigquery import bigquery_type

SQL_DIR = REPO_ROOT / "sql"
REGENERATE_COMMAND = "python -m nba_assets.warehouse.ddl"


def _literal(text: str) -> str:
    # A JSON string is a valid GoogleSQL string literal (same quote, backslash and \u escapes).
    return json.dumps(text, ensure_ascii=False)


def _quote(identifier: str) -> str:
    return f"`{identifier}`"


def bigquery_ddl(spec: TableSpec, prefix: str = "") -> str:
    """``CREATE TABLE IF NOT EXISTS`` for one spec: DAY partitions, clustering, descriptions."""
    columns = []
    for name, dtype in spec.columns.items():
        column = f"  {_quote(name)} {bigquery_type(dtype)}"
        if name in spec.column_descriptions:
            column += f" OPTIONS(description={_literal(spec.column_descriptions[name])})"
        columns.append(column)
    lines = [
        f"-- Generated from the table spec {spec.qualified_name()} by `{REGENERATE_COMMAND}`.",
        "-- Do not edit: change the spec and regenerate.",
        f"CREATE TABLE IF NOT EXISTS {_quote(spec.qualified_name(prefix))} (",
        ",\n".join(columns),
        ")",
        f"PARTITION BY {_quote(spec.partition_column)}",
    ]
    if spec.clustering:
        lines.append(f"CLUSTER BY {', '.join(map(_quote, spec.clustering))}")
    lines.append(f"OPTIONS(description={_literal(spec.description)});")
    return "\n".join(lines) + "\n"


def ddl_path(root: Path, spec: TableSpec) -> Path:
    return root / spec.dataset / f"{spec.name}.sql"


def write_ddl(specs: Iterable[TableSpec], root: Path) -> list[Path]:
    """Write ``<root>/<dataset>/<table>.sql`` for every spec; returns the paths written."""
    written = []
    for spec in specs:
        path = ddl_path(root, spec)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(bigquery_ddl(spec))
        written.append(path)
    return written


def regenerate(root: Path = SQL_DIR) -> list[Path]:
    """Rewrite ``root`` from the registry of specs, removing files no spec produces any more."""
    written = set(write_ddl(all_tables(), root))
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file() and path not in written:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return sorted(written)


def main() -> None:
    for path in regenerate():
        sys.stdout.write(f"{path.relative_to(REPO_ROOT)}\n")


if __name__ == "__main__":
    main()
