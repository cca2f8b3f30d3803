"""The commands' fast exit: the status, the buffered output and the exit handlers survive it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def test_exit_now_keeps_the_status_the_output_and_the_exit_handlers(tmp_path: Path) -> None:
    marker = tmp_path / "handler-ran"
    script = textwrap.dedent(
        f"""
        import atexit, pathlib, sys
        from nba_assets.process import exit_now

        atexit.register(pathlib.Path({str(marker)!r}).write_text, "yes")
        sys.stdout.write("buffered, no newline")
        sys.stderr.write("to stderr")
        exit_now(3)
        """
    )
    # A pipe, not a terminal, and buffering left on: only the flush can have written stdout.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 3
    assert done.stdout == "buffered, no newline"
    assert done.stderr == "to stderr"
    assert marker.read_text() == "yes"


def test_the_module_command_exits_with_main_s_status() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nba_assets.cli", "replay", "--start", "2025-11-15"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "--end" in done.stderr
