"""The settings refuse a dataset prefix outside the one documented pattern."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from nba_assets.settings import Settings, check_dataset_prefix


@pytest.mark.parametrize("prefix", ["", "test_", "t_", "replay_2025_", "a1_b2_"])
def test_valid_prefixes_pass(prefix: str) -> None:
    assert Settings(dataset_prefix=prefix).dataset_prefix == prefix
    assert check_dataset_prefix(prefix) == prefix


@pytest.mark.parametrize(
    "prefix", [" ", "test", "Test_", "_test_", "1test_", "test-", "te st_", "test_ ", "tést_", "_"]
)
def test_other_prefixes_are_refused_from_the_environment(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBA_DATASET_PREFIX", prefix)
    with pytest.raises(ValidationError, match="must be empty or lower-case letters") as raised:
        Settings()
    assert raised.value.errors()[0]["loc"] == ("dataset_prefix",)
    with pytest.raises(ValueError, match=re.escape(repr(prefix))):
        check_dataset_prefix(prefix)
