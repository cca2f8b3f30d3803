"""A DuckDB connection held open on a file by another process, as a notebook or the CLI would.

The child opens the file, says so on stdout and keeps the connection until it is killed (or
for at most ``hold_seconds``); the parent always kills and reaps it on leaving the block.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Opening mid-run can meet one of our writes holding the file: retry, as a user would.
_HOLDER = """
import sys, time, duckdb
deadline = time.monotonic() + 60
while True:
    try:
        con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
        break
    except duckdb.IOException:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.01)
print("held", flush=True)
time.sleep(float(sys.argv[3]))
"""


@contextmanager
def outside_connection(
    path: Path, read_only: bool = True, hold_seconds: float = 120
) -> Iterator[subprocess.Popen[str]]:
    """Yields the child process once its connection to ``path`` is open."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), "ro" if read_only else "rw", str(hold_seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # returns at "held" or when the child dies
        if line.strip() != "held":
            _, err = child.communicate(timeout=10)
            raise RuntimeError(f"the outside DuckDB connection to {path} did not open: {err}")
        yield child
    finally:
        child.kill()
        child.wait(10)
