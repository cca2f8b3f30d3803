"""Start and stop the `gcp-storage-emulator` (a GCS JSON API on 127.0.0.1) for tests.

It lives in its own venv made by ``.ci/install_gcs_emulator.sh`` and keeps objects in memory.
"""

from __future__ import annotations

from pathlib import Path

from nba_assets_tests.bigquery_emulator import (
    PROJECT,
    EmulatorNotInstalledError,
    EmulatorProcess,
    emulator_home,
    free_port,
)

INSTALL_SCRIPT = ".ci/install_gcs_emulator.sh"


def start_gcs_emulator(
    workdir: Path, home: Path | None = None, timeout_seconds: float = 30.0
) -> EmulatorProcess:
    """Start the GCS emulator and wait until it answers.

    Raises:
        EmulatorNotInstalledError: ``.ci/install_gcs_emulator.sh`` has not been run.
        RuntimeError: the emulator exited or did not come up (with its stderr).
    """
    home = home or emulator_home()
    executable = home / "gcs-venv" / "bin" / "gcp-storage-emulator"
    if not executable.is_file():
        raise EmulatorNotInstalledError(
            f"the GCS emulator is not installed under {home}; "
            f"run `bash {INSTALL_SCRIPT}` (tests marked `gcs` need it)"
        )
    port = free_port()
    command = [str(executable), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    return EmulatorProcess.launch(
        "GCS",
        command,
        endpoint=f"http://127.0.0.1:{port}",
        probe_path=f"/storage/v1/b?project={PROJECT}",
        workdir=workdir,
        timeout_seconds=timeout_seconds,
    )
