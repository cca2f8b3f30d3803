"""The Kubernetes parts of production, checked against dagster-k8s's own classes.

The run launcher block of config/dagster.prod.yaml goes through ``K8sRunLauncher``'s config
schema and constructor, exactly as an instance loads it; config/run_config.k8s.yaml goes through
the run config schema of the job it names, built with ``NBA_EXECUTOR=k8s``; and the pod a step
would run in is built from both, as ``k8s_job_executor`` builds it. No cluster is contacted.
"""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._config import process_config, validate_config
from dagster._core.launcher import RunLauncher
from dagster._serdes import ConfigurableClassData
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import UserDefinedDagsterK8sConfig, construct_dagster_k8s_job
from pydantic import ValidationError

from nba_assets.dagster_instance import RUN_ENV
from nba_assets.defs.build import ALL_ASSETS_JOB, build_definitions
from nba_assets.settings import Settings

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
INSTANCE_YAML = CONFIG_DIR / "dagster.prod.yaml"
RUN_CONFIG_YAML = CONFIG_DIR / "run_config.k8s.yaml"

# A kubeconfig that parses and names a cluster nobody listens on: the launcher and the step
# handler build their API clients from it without connecting (outside a cluster they cannot read
# the in-cluster service account).
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: nobody
  user: {token: not-a-token}
contexts:
- name: nowhere
  context: {cluster: nowhere, user: nobody, namespace: nba-assets}
current-context: nowhere
"""


def launcher_block() -> dict[str, Any]:
    return yaml.safe_load(INSTANCE_YAML.read_text())["run_launcher"]


def prod_k8s_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "deployment": "prod",
        "executor": "k8s",
        "gcp_project": "nba-assets-prod",
        "gcs_bucket": "nba-assets-prod",
    }
    return Settings(**{**values, **overrides})


def build_launcher(tmp_path: Path) -> K8sRunLauncher:
    """The run launcher as the instance builds it from the file (its module, class and config),
    pointed at the kubeconfig above instead of the in-cluster service account."""
    block = launcher_block()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    config = {**block["config"], "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    data = ConfigurableClassData(block["module"], block["class"], yaml.safe_dump(config))
    launcher = data.rehydrate(as_type=RunLauncher)
    assert isinstance(launcher, K8sRunLauncher)
    return launcher


def test_launcher_block_passes_k8s_run_launchers_schema() -> None:
    block = launcher_block()
    assert (block["module"], block["class"]) == ("dagster_k8s", "K8sRunLauncher")
    result = validate_config(K8sRunLauncher.config_type(), block["config"])
    assert result.success, [error.message for error in result.errors or []]
    # The launcher's required field, the one the file once lacked, is what the schema enforces.
    without = {k: v for k, v in block["config"].items() if k != "instance_config_map"}
    missing = validate_config(K8sRunLauncher.config_type(), without)
    assert not missing.success
    assert 'Missing required config entry "instance_config_map"' in str(
        [error.message for error in missing.errors or []]
    )


def test_launcher_builds_from_the_file_with_every_field_it_needs(tmp_path: Path) -> None:
    # The constructor requires more than the schema does (a service account, a dagster_home).
    launcher = build_launcher(tmp_path)
    config = launcher_block()["config"]
    assert launcher.instance_config_map == config["instance_config_map"]
    assert launcher.dagster_home == config["dagster_home"]
    assert launcher.service_account_name == config["service_account_name"]
    assert launcher.postgres_password_secret == config["postgres_password_secret"]
    assert launcher.job_namespace == config["job_namespace"]
    assert sorted(launcher.env_vars) == sorted(f"{k}={v}" for k, v in RUN_ENV.items())


def test_k8s_executor_runs_the_production_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBA_ODDS_API_KEY", "not-a-key")  # the sources resource reads it from env
    defs = build_definitions(prod_k8s_settings())
    job = defs.resolve_job_def(ALL_ASSETS_JOB)
    assert job.executor_def is k8s_job_executor
    # Runs and backfills launched from the UI or a schedule's asset selection use it too.
    assert defs.resolve_implicit_global_asset_job_def().executor_def is k8s_job_executor
    # The local default is untouched.
    local = build_definitions(Settings(home=Path("/nonexistent-nba-home")))
    assert local.resolve_job_def(ALL_ASSETS_JOB).executor_def is dg.in_process_executor


def test_run_config_is_valid_for_the_job_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    text = RUN_CONFIG_YAML.read_text()
    assert f"`{ALL_ASSETS_JOB}`" in text, f"{RUN_CONFIG_YAML.name} names the job it is for"
    run_config = yaml.safe_load(text)
    monkeypatch.setenv("NBA_ODDS_API_KEY", "not-a-key")
    job = build_definitions(prod_k8s_settings()).resolve_job_def(ALL_ASSETS_JOB)

    resolved = dg.validate_run_config(job, run_config)
    executor_config = resolved["execution"]["k8s"]
    assert executor_config["max_concurrent"] == run_config["execution"]["config"]["max_concurrent"]
    # The same block against the executor's own schema, and a misspelt key is refused by both.
    schema = k8s_job_executor.config_schema.config_type
    assert validate_config(schema, run_config["execution"]["config"]).success
    misspelt = {"execution": {"config": {"max_concurent": 8}}}
    assert not validate_config(schema, misspelt["execution"]["config"]).success
    with pytest.raises(
        dg.DagsterInvalidConfigError, match='unexpected config entry "max_concurent"'
    ):
        dg.validate_run_config(job, misspelt)


def test_step_pods_inherit_the_launchers_env_and_get_the_run_configs_resources(
    tmp_path: Path,
) -> None:
    """The step pod spec ``k8s_job_executor`` would submit, built from the launcher in the file
    and the executor config in run_config.k8s.yaml the way its step handler merges them."""
    launcher = build_launcher(tmp_path)
    execution = yaml.safe_load(RUN_CONFIG_YAML.read_text())["execution"]["config"]
    processed = process_config(k8s_job_executor.config_schema.config_type, execution)
    assert processed.success and processed.value is not None
    executor_context = K8sContainerContext(
        run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(processed.value["step_k8s_config"])
    )
    run = dg.DagsterRun(job_name=ALL_ASSETS_JOB, run_id=str(uuid.uuid4()))
    context = K8sContainerContext.create_for_run(run, launcher, include_run_tags=False).merge(
        executor_context
    )
    job_config = context.get_k8s_job_config("nba-assets:test", launcher)
    manifest = construct_dagster_k8s_job(
        job_config,
        args=["dagster", "api", "execute_step"],
        job_name="dagster-step-test",
        user_defined_k8s_config=context.run_k8s_config,
        component="step_worker",
    ).to_dict()

    pod = manifest["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item["value"] for item in container["env"] if item.get("value")}
    assert {name: env.get(name) for name in RUN_ENV} == dict(RUN_ENV)
    assert env["DAGSTER_HOME"] == launcher.dagster_home
    env_from = {
        (source.get("config_map_ref") or source.get("secret_ref") or {}).get("name")
        for source in container["env_from"]
    }
    config = launcher_block()["config"]
    assert {*config["env_config_maps"], *config["env_secrets"]} <= env_from
    assert pod["service_account_name"] == config["service_account_name"]
    resources = execution["step_k8s_config"]["container_config"]["resources"]
    assert container["resources"]["requests"] == resources["requests"]
    assert container["resources"]["limits"] == resources["limits"]
    # Workers get the instance in their arguments, with its {env: DAGSTER_PG_*} references
    # unresolved: the password reaches the pod from the launcher's secret.
    (password,) = [item for item in container["env"] if item["name"] == "DAGSTER_PG_PASSWORD"]
    secret = password["value_from"]["secret_key_ref"]
    assert (secret["name"], secret["key"]) == (
        config["postgres_password_secret"],
        "postgresql-password",
    )


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"deployment": "local"}, "deployment local"),
        ({"gcs_bucket": None}, "bucket unset"),
    ],
)
def test_k8s_executor_is_refused_without_shared_backends(
    overrides: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match="NBA_EXECUTOR=k8s runs every step in its own pod"):
        prod_k8s_settings(**overrides)
    with pytest.raises(ValidationError, match=says):
        prod_k8s_settings(**overrides)


def test_k8s_executor_without_the_prod_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "dagster_k8s", None)  # what a venv without the extra sees
    monkeypatch.setenv("NBA_ODDS_API_KEY", "not-a-key")
    with pytest.raises(ImportError, match=re.escape("pip install 'nba-assets[prod]'")):
        build_definitions(prod_k8s_settings())


def test_k8s_executor_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "NBA_DEPLOYMENT": "prod", "NBA_EXECUTOR": "k8s", "NBA_GCS_BUCKET": "nba-assets-prod"
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert Settings().executor == "k8s"
    monkeypatch.setenv("NBA_EXECUTOR", "kubernetes")
    with pytest.raises(ValidationError, match="executor"):
        Settings()
