"""The production landing zone: raw payloads as objects in a GCS bucket.

Object names mirror the local folder layout, ``[prefix/]source/endpoint/YYYY-MM-DD/name``, and
URIs are ``gs://bucket/<object name>``. An upload is atomic per object, so a reader never sees
half a payload (the local zone writes and renames for the same guarantee).
"""

from __future__ import annotations

import datetime as dt

from google.api_core.exceptions import NotFound
from google.cloud import storage

from nba_assets.gcs import GCS_SCHEME, split_uri


class GcsLandingZone:
    """A landing zone in a GCS bucket, with the methods of the local one."""

    def __init__(
        self,
        bucket: str,
        client: storage.Client,
        prefix: str = "",
        timeout_seconds: int = 60,
    ):
        self.bucket_name = bucket
        self.client = client
        self.prefix = prefix.strip("/")
        self.timeout_seconds = timeout_seconds
        self._bucket = client.bucket(bucket)

    def _folder(self, source: str, endpoint: str, game_date: dt.date) -> str:
        parts = [self.prefix, source, endpoint, game_date.isoformat()]
        return "/".join(p for p in parts if p) + "/"

    def _uri(self, name: str) -> str:
        return f"{GCS_SCHEME}{self.bucket_name}/{name}"

    def write(self, source: str, endpoint: str, game_date: dt.date, name: str, body: bytes) -> str:
        object_name = self._folder(source, endpoint, game_date) + name
        blob = self._bucket.blob(object_name)
        blob.upload_from_string(
            body, content_type="application/octet-stream", timeout=self.timeout_seconds
        )
        return self._uri(object_name)

    def read(self, uri: str) -> bytes:
        bucket, name = split_uri(uri)
        blob = self.client.bucket(bucket).blob(name)
        return blob.download_as_bytes(timeout=self.timeout_seconds)

    def read_named(self, source: str, endpoint: str, game_date: dt.date, name: str) -> bytes | None:
        blob = self._bucket.blob(self._folder(source, endpoint, game_date) + name)
        try:
            return blob.download_as_bytes(timeout=self.timeout_seconds)
        except NotFound:
            return None

    def list(self, source: str, endpoint: str, game_date: dt.date) -> list[str]:
        folder = self._folder(source, endpoint, game_date)
        # No delimiter: names below a snapshot's folder are the day's payloads too.
        blobs = self.client.list_blobs(self._bucket, prefix=folder, timeout=self.timeout_seconds)
        names = [b.name for b in blobs if not b.name.rsplit("/", 1)[-1].startswith(".")]
        return [self._uri(n) for n in sorted(names)]
