"""The CLI's arguments and settings: every check that refuses a run before anything is fetched
or written (exit status 2, one line)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from nba_assets.settings import Settings


class UsageError(Exception):
    """A bad argument or setting: one line on stderr, exit status 2, nothing fetched or written."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block) raised as UsageError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def parse_faults(text: str) -> str:
    """A fault spec, as given, once it parses."""
    from nba_assets.replay.faults import FaultSpec

    try:
        FaultSpec.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def parse_prefix(text: str) -> str:
    from nba_assets.settings import check_dataset_prefix

    try:
        return check_dataset_prefix(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_data_folder(text: str) -> Path:
    """An existing folder; whether it holds usable replay data is checked when it is loaded."""
    path = Path(text)
    if not path.is_dir():
        problem = "is not a folder" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"replay data folder {path} {problem}")
    return path


def parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 0 and 65535")
    return port


def parse_moment(text: str) -> str:
    """An ISO time for the replay server's clock, as given, once it parses."""
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from None
    return text


def check_range(start: dt.date, end: dt.date) -> None:
    """Refuse a range that is reversed or reaches outside the game-day partitions.

    The last partition is today's (US/Eastern: the daily partitions end one day ahead, so the
    morning's predictions have a partition), computed from the partitions definition now.

    Raises:
        UsageError: saying which bound is wrong and what the partitions allow.
    """
    from nba_assets.partitions import FIRST_GAME_DATE, game_date_partitions

    if end < start:
        raise UsageError(f"--end {end} is before --start {start}")
    first = dt.date.fromisoformat(FIRST_GAME_DATE)
    if start < first:
        raise UsageError(f"--start {start} is before the first game day partition, {first}")
    last = dt.date.fromisoformat(game_date_partitions.get_last_partition_key() or FIRST_GAME_DATE)
    if end > last:
        raise UsageError(
            f"--end {end} is after today's partition, {last} (US/Eastern): later days have no"
            " games to replay yet"
        )


RunValues = Mapping[str, str]
"""Settings one command gives its runs (``--prefix``, ``--executor``, the replay server's URLs),
by field name, over what the environment says. Step processes get them as arguments of the job
they rebuild (``defs.build.replay_job``), so nothing is written to the environment."""


def run_values(prefix: str | None = None, executor: str | None = None) -> dict[str, str]:
    """The run values a command's arguments give."""
    values = {"dataset_prefix": prefix, "executor": executor}
    return {name: value for name, value in values.items() if value is not None}


def load_settings(values: RunValues | None = None) -> Settings:
    """The settings from the environment with a command's run ``values`` applied.

    Raises:
        UsageError: for a setting the environment gives that does not validate.
    """
    from pydantic import ValidationError

    from nba_assets.settings import settings_with

    try:
        return settings_with(values or {})
    except ValidationError as error:
        problems = "; ".join(
            f"NBA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise UsageError(f"bad setting {problems}") from None
