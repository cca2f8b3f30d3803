"""The Dagster UI serves our code location, rendered by a real headless Chromium."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=30000",
    "--window-size=1400,2600",  # the catalog renders only the rows in view: show them all
]  # fmt: skip


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


def test_nba_assets_ui_serves_the_code_location_through_dg(tmp_path: Path) -> None:
    port = _free_port()
    home = tmp_path / "home"
    log = tmp_path / "ui.log"
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
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    text = log.read_text()
    assert "dg dev" not in text  # no supersession notice pointing at it
    assert "backfill_policy" not in text and "allow_nonexistent_upstream" not in text
