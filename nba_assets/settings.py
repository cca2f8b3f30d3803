"""One settings object for the whole platform, read once from the environment (prefix ``NBA_``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# Dataset prefixes name BigQuery datasets, DuckDB schemas and GCS folders alike: empty (the
# production datasets) or lower-case letters, digits and underscores, from a letter to a "_".
DATASET_PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9_]*_")


def check_dataset_prefix(prefix: str) -> str:
    """``prefix`` itself when it is a valid dataset prefix ("" or e.g. "test_").

    Raises:
        ValueError: naming the prefix and the pattern it must match.
    """
    if prefix and not DATASET_PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError(
            f"dataset prefix {prefix!r} must be empty or lower-case letters, digits and"
            " underscores, starting with a letter and ending in '_' (e.g. 'test_')"
        )
    return prefix


class Settings(BaseSettings):
    """Where the platform keeps its state and which backends it talks to.

    ``local`` (the default) is DuckDB, a local landing folder and the replay server;
    ``prod`` is BigQuery, GCS and the real source APIs, with credentials from the environment.
    """

    model_config = SettingsConfigDict(env_prefix="NBA_", extra="ignore")

    deployment: Literal["local", "prod"] = "local"
    home: Path = Field(default=REPO_ROOT / ".nba_home")
    dataset_prefix: str = ""
    # In-process is faster on one machine: a process per step costs about 3 s (see benchmarks).
    # `k8s` (production only) runs each step of a launched run in its own pod.
    executor: Literal["in_process", "multiprocess", "k8s"] = "in_process"
    allow_prod_replay: bool = False
    # A CLI replay runs a long range as one run per this many seasons: a run holds its range's
    # tables in memory. Measured on nine seasons: 1 season 1.90 GB peak and 746 s, 2 seasons
    # 2.41 GB and 599 s, the whole range in one run 4.27 GB and 653 s (README).
    replay_seasons_per_run: int = Field(default=1, ge=1)
    # The longest a DuckDB warehouse access waits for the file: for another step's lock, or for
    # a connection opened outside the pipeline (a notebook, the DuckDB CLI) to close.
    warehouse_lock_timeout_seconds: float = 300.0

    # Sources: scrapers only ever see a base URL. Unset, local talks to the replay server on
    # replay_port and prod to the real APIs.
    nba_stats_base_url: str | None = None
    odds_base_url: str | None = None
    odds_api_key: SecretStr = SecretStr("")
    replay_port: int = 8765
    http_timeout_seconds: float = 20.0
    http_max_concurrency: int = 8
    http_max_attempts: int = 6
    http_backoff_max_seconds: float = 30.0

    # Production backends.
    gcp_project: str | None = None
    bigquery_location: str = "US"
    bigquery_endpoint: str | None = None
    bigquery_job_timeout_seconds: float = 600.0
    gcs_bucket: str | None = None
    gcs_endpoint: str | None = None
    replay_table_expiration_days: int = 7

    @field_validator("dataset_prefix")
    @classmethod
    def _dataset_prefix_pattern(cls, prefix: str) -> str:
        # Refused here, so no client is ever built for a prefix like " " or "Test".
        return check_dataset_prefix(prefix)

    @model_validator(mode="after")
    def _k8s_executor_only_in_prod(self) -> Settings:
        # Step pods share no disk: a DuckDB file or a local landing folder written by one step's
        # pod is not there for the next one.
        if self.executor == "k8s" and (self.deployment != "prod" or not self.gcs_bucket):
            raise ValueError(
                "NBA_EXECUTOR=k8s runs every step in its own pod, so steps must share the"
                " production backends: set NBA_DEPLOYMENT=prod and NBA_GCS_BUCKET (landing zone,"
                f" models, reports), or use NBA_EXECUTOR=in_process (deployment {self.deployment},"
                f" bucket {self.gcs_bucket or 'unset'})"
            )
        return self

    @property
    def stats_url(self) -> str:
        if self.nba_stats_base_url:
            return self.nba_stats_base_url
        if self.deployment == "prod":
            return "https://stats.nba.com/stats"
        return f"http://127.0.0.1:{self.replay_port}/stats"

    @property
    def odds_url(self) -> str:
        if self.odds_base_url:
            return self.odds_base_url
        if self.deployment == "prod":
            return "https://api.the-odds-api.com/v4"
        return f"http://127.0.0.1:{self.replay_port}/v4"

    @property
    def warehouse_path(self) -> Path:
        """The embedded DuckDB warehouse file."""
        return self.home / "warehouse.duckdb"

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def run_failure_log(self) -> Path:
        """Failed runs and their step errors, one JSON object a line (the run-failure sensor)."""
        return self.home / "logs" / "run_failures.jsonl"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()


def settings_with(values: Mapping[str, str]) -> Settings:
    """The settings from the environment with ``values`` over them: one command's run values
    (settings by field name, as text), validated as the environment's are."""
    return Settings(**cast(dict[str, Any], values)) if values else get_settings()
