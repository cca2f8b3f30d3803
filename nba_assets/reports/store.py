"""Where the grading charts go: a local folder by default, a GCS bucket in production.

The grading asset links each chart from its metadata instead of inlining it, so the event log
(Postgres in production) keeps a path or a ``gs://`` URI per chart, not the picture.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

OBJECT_ROOT = "reports"


class ReportsResource(dg.ConfigurableResource):
    """The reports store; one folder per dataset prefix, so replays never mix with production."""

    root: str
    prefix: str = ""
    gcs_bucket: str | None = None
    gcs_endpoint: str | None = None
    gcp_project: str | None = None
    _bucket: object | None = PrivateAttr(default=None)

    def _prefix_folder(self) -> str:
        return self.prefix.rstrip("_")

    def write(self, folder: str, name: str, body: bytes) -> str:
        """Store ``body`` as ``folder/name``; returns where it is (a path or a ``gs://`` URI)."""
        if self.gcs_bucket:
            return self._write_gcs(folder, name, body)
        directory = Path(self.root) / self._prefix_folder() / folder
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_bytes(body)
        partial.replace(path)  # a reader never sees half a chart
        return str(path)

    def _write_gcs(self, folder: str, name: str, body: bytes) -> str:
        from google.cloud import storage

        from nba_assets.gcs import make_storage_client

        if self._bucket is None:
            client = make_storage_client(self.gcp_project, self.gcs_endpoint)
            self._bucket = client.bucket(self.gcs_bucket)
        assert isinstance(self._bucket, storage.Bucket)
        parts = [OBJECT_ROOT, self._prefix_folder(), folder, name]
        blob = self._bucket.blob("/".join(p for p in parts if p))
        content_type = "image/png" if name.endswith(".png") else "application/octet-stream"
        blob.upload_from_string(body, content_type=content_type)
        return f"gs://{self.gcs_bucket}/{blob.name}"
