"""The Dagster UI serves our code location, rendered by a real headless Chromium."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=30000",
    "--window-size=1400,2600",  # the catalog renders only the rows in view: show them all
]  # fmt: skip


# Screenshots the browser tests keep (CI can publish the folder).
ARTIFACTS = Path(
    os.environ.get("NBA_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / ".test-artifacts")
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def webserver(tmp_path: Path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Chromium is not installed: `apt-get install -y chromium` (see .ci/run)")
    port = _free_port()
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "NBA_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-m", "nba_assets.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster-webserver exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    else:
        proc.kill()
        pytest.fail("dagster-webserver did not answer within 180 s")
    yield chromium, url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


@pytest.mark.browser
def test_asset_catalog_lists_every_dataset(webserver, tmp_path: Path) -> None:
    chromium, url = webserver
    page = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom",
         f"{url}/assets"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    dom = page.stdout
    for prefix in ("landing", "nba_raw", "nba_analytics", "nba_precompute", "nba_predictions"):
        assert prefix in dom, f"{prefix} not rendered; page starts {dom[:500]!r}"


@pytest.mark.browser
def test_asset_page_shows_the_business_description(webserver, tmp_path: Path) -> None:
    chromium, url = webserver
    page = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom",
         f"{url}/assets/nba_raw/nbac_player_boxscores"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert "Player box scores of the day" in page.stdout


@contextmanager
def nba_assets_ui(home: Path, log: Path) -> Iterator[str]:
    """`nba-assets ui` (replay server + `dg dev`: webserver and daemon) on a free port, with
    NBA_HOME at ``home``; yields its URL once the code location has loaded, and always stops it."""
    port = _free_port()
    env = {**os.environ, "NBA_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    nba_assets = Path(sys.executable).parent / "nba-assets"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(nba_assets), "ui", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    try:
        deadline = time.monotonic() + 240
        entries: list = []
        while time.monotonic() < deadline and not entries:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                answer = httpx.post(f"{url}/graphql", json={"query": query}, timeout=5).json()
                loaded = answer["data"]["workspaceOrError"]["locationEntries"]
                entries = [e for e in loaded if e["loadStatus"] == "LOADED"]
            except (httpx.HTTPError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        assert [e["name"] for e in entries] == ["nba_assets"], log.read_text()[-3000:]
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _graphql(url: str, query: str, **variables: object) -> dict:
    answer = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60
    ).json()
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


def test_nba_assets_ui_serves_the_code_location_through_dg(tmp_path: Path) -> None:
    log = tmp_path / "ui.log"
    with nba_assets_ui(tmp_path / "home", log):
        pass
    text = log.read_text()
    assert "dg dev" not in text  # no supersession notice pointing at it
    assert "backfill_policy" not in text and "allow_nonexistent_upstream" not in text


# The mutation the UI's "Materialize all" dialog sends for a partition range. Opened from a
# job's page, it names the job's partition set, and Dagster backfills the job as a job: runs of
# the job, each over as many days as the assets' backfill policy allows (single_run: all).
LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""

# The all-phases job selects every asset.
ASSET_KEYS = "{ assetNodes { assetKey { path } } }"

BACKFILL_STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
}"""


@pytest.mark.browser
def test_a_backfill_launched_from_the_ui_runs_every_asset_as_one_run(tmp_path: Path) -> None:
    import dagster as dg

    from nba_assets.defs.build import ALL_ASSETS_JOB

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is not installed: `make browser`"
    home, days = tmp_path / "home", ["2025-11-01", "2025-11-02"]
    repository = {"repositoryLocationName": "nba_assets", "repositoryName": "__repository__"}
    with nba_assets_ui(home, tmp_path / "ui.log") as url:
        keys = [n["assetKey"] for n in _graphql(url, ASSET_KEYS)["assetNodes"]]
        params = {
            "assetSelection": keys,
            "partitionNames": days,
            "fromFailure": False,
            "selector": {
                "partitionSetName": f"{ALL_ASSETS_JOB}_partition_set",
                "repositorySelector": repository,
            },
        }
        began = time.monotonic()
        wall0 = time.time()
        launched = _graphql(url, LAUNCH_BACKFILL, params=params)["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        instance = dg.DagsterInstance.from_config(str(home / "dagster"))
        deadline, status = time.monotonic() + 600, "REQUESTED"
        while status == "REQUESTED" and time.monotonic() < deadline:
            time.sleep(1)
            status = _graphql(url, BACKFILL_STATUS, id=backfill_id)["partitionBackfillOrError"][
                "status"
            ]
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        # The backfill ends when its runs are submitted; the run itself may still be going.
        while runs and not runs[0].is_finished and time.monotonic() < deadline:
            time.sleep(1)
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        took = time.monotonic() - began
        shot = ARTIFACTS / "ui_backfill.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}",
             f"--screenshot={shot}", f"{url}/runs/b/{backfill_id}?tab=runs"],
            capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        records = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        print(
            f"UI backfill, {len(keys)} assets x {len(days)} days: {len(runs)} run(s), {took:.1f}s;"
            + "".join(
                f" run created after {r.create_timestamp.timestamp() - wall0:.1f}s (the daemon's"
                f" backfill tick), ran {(r.end_time or 0) - (r.start_time or 0):.1f}s, finished"
                f" {(r.end_time or 0) - wall0:.1f}s after the launch"
                for r in records
            )
        )
        assert status == "COMPLETED_SUCCESS", (status, [(r.run_id, r.status) for r in runs])
        assert len(runs) == 1, [(r.run_id, r.tags) for r in runs]
        (run,) = runs
        assert run.status == dg.DagsterRunStatus.SUCCESS, run
        assert run.tags["dagster/asset_partition_range_start"] == days[0]
        assert run.tags["dagster/asset_partition_range_end"] == days[-1]
        for key in keys:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(key["path"])), limit=100
            ).records
            written = sorted(r.partition_key for r in records if r.run_id == run.run_id)
            assert written == days, (key, written)  # each day written once, nothing else
        assert shot.is_file() and shot.stat().st_size > 10_000
