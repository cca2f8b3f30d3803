"""``nba-assets``: replay history, run the demo, serve the replay sources, report the grading."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

from nba_assets.cli.args import UsageError
from nba_assets.cli.commands import build_parser
from nba_assets.process import exit_now
from nba_assets.warehouse.errors import WarehouseBusyError


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit status 0 done, 1 a run failed, 2 bad arguments or settings."""
    # A UsageError is raised before anything is fetched or written: its one line says what to
    # change, and nothing needs undoing.
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except UsageError as error:
        print(f"nba-assets {args.command}: {error}", file=sys.stderr)
        return 2
    except WarehouseBusyError as error:  # the warehouse read before a run; its message says why
        print(f"nba-assets {args.command}: {error}", file=sys.stderr)
        return 1


def run() -> NoReturn:
    """The ``nba-assets`` command: :func:`main`, then :func:`~nba_assets.process.exit_now`.

    Every command has closed its warehouse connections and stored its events when ``main``
    returns; the second the interpreter would spend freeing its modules is skipped.
    """
    exit_now(main())
