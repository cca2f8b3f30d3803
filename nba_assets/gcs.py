"""The GCS client every bucket-backed store uses (landing zone, model store, reports)."""

from __future__ import annotations

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

GCS_SCHEME = "gs://"


def make_storage_client(project: str | None, endpoint: str | None = None) -> storage.Client:
    """A GCS client: credentials from the environment, or anonymous at ``endpoint`` (emulator)."""
    if endpoint:
        return storage.Client(
            project=project or "test",
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    return storage.Client(project=project)


def split_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/name`` -> ``(bucket, name)``; raises ValueError for anything else."""
    bucket, _, name = uri.removeprefix(GCS_SCHEME).partition("/")
    if not uri.startswith(GCS_SCHEME) or not bucket or not name:
        raise ValueError(f"not a gs://bucket/object URI: {uri!r}")
    return bucket, name
