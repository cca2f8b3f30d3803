"""Resources, built in one place per deployment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nba_assets.landing.resource import LandingResource
from nba_assets.reports.store import ReportsResource
from nba_assets.settings import Settings
from nba_assets.warehouse.resource import WarehouseResource

if TYPE_CHECKING:
    from nba_assets.warehouse.base import Warehouse


def warehouse_resource(settings: Settings) -> WarehouseResource:
    """The deployment's warehouse resource: DuckDB locally, BigQuery in production."""
    prod = settings.deployment == "prod"
    return WarehouseResource(
        backend="bigquery" if prod else "duckdb",
        duckdb_path=str(settings.warehouse_path),
        prefix=settings.dataset_prefix,
        gcp_project=settings.gcp_project,
        bigquery_endpoint=settings.bigquery_endpoint,
        bigquery_location=settings.bigquery_location,
        job_timeout_seconds=settings.bigquery_job_timeout_seconds,
        replay_table_expiration_days=settings.replay_table_expiration_days,
        lock_timeout_seconds=settings.warehouse_lock_timeout_seconds,
    )


def warehouse_for(settings: Settings) -> Warehouse:
    """The deployment's warehouse, for code outside a run (the CLI's reads, the run guards)."""
    return warehouse_resource(settings).get()


def build_resources(settings: Settings) -> dict[str, object]:
    """Every resource the definitions need, for the deployment ``settings`` describe."""
    from nba_assets.models.io_manager import PointsModelIOManager
    from nba_assets.models.resource import ModelsResource
    from nba_assets.sources.resource import SourcesResource
    from nba_assets.warehouse.io_manager import WarehouseIOManager

    prod = settings.deployment == "prod"
    warehouse = warehouse_resource(settings)
    # Production lands in GCS; without a bucket (a replay against emulators, say) it lands in
    # the local folder, as the default deployment does.
    landing = LandingResource(
        backend="gcs" if prod and settings.gcs_bucket else "local",
        root=str(settings.landing_dir),
        gcs_bucket=settings.gcs_bucket,
        gcs_endpoint=settings.gcs_endpoint,
        gcp_project=settings.gcp_project,
        prefix=settings.dataset_prefix,
    )
    models = ModelsResource(
        root=str(settings.models_dir),
        prefix=settings.dataset_prefix,
        gcs_bucket=settings.gcs_bucket if prod else None,
        gcs_endpoint=settings.gcs_endpoint,
        gcp_project=settings.gcp_project,
    )
    return {
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "points_model_io_manager": PointsModelIOManager(models=models, warehouse=warehouse),
        "landing": landing,
        "sources": SourcesResource.from_settings(settings),
        "models": models,
        "reports": ReportsResource(
            root=str(settings.reports_dir),
            prefix=settings.dataset_prefix,
            gcs_bucket=settings.gcs_bucket if prod else None,
            gcs_endpoint=settings.gcs_endpoint,
            gcp_project=settings.gcp_project,
        ),
    }
