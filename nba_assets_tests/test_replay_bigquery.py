"""``NBA_DEPLOYMENT=prod`` replay into BigQuery (the local emulator, the real client)."""

import os
from pathlib import Path

import duckdb
import pytest
from google.cloud import bigquery

from nba_assets import cli
from nba_assets.settings import get_settings
from nba_assets.tables import all_tables
from nba_assets.warehouse.bigquery import describe_table

START, END = "2025-11-01", "2025-11-02"
ENV = ("NBA_HOME", "DAGSTER_HOME", "NBA_DEPLOYMENT", "NBA_BIGQUERY_ENDPOINT", "NBA_GCP_PROJECT",
       "NBA_NBA_STATS_BASE_URL", "NBA_ODDS_BASE_URL", "NBA_ODDS_API_KEY", "NBA_DATASET_PREFIX",
       "NBA_GCS_BUCKET")  # fmt: skip


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch):
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _replay(monkeypatch: pytest.MonkeyPatch, home: Path, *args: str, **env: str) -> int:
    monkeypatch.setenv("NBA_HOME", str(home))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return cli.main(["replay", "--start", START, "--end", END, *args])


def _bigquery_counts(client: bigquery.Client) -> dict[str, int]:
    out = {}
    for spec in all_tables():
        sql = f"SELECT COUNT(*) FROM `test_{spec.dataset}.{spec.name}`"
        out[spec.qualified_name()] = next(iter(client.query(sql).result()))[0]
    return out


@pytest.mark.bigquery
@pytest.mark.gcs
def test_prod_replay_matches_duckdb_and_is_partitioned_and_clustered(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    bigquery_emulator: str,
    bq_client,
    gcs_emulator: str,
    gcs_client,
) -> None:
    bucket = gcs_client.create_bucket("nba-assets-test")
    prod = {
        "NBA_DEPLOYMENT": "prod",
        "NBA_BIGQUERY_ENDPOINT": bigquery_emulator,
        "NBA_GCP_PROJECT": bq_client.project,
        "NBA_GCS_BUCKET": bucket.name,
        "NBA_GCS_ENDPOINT": gcs_emulator,
    }
    assert _replay(monkeypatch, tmp_path / "refused", **prod) == 2  # no prefix: refused
    assert _replay(monkeypatch, tmp_path / "bq", "--prefix", "test_", **prod) == 0
    first = _bigquery_counts(bq_client)
    landed = {blob.name for blob in gcs_client.list_blobs(bucket.name)}
    assert "test_/nba_stats/leaguegamelog_players/2025-11-02/regular_season.json" in landed
    assert not (tmp_path / "bq" / "landing").exists()  # prod lands in the bucket only

    assert "NBA_DATASET_PREFIX" not in os.environ  # run values never go to the environment
    for var in prod:
        monkeypatch.delenv(var)
    assert _replay(monkeypatch, tmp_path / "duck") == 0
    with duckdb.connect(str(tmp_path / "duck" / "warehouse.duckdb"), read_only=True) as con:
        local = {
            spec.qualified_name(): con.execute(
                f"SELECT COUNT(*) FROM {spec.qualified_name()}"
            ).fetchone()[0]  # type: ignore[index]
            for spec in all_tables()
        }
    assert first == local
    assert local["nba_raw.nbac_player_boxscores"] == 142 + 182

    for spec in all_tables():
        info = describe_table(bq_client, f"{bq_client.project}.test_{spec.dataset}.{spec.name}")
        assert (info["partitioning_type"], info["partitioning_field"]) == ("DAY", "game_date")
        assert info["clustering_fields"] == list(spec.clustering), spec.name
    dataset = bq_client.get_dataset("test_nba_raw")
    assert dataset.default_table_expiration_ms == 7 * 24 * 3600 * 1000

    assert _replay(monkeypatch, tmp_path / "bq", "--prefix", "test_", **prod) == 0
    assert _bigquery_counts(bq_client) == first  # a rerun replaces, never duplicates
