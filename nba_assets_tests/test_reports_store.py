"""The reports store keeps the grading charts in a local folder, or in GCS (on the emulator)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from google.cloud import storage

from nba_assets.reports.store import ReportsResource

PNG = b"\x89PNG\r\n\x1a\n" + b"chart"


def test_local_reports_keep_replays_apart(tmp_path: Path) -> None:
    prod = ReportsResource(root=str(tmp_path))
    replay = ReportsResource(root=str(tmp_path), prefix="test_")
    first = prod.write("grading_2025-11-01_2025-11-03", "calibration.png", PNG)
    second = replay.write("grading_2025-11-01_2025-11-03", "calibration.png", b"other")
    assert Path(first) == tmp_path / "grading_2025-11-01_2025-11-03" / "calibration.png"
    assert Path(second) == tmp_path / "test" / "grading_2025-11-01_2025-11-03" / "calibration.png"
    assert Path(first).read_bytes() == PNG
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["calibration.png"] * 2


@pytest.mark.gcs
def test_gcs_reports_are_objects_under_the_prefix(
    gcs_client: storage.Client, gcs_emulator: str, tmp_path: Path
) -> None:
    bucket = f"reports-{uuid.uuid4().hex[:12]}"
    gcs_client.create_bucket(bucket)
    store = ReportsResource(
        root=str(tmp_path / "unused"),
        prefix="test_",
        gcs_bucket=bucket,
        gcs_endpoint=gcs_emulator,
        gcp_project="test",
    )
    uri = store.write("grading_2025-11-01_2025-11-03", "mae_by_day.png", PNG)
    name = "reports/test/grading_2025-11-01_2025-11-03/mae_by_day.png"
    assert uri == f"gs://{bucket}/{name}"
    assert [b.name for b in gcs_client.list_blobs(bucket)] == [name]
    assert gcs_client.bucket(bucket).blob(name).download_as_bytes() == PNG
    assert not (tmp_path / "unused").exists()
