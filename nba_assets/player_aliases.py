"""The shipped alias table: sportsbook spellings (normalised) -> NBA.com ``player_lookup``."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def load_aliases() -> dict[str, str]:
    text = resources.files("nba_assets.lib").joinpath("data/player_aliases.csv").read_text()
    return {row["alias_lookup"]: row["player_lookup"] for row in csv.DictReader(text.splitlines())}
