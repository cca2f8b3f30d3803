"""The landing zone as a Dagster resource: a local folder by default, a GCS bucket in production."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

import dagster as dg

from nba_assets.landing.zone import LandingZone, LocalLandingZone


class LandingResource(dg.ConfigurableResource):
    """The landing zone: a local folder by default, a GCS bucket in production."""

    backend: Literal["local", "gcs"] = "local"
    root: str = ""
    gcs_bucket: str | None = None
    gcs_endpoint: str | None = None
    gcp_project: str | None = None
    prefix: str = ""

    @cached_property
    def zone(self) -> LandingZone:
        if self.backend == "local":
            return LocalLandingZone(Path(self.root))
        from nba_assets.gcs import make_storage_client
        from nba_assets.landing.gcs import GcsLandingZone

        if not self.gcs_bucket:
            raise ValueError("NBA_GCS_BUCKET must be set for the gcs landing zone")
        client = make_storage_client(self.gcp_project, self.gcs_endpoint)
        return GcsLandingZone(self.gcs_bucket, client, prefix=self.prefix)
