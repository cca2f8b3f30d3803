"""Child processes for tests that can never hang the suite: bounded waits, children always reaped.

`multiprocessing.Pool` as a context manager terminates its workers and then joins them without
a bound; under load a worker that missed SIGTERM kept the parent (and pytest's exit) waiting
forever. Here every child is joined with a deadline and killed with SIGKILL if still alive.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from typing import Any


def run_in_processes(
    target: Callable[..., Any], arg_lists: Sequence[tuple[Any, ...]], timeout_seconds: float = 120
) -> list[int | None]:
    """Run ``target(*args)`` in one spawned process per entry of ``arg_lists``, all at once.

    Returns each child's exit code (0 when ``target`` returned; None never survives: a child
    still running at the deadline is killed and reported as its negative signal number).
    """
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=target, args=args, daemon=True) for args in arg_lists]
    deadline = time.monotonic() + timeout_seconds
    try:
        for child in children:
            child.start()
        for child in children:
            child.join(max(0.0, deadline - time.monotonic()))
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
            if child.pid is not None:
                child.join(10)
    return [child.exitcode for child in children]
