"""Start and stop the `local-bigquery` emulator (a BigQuery REST API on 127.0.0.1) for tests.

The emulator lives in its own Python 3.13 venv made by ``.ci/install_bigquery_emulator.sh`` and
runs with a HOME of its own that holds the DuckDB extensions it needs (it cannot download them).
``EmulatorProcess`` is the part every local emulator shares: start, wait until it answers, stop.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALL_SCRIPT = ".ci/install_bigquery_emulator.sh"
EMULATOR_HOME_ENV = "NBA_EMULATOR_HOME"
PROJECT = "test"


class EmulatorNotInstalledError(RuntimeError):
    """An emulator's venv is missing; its ``.ci/install_*_emulator.sh`` script makes it."""


def emulator_home() -> Path:
    """Where the install scripts put the emulators (``$NBA_EMULATOR_HOME`` or ``.ci/.emulator``)."""
    configured = os.environ.get(EMULATOR_HOME_ENV)
    return Path(configured) if configured else REPO_ROOT / ".ci" / ".emulator"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class EmulatorProcess:
    """One running emulator; ``endpoint`` is the ``api_endpoint`` for the real client."""

    name: str
    endpoint: str
    process: subprocess.Popen[bytes]
    stderr_path: Path
    started_in_seconds: float

    @classmethod
    def launch(
        cls,
        name: str,
        command: list[str],
        endpoint: str,
        probe_path: str,
        workdir: Path,
        env: dict[str, str] | None = None,
        timeout_seconds: float = 60.0,
    ) -> EmulatorProcess:
        """Run ``command`` and wait until ``endpoint + probe_path`` answers 200.

        Raises:
            RuntimeError: the process exited or did not answer within ``timeout_seconds``;
                the message carries the end of its stderr.
        """
        workdir.mkdir(parents=True, exist_ok=True)
        stderr_path = workdir / f"{name}-{endpoint.rsplit(':', 1)[-1]}.stderr"
        began = time.monotonic()
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                command,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                # A shell that starts pytest in the background ignores SIGINT, and children
                # inherit that; stop() relies on SIGINT, so give the emulator the default back.
                preexec_fn=_default_sigint,
            )
        emulator = cls(name, endpoint, process, stderr_path, 0.0)
        emulator._wait_until_ready(endpoint + probe_path, began, timeout_seconds)
        emulator.started_in_seconds = time.monotonic() - began
        return emulator

    def _wait_until_ready(self, probe: str, began: float, timeout_seconds: float) -> None:
        while time.monotonic() - began < timeout_seconds:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the {self.name} emulator exited with code {self.process.returncode} before"
                    f" it was ready; its stderr ends with:\n{self.stderr_tail()}"
                )
            try:
                with urllib.request.urlopen(probe, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"the {self.name} emulator did not answer on {self.endpoint} within"
            f" {timeout_seconds:.0f}s; its stderr ends with:\n{self.stderr_tail()}"
        )

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no stderr captured)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty)"

    def stop(self, timeout_seconds: float = 20.0) -> None:
        """SIGINT (both emulators exit cleanly on it), then SIGKILL if it does not."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout_seconds)


def start_bigquery_emulator(
    workdir: Path, home: Path | None = None, timeout_seconds: float = 60.0
) -> EmulatorProcess:
    """Start `local-bigquery` with its data under ``workdir`` and wait until it answers.

    Raises:
        EmulatorNotInstalledError: ``.ci/install_bigquery_emulator.sh`` has not been run.
        RuntimeError: the emulator exited or did not come up (with its stderr).
    """
    home = home or emulator_home()
    executable = home / "venv" / "bin" / "local-bigquery"
    extensions = home / "home" / ".duckdb" / "extensions"
    if not executable.is_file() or not extensions.is_dir():
        raise EmulatorNotInstalledError(
            f"the BigQuery emulator is not installed under {home}; "
            f"run `bash {INSTALL_SCRIPT}` (tests marked `bigquery` need it)"
        )
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port, grpc_port = free_port(), free_port()
    command = [
        str(executable),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--grpc-port",
        str(grpc_port),
        "--data-dir",
        str(data_dir),
    ]
    return EmulatorProcess.launch(
        "BigQuery",
        command,
        endpoint=f"http://127.0.0.1:{port}",
        probe_path=f"/bigquery/v2/projects/{PROJECT}/datasets",
        workdir=workdir,
        env={"HOME": str(home / "home")},
        timeout_seconds=timeout_seconds,
    )
