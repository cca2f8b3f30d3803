"""The model store as a Dagster resource: local by default, GCS when a bucket is configured."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from nba_assets.models.store import LocalModelStore, ModelStore


class ModelsResource(dg.ConfigurableResource):
    """Where the points models are stored.

    The points-model IO manager saves and loads boosters through it; the ``points_model`` asset
    only looks up a stored model it may reuse, and the walk-forward check reads stored metadata.
    A local folder by default, a GCS bucket when one is configured (production). Replays (a
    dataset ``prefix``) keep their models in a sub-folder of that name, apart from the
    production models.
    """

    root: str
    prefix: str = ""
    gcs_bucket: str | None = None
    gcs_endpoint: str | None = None
    gcp_project: str | None = None

    def get(self) -> ModelStore:
        folder = self.prefix.rstrip("_")
        if self.gcs_bucket:
            from nba_assets.gcs import make_storage_client
            from nba_assets.models.gcs import GcsModelStore

            client = make_storage_client(self.gcp_project, self.gcs_endpoint)
            return GcsModelStore(self.gcs_bucket, client, prefix=f"models/{folder}".rstrip("/"))
        root = Path(self.root)
        return LocalModelStore(root / folder if folder else root)
