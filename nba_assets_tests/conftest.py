"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from nba_assets_tests.bigquery_emulator import (
    PROJECT,
    BigQueryEmulator,
    EmulatorNotInstalledError,
)

# --- BigQuery emulator (tests marked `bigquery`) -------------------------------------------------


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a `local-bigquery` emulator running for the whole test session."""
    try:
        emulator = BigQueryEmulator.start(tmp_path_factory.mktemp("bigquery-emulator"))
    except EmulatorNotInstalledError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield emulator.endpoint
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def bq_client(bigquery_emulator: str) -> bigquery.Client:
    """A real BigQuery client pointed at the emulator, with anonymous credentials."""
    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=bigquery_emulator),
    )


# --- end BigQuery emulator -----------------------------------------------------------------------
