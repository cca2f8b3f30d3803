"""``nba-assets sql``: read-only queries on the embedded warehouse, safe while runs write.

A DuckDB session opened on the file outside the pipeline locks every writer out; this one takes
the pipeline's own lock, opens the file read-only for one query and lets go, so a running replay
only waits for the query. External file access is off too: the command reads the warehouse and
nothing else, and writes nothing anywhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal, TextIO

import duckdb
import polars as pl

from nba_assets.warehouse.duckdb import DuckDBWarehouse
from nba_assets.warehouse.errors import WarehouseBusyError

Format = Literal["table", "json", "csv"]


class WarehouseQueryError(ValueError):
    """A statement the read-only warehouse session refused or could not run."""


def query(warehouse: DuckDBWarehouse, statement: str) -> pl.DataFrame:
    """The rows ``statement`` returns, run on a read-only connection under the warehouse lock.

    Raises:
        FileNotFoundError: nothing has written the warehouse yet.
        WarehouseQueryError: the statement would write, or DuckDB cannot run it.
        WarehouseBusyError: the file stayed locked for longer than the lock timeout.
    """
    if not warehouse.path.exists():
        raise FileNotFoundError(
            f"no warehouse at {warehouse.path} yet: run `nba-assets replay --start ... --end ...`"
            " (or `nba-assets demo`) first"
        )
    with warehouse.connect("running an nba-assets sql query", read_only=True) as con:
        con.execute("SET enable_external_access = false")
        try:
            arrow = con.execute(statement).to_arrow_table()
        except (duckdb.InvalidInputException, duckdb.PermissionException) as exc:
            if "read-only mode" in str(exc) or "disabled by configuration" in str(exc):
                raise WarehouseQueryError(
                    f"refused: nba-assets sql only reads the tables of {warehouse.path} (the"
                    " pipeline writes them, `nba-assets replay`; to export rows use --csv or"
                    f" --json). DuckDB says: {exc}"
                ) from exc
            raise WarehouseQueryError(f"query on {warehouse.path} failed: {exc}") from exc
        except duckdb.Error as exc:
            raise WarehouseQueryError(f"query on {warehouse.path} failed: {exc}") from exc
    df = pl.from_arrow(arrow)
    assert isinstance(df, pl.DataFrame)
    return df


def render(df: pl.DataFrame, fmt: Format = "table", max_rows: int = 50) -> str:
    """``df`` as a small text table (at most ``max_rows`` rows), JSON rows, or CSV."""
    if fmt == "csv":
        return df.write_csv().rstrip("\n")
    if fmt == "json":
        return json.dumps(df.to_dicts(), default=str)
    shown = df.head(max_rows)
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_width_chars=200,
        fmt_str_lengths=60,
    ):
        text = str(shown)
    if df.height == shown.height:
        more = "1 row" if df.height == 1 else f"{df.height} rows"
    else:
        more = f"first {max_rows} of {df.height} rows; --csv or --json for all"
    return f"{text}\n({more})"


def run(
    path: Path,
    statement: str,
    fmt: Format = "table",
    max_rows: int = 50,
    lock_timeout_seconds: float = 300.0,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """The ``sql`` command: print the rows; 2 for a refused statement, 1 when it cannot run."""
    warehouse = DuckDBWarehouse(path, lock_timeout_seconds=lock_timeout_seconds)
    try:
        df = query(warehouse, statement)
    except WarehouseQueryError as exc:
        print(exc, file=err)
        return 2
    except (FileNotFoundError, WarehouseBusyError) as exc:
        print(exc, file=err)
        return 1
    print(render(df, fmt, max_rows), file=out)
    return 0
