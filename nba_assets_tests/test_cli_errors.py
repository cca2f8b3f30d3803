"""The CLI at its edges: causes of failed steps, bad arguments, and a report that only reads.

Every case runs ``nba_assets.cli.main`` in-process on a fresh NBA_HOME, against the real replay
server and real Dagster runs, and asserts the exit status and what is printed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
import pytest

from nba_assets import cli
from nba_assets.cli import runs as cli_runs
from nba_assets.defs.automation import root_cause
from nba_assets.replay.archive import load_archive
from nba_assets.settings import get_settings

DAY = "2025-11-01"
REPLAY = ["replay", "--start", DAY, "--end", DAY]
ENV = ("NBA_HOME", "DAGSTER_HOME", "NBA_NBA_STATS_BASE_URL", "NBA_ODDS_BASE_URL",
       "NBA_ODDS_API_KEY", "NBA_EXECUTOR", "NBA_DATASET_PREFIX")  # fmt: skip
# Permanent faults fail fast: two attempts, short waits.
FAST_RETRIES = {"NBA_HTTP_MAX_ATTEMPTS": "2", "NBA_HTTP_BACKOFF_MAX_SECONDS": "0.1"}
STEP_LINE = re.compile(r"  \[ *(\d+)\] (ok    |FAILED) (\S+)( \(\d+\.\ds\))?$")


def _use_home(mp: pytest.MonkeyPatch, home: Path) -> None:
    for var in ENV:
        mp.delenv(var, raising=False)
    for var, value in FAST_RETRIES.items():
        mp.setenv(var, value)
    mp.setenv("NBA_HOME", str(home))
    get_settings.cache_clear()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh NBA_HOME that does not exist yet (the conftest restores the environment)."""
    path = tmp_path / "home"
    _use_home(monkeypatch, path)
    return path


def _failures(out: str) -> dict[str, list[str]]:
    """Each FAILED step of the progress lines with the indented lines printed under it."""
    failed: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in out.splitlines():
        step = STEP_LINE.match(line)
        if step:
            current = failed.setdefault(step.group(3), []) if step.group(2) == "FAILED" else None
        elif current is not None and line.startswith("        "):
            current.append(line.strip())
        else:
            current = None
    return failed


# --- causes of failed steps ---------------------------------------------------------------------


def test_permanent_server_errors_print_each_source_error_and_exit_1(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*REPLAY, "--faults", "500:1.0:always"]) == 1
    out = capsys.readouterr().out
    failed = _failures(out)
    assert set(failed) == {"landing__scoreboardv2", "landing__events"}, out
    (scoreboard,) = failed["landing__scoreboardv2"]
    assert scoreboard.startswith(
        f"SourceError: nba_stats scoreboardv2 for game_date {DAY} failed after 2 attempts:"
        " HTTP 500 (url http://127.0.0.1:"
    )
    assert f"/stats/scoreboardv2?GameDate={DAY}&" in scoreboard
    (events,) = failed["landing__events"]
    assert events.startswith(f"SourceError: odds_api events for game_date {DAY} failed after 2")
    assert "apiKey=***" in events
    assert "Error occurred while executing op" not in out
    assert "no running event loop" not in out
    assert re.search(r"^run \S+ FAILED$", out, re.MULTILINE)


def test_bodies_that_are_never_json_print_the_source_error(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*REPLAY, "--faults", "malformed:1.0:always"]) == 1
    failed = _failures(capsys.readouterr().out)
    (scoreboard,) = failed["landing__scoreboardv2"]
    assert scoreboard.startswith(f"SourceError: nba_stats scoreboardv2 for game_date {DAY}")
    assert "HTTP 200 with a body that is not JSON" in scoreboard and "(url http://" in scoreboard


def test_a_payload_that_does_not_validate_prints_the_payload_error(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The shipped archive with one player's points of the day gone: the box score the replay
    # server answers then has a null in a required field.
    archive = load_archive(None)
    games = archive.player_games.with_row_index("row")
    first = games.filter(pl.col("GAME_DATE") == DAY).get_column("row")[0]
    broken = games.with_columns(
        PTS=pl.when(pl.col("row") == first).then(None).otherwise(pl.col("PTS"))
    ).drop("row")
    data = tmp_path / "data"
    dataclasses.replace(archive, player_games=broken).save(data)

    assert cli.main([*REPLAY, "--data", str(data)]) == 1
    out = capsys.readouterr().out
    failed = _failures(out)
    assert list(failed) == ["nba_raw__nbac_player_boxscores"], out
    (cause,) = failed["nba_raw__nbac_player_boxscores"]
    assert re.match(
        rf"PayloadError: nba_stats/\w+ for game_date {DAY}: LeagueGameLog row \d+ field PTS:", cause
    ), cause
    assert "(landed file: " in cause
    assert (home / "landing").is_dir()  # the payload stays landed for a look


# --- bad arguments: one line, exit 2, nothing fetched or written -------------------------------


def _tomorrow_eastern() -> str:
    return (dt.datetime.now(ZoneInfo("America/New_York")).date() + dt.timedelta(days=1)).isoformat()


BAD_ARGUMENTS = {
    "fault spec": (
        [*REPLAY, "--faults", "500:lots"],
        "argument --faults: fault spec part '500:lots': share 'lots' is not a number",
    ),
    "fault kind": ([*REPLAY, "--faults", "teapot:0.1"], "unknown kind 'teapot'"),
    "missing data": ([*REPLAY, "--data", "/no/such/folder"], "/no/such/folder does not exist"),
    "before the first partition": (
        ["replay", "--start", "2017-10-16", "--end", "2017-10-20"],
        "--start 2017-10-16 is before the first game day partition, 2017-10-17",
    ),
    "after today": (
        ["replay", "--start", "2025-11-01", "--end", _tomorrow_eastern()],
        f"--end {_tomorrow_eastern()} is after today's partition",
    ),
    "reversed": (
        ["replay", "--start", "2025-11-03", "--end", "2025-11-01"],
        "--end 2025-11-01 is before --start 2025-11-03",
    ),
    "blank prefix": ([*REPLAY, "--prefix", " "], "argument --prefix: dataset prefix ' ' must be"),
    "upper-case prefix": ([*REPLAY, "--prefix", "Test_"], "dataset prefix 'Test_' must be"),
    "prefix without _": ([*REPLAY, "--prefix", "test"], "dataset prefix 'test' must be"),
    "not a date": (["replay", "--start", "11/01/2025", "--end", DAY], "not a YYYY-MM-DD date"),
    "report reversed": (
        ["report", "--start", "2025-11-03", "--end", "2025-11-01"],
        "nba-assets report: --end 2025-11-01 is before --start 2025-11-03",
    ),
    "report prefix": (
        ["report", "--start", DAY, "--end", DAY, "--prefix", "x y_"],
        "dataset prefix 'x y_' must be",
    ),
    "server fault spec": (["replay-server", "--faults", "429"], "expected kind:share"),
    "server data": (["replay-server", "--data", "/no/such/folder"], "does not exist"),
    "server port": (["replay-server", "--port", "70000"], "port 70000 is not between 0 and 65535"),
    "server clock": (["replay-server", "--now", "yesterday"], "not an ISO time: 'yesterday'"),
}


@pytest.mark.parametrize(("argv", "expected"), BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_bad_arguments_exit_2_with_one_line_before_anything_happens(
    home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1, captured.err
    assert expected in captured.err
    assert "Traceback" not in captured.err
    assert not home.exists()  # no warehouse, no landing folder, no Dagster instance


def test_a_data_folder_that_holds_no_replay_data_exits_2(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a source file\n")
    for argv in ([*REPLAY, "--data", str(empty)], ["replay-server", "--data", str(empty)]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"--data {empty}" in err, err
        assert "holds no player_game_logs_lite_* file" in err
    assert not home.exists()


def test_a_bad_prefix_from_the_environment_is_refused_before_any_client(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NBA_DATASET_PREFIX", " ")
    for argv in (REPLAY, ["report", "--start", DAY, "--end", DAY]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "bad setting NBA_DATASET_PREFIX: dataset prefix ' ' must be" in err
    assert not home.exists()


# --- the report only reads ----------------------------------------------------------------------


def test_report_without_a_warehouse_says_so_and_creates_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "--start", DAY, "--end", "2025-11-02"]) == 0
    out = capsys.readouterr().out
    assert f"there is no warehouse at {home / 'warehouse.duckdb'}" in out
    assert "nba-assets replay --start" in out and "nba-assets demo" in out
    assert cli.main(["report", "--start", DAY, "--end", "2025-11-02", "--json", "--charts"]) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["systems"] == [] and payload["season_average"]["player_games"] == 0
    assert "there is no warehouse at" in captured.err
    assert not home.exists()


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A clean two-day replay into a fresh NBA_HOME, and what it printed."""
    home = tmp_path_factory.mktemp("replayed") / "home"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        _use_home(mp, home)
        assert cli.main(["replay", "--start", DAY, "--end", "2025-11-02"]) == 0
    get_settings.cache_clear()
    return home, printed.getvalue()


def test_progress_prints_each_finished_step_once_in_order(replayed: tuple[Path, str]) -> None:
    _, out = replayed
    steps = [STEP_LINE.match(line) for line in out.splitlines() if line.startswith("  [")]
    assert all(steps) and len(steps) > 40, out
    assert [int(m.group(1)) for m in steps if m] == list(range(1, len(steps) + 1))
    names = [m.group(3) for m in steps if m]
    assert len(set(names)) == len(names)
    assert all(m.group(2) == "ok    " and m.group(4) for m in steps if m)
    assert "nba_raw__nbac_player_boxscores" in names
    assert "nba_predictions__prediction_accuracy" in names


def test_report_writes_charts_only_when_asked(
    replayed: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home, _ = replayed
    _use_home(monkeypatch, home)
    charts = home / "reports" / f"{DAY}_2025-11-02"
    report = ["report", "--start", DAY, "--end", "2025-11-02"]
    assert cli.main(report) == 0
    out = capsys.readouterr().out
    assert "moving_average_v1" in out and "chart:" not in out
    assert not charts.exists()
    assert cli.main([*report, "--charts"]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in charts.iterdir()) == [
        "calibration.png",
        "hit_rate_by_edge.png",
        "mae_by_day.png",
    ]
    assert out.count("chart: ") == 3


def test_report_of_days_without_predictions_says_what_to_run(
    replayed: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home, _ = replayed
    _use_home(monkeypatch, home)
    assert cli.main(["report", "--start", "2025-12-01", "--end", "2025-12-02"]) == 0
    out = capsys.readouterr().out
    assert f"no predictions in {home / 'warehouse.duckdb'}" in out and "nba-assets replay" in out


# --- the progress printer on a real run ---------------------------------------------------------


class _LineMissing(ValueError):
    pass


@dg.asset
def _fine() -> None:
    return None


@dg.asset(deps=[_fine])
def _broken() -> None:
    try:
        {}["line"]
    except KeyError as error:
        raise _LineMissing("odds_api/event_odds for game_date 2025-11-01: no line") from error


def test_progress_reads_each_event_once_and_prints_our_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    progress = cli_runs.Progress(instance, "t1")
    progress.poll()  # before the run exists: nothing to read
    assert progress.run_id is None and capsys.readouterr().out == ""
    result = dg.materialize(
        [_fine, _broken], instance=instance, tags={cli_runs.REPLAY_TAG: "t1"}, raise_on_error=False
    )
    assert not result.success
    progress.poll()
    lines = capsys.readouterr().out.splitlines()
    assert STEP_LINE.match(lines[0]) and lines[0].startswith("  [  1] ok     _fine (")
    assert lines[1:] == [
        "  [  2] FAILED _broken",
        "        _LineMissing: odds_api/event_odds for game_date 2025-11-01: no line",
    ]
    cursor = progress.cursor
    assert cursor is not None and progress.run_id == result.run_id
    progress.poll()  # nothing new since the cursor: nothing printed, nothing re-read
    assert capsys.readouterr().out == "" and progress.cursor == cursor
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.error is not None
    assert root_cause(failure.step_failure_data.error).startswith("_LineMissing: ")


def test_a_dagster_home_that_is_not_a_directory_exits_2(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-dagster-home"
    monkeypatch.setenv("DAGSTER_HOME", str(missing))
    assert cli.main(REPLAY) == 2
    err = capsys.readouterr().err
    assert f"DAGSTER_HOME {missing} is not a directory" in err, err
    assert not missing.exists()
