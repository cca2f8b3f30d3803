"""config/dagster.prod.yaml passes Dagster's instance config schema (no `prod` extra needed).

test_prod_instance_postgres.py loads it for real on a PostgreSQL server and
test_prod_instance_k8s.py checks its launcher against dagster-k8s; this test catches what breaks
it without either: a key Dagster does not know, a wrong type, the driver scheme, the launcher's
required ConfigMap, the batching env.
"""

from pathlib import Path

from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.run_coordinator import QueuedRunCoordinator

from nba_assets.dagster_instance import RUN_ENV

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


def test_prod_instance_config_passes_dagsters_schema() -> None:
    config, custom_instance_class = dagster_instance_config(str(CONFIG_DIR), "dagster.prod.yaml")
    assert custom_instance_class is None
    postgres_db = config["storage"]["postgres"]["postgres_db"]
    # SQLAlchemy 2.1 maps postgresql:// to psycopg 3, which the prod extra does not install.
    assert postgres_db["scheme"] == "postgresql+psycopg2"
    assert {
        postgres_db[k]["env"] for k in ("hostname", "port", "username", "password", "db_name")
    } == {
        "DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    }  # fmt: skip
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    assert launcher["config"]["instance_config_map"]
    env_vars = launcher["config"]["env_vars"]
    assert sorted(env_vars) == sorted(f"{name}={value}" for name, value in RUN_ENV.items())


def test_prod_run_queue_builds_the_queued_coordinator(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text((CONFIG_DIR / "dagster.prod.yaml").read_text())
    ref = InstanceRef.from_dir(str(tmp_path))
    assert ref.storage_data is not None
    assert ref.storage_data.module_name == "dagster_postgres"
    coordinator = ref.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    # Run limits and pools live in the instance's concurrency block, which the queue reads.
    config, _ = dagster_instance_config(str(CONFIG_DIR), "dagster.prod.yaml")
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 4
    assert config["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}
    assert config["run_retries"]["enabled"] and not config["run_retries"]["max_retries"]
