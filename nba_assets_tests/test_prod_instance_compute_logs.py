"""The compute logs of config/dagster.prod.yaml outlive the pod that wrote them (GCS emulator).

A step's stdout and stderr are captured by the compute log manager the file configures, built
as the instance builds it, in a pod's local folder; the folder is then deleted (the pod is gone)
and another manager from the same file (the webserver's) reads the logs back from the bucket.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from dagster._core.storage.compute_log_manager import ComputeLogManager
from dagster._serdes import ConfigurableClassData
from google.cloud import storage

from nba_assets.settings import REPO_ROOT

INSTANCE_YAML = REPO_ROOT / "config" / "dagster.prod.yaml"

pytestmark = pytest.mark.gcs


def compute_log_manager(local_dir: Path) -> ComputeLogManager:
    """The file's compute log manager, staging its files in ``local_dir`` (a pod's disk)."""
    block = yaml.safe_load(INSTANCE_YAML.read_text())["compute_logs"]
    config = {**block["config"], "local_dir": str(local_dir)}
    data = ConfigurableClassData(block["module"], block["class"], yaml.safe_dump(config))
    return data.rehydrate(as_type=ComputeLogManager)


def test_step_logs_are_read_back_from_the_bucket_after_the_pod_is_gone(
    gcs_emulator: str,
    gcs_client: storage.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = f"compute-logs-{uuid.uuid4().hex[:12]}"
    gcs_client.create_bucket(bucket)
    monkeypatch.setenv("NBA_GCS_BUCKET", bucket)  # the file reads the bucket from the environment
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)  # its client talks to the emulator
    run_id = uuid.uuid4().hex
    log_key = [run_id, "compute_logs", "nba_raw__nbac_schedule"]

    pod_disk = tmp_path / "run-pod"
    with compute_log_manager(pod_disk).capture_logs(log_key):
        print("parsed 12 games", flush=True)
        print("unmatched sportsbook name: Nic Claxton", file=sys.stderr, flush=True)
    shutil.rmtree(pod_disk)

    logs = compute_log_manager(tmp_path / "webserver").get_log_data(log_key)
    assert logs.stdout is not None and b"parsed 12 games" in logs.stdout
    assert logs.stderr is not None and b"unmatched sportsbook name: Nic Claxton" in logs.stderr
    stored = sorted(blob.name for blob in gcs_client.list_blobs(bucket))
    prefix = yaml.safe_load(INSTANCE_YAML.read_text())["compute_logs"]["config"]["prefix"]
    assert stored == [
        f"{prefix}/storage/{run_id}/compute_logs/nba_raw__nbac_schedule.{ext}"
        for ext in ("err", "out")
    ]
