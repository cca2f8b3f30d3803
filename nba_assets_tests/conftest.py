"""Shared fixtures."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from nba_assets_tests.bigquery_emulator import (
    PROJECT,
    EmulatorNotInstalledError,
    start_bigquery_emulator,
)
from nba_assets_tests.gcs_emulator import start_gcs_emulator

# --- Cloud emulators: BigQuery (tests marked `bigquery`) and GCS (marked `gcs`) -----------------
# A missing emulator fails the test with the install command: never a silent skip.


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gcs: needs the GCS emulator (started by a fixture)")


def _serve(start: Callable[[Path], Any], folder: Path) -> Iterator[str]:
    """Start an emulator with ``start(folder)``, yield its endpoint, stop it afterwards."""
    try:
        emulator = start(folder)
    except EmulatorNotInstalledError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield emulator.endpoint
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a `local-bigquery` emulator running for the whole test session."""
    yield from _serve(start_bigquery_emulator, tmp_path_factory.mktemp("bigquery-emulator"))


@pytest.fixture(scope="session")
def bq_client(bigquery_emulator: str) -> bigquery.Client:
    """A real BigQuery client pointed at the emulator, with anonymous credentials."""
    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=bigquery_emulator),
    )


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a GCS emulator running for the whole test session."""
    yield from _serve(start_gcs_emulator, tmp_path_factory.mktemp("gcs-emulator"))


@pytest.fixture(scope="session")
def gcs_client(gcs_emulator: str) -> storage.Client:
    """A real GCS client pointed at the emulator, with anonymous credentials."""
    return storage.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=gcs_emulator),
    )


# --- end cloud emulators ------------------------------------------------------------------------


# --- Process state ---------------------------------------------------------------------------
# Tests point the settings at their own NBA_HOME (and emulators) through the environment; each
# test gets the environment and settings it started with back. (The CLI itself writes only
# Dagster's process switches there, see nba_assets.dagster_instance.RUN_ENV.)
@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    from nba_assets.settings import get_settings

    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


# In-process Dagster runs install their own SIGINT / SIGTERM handlers and can leave them behind;
# each test gets the handlers it started with back, so one test's run cannot change how a later
# test's child processes or pytest's own shutdown react to signals.
@pytest.fixture(autouse=True)
def _restore_signal_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)
