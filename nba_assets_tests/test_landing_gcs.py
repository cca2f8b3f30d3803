"""One landing-zone contract for the local folder and GCS (on the emulator)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from google.cloud import storage

from nba_assets.gcs import make_storage_client, split_uri
from nba_assets.landing.gcs import GcsLandingZone
from nba_assets.landing.zone import LandingZone, LocalLandingZone

DAY = dt.date(2024, 1, 15)


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.gcs)])
def zone(request: pytest.FixtureRequest, tmp_path: Path) -> LandingZone:
    if request.param == "local":
        return LocalLandingZone(tmp_path / "landing")
    client: storage.Client = request.getfixturevalue("gcs_client")
    bucket = f"landing-{uuid.uuid4().hex[:12]}"
    client.create_bucket(bucket)
    return GcsLandingZone(bucket, client, prefix="test_")


def test_write_then_read_and_list_one_day(zone: LandingZone) -> None:
    second = zone.write("nba_stats", "scoreboardv2", DAY, "b.json", b'{"b": 1}')
    first = zone.write("nba_stats", "scoreboardv2", DAY, "a.json", b'{"a": 1}')
    zone.write("nba_stats", "scoreboardv2", DAY + dt.timedelta(days=1), "a.json", b"next day")
    zone.write("nba_stats", "leaguegamelog", DAY, "a.json", b"other endpoint")
    assert zone.list("nba_stats", "scoreboardv2", DAY) == [first, second]
    assert zone.read(first) == b'{"a": 1}'
    assert zone.read_named("nba_stats", "scoreboardv2", DAY, "b.json") == b'{"b": 1}'


def test_a_day_with_nothing_landed_is_empty(zone: LandingZone) -> None:
    assert zone.list("odds_api", "events", DAY) == []
    assert zone.read_named("odds_api", "events", DAY, "events.json") is None


def test_rewriting_a_payload_replaces_it(zone: LandingZone) -> None:
    uri = zone.write("odds_api", "events", DAY, "events.json", b"old")
    assert zone.write("odds_api", "events", DAY, "events.json", b"new") == uri
    assert zone.read(uri) == b"new"
    assert zone.list("odds_api", "events", DAY) == [uri]


def test_a_large_binary_payload_round_trips(zone: LandingZone) -> None:
    body = bytes(range(256)) * 40_000  # 10 MB: past the client's single-request upload size
    uri = zone.write("odds_api", "props", DAY, "props.bin", body)
    assert zone.read(uri) == body


@pytest.mark.gcs
def test_gcs_objects_are_named_like_the_local_folders(gcs_emulator: str) -> None:
    client = make_storage_client("test", gcs_emulator)
    bucket = f"landing-{uuid.uuid4().hex[:12]}"
    client.create_bucket(bucket)
    zone = GcsLandingZone(bucket, client, prefix="test_")
    uri = zone.write("nba_stats", "scoreboardv2", DAY, "a.json", b"{}")
    assert uri == f"gs://{bucket}/test_/nba_stats/scoreboardv2/2024-01-15/a.json"
    assert [b.name for b in client.list_blobs(bucket)] == [split_uri(uri)[1]]


def test_split_uri_refuses_anything_but_a_gs_object() -> None:
    assert split_uri("gs://bucket/a/b.json") == ("bucket", "a/b.json")
    for bad in ("/tmp/a.json", "gs://bucket", "gs:///a.json", "s3://bucket/a.json"):
        with pytest.raises(ValueError, match="gs://"):
            split_uri(bad)
