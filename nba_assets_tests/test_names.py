"""player_lookup normalisation and the alias table, on the spellings the data README lists."""

import polars as pl
import pytest

from nba_assets.lib.names import apply_aliases, player_lookup, with_player_lookup
from nba_assets.player_aliases import load_aliases


@pytest.mark.parametrize(
    ("nba_com", "other"),
    [
        ("Luka Doncic", "Luka Dončić"),  # ASCII game log vs diacritics in the lite logs
        ("Nikola Jokic", "Nikola Jokić"),
        ("Wendell Carter Jr.", "Wendell Carter Jr"),  # books drop the dot
        ("Bobby Portis", "Portis, Bobby"),  # Bovada's "Last, First"
        ("Isaiah Stewart", "Isaiah Stewart II"),
        ("Paul Reed", "Paul Reed Jr"),
        ("Jimmy Butler III", "Jimmy Butler"),
        ("P.J. Washington", "PJ Washington"),
        ("Kristaps Porziņģis", "Kristaps Porzingis"),
        ("D'Angelo Russell", "DAngelo Russell"),
    ],
)
def test_normalisation_alone_matches(nba_com: str, other: str) -> None:
    assert player_lookup(nba_com) == player_lookup(other)


@pytest.mark.parametrize(
    ("nba_com", "book"),
    [
        ("Nic Claxton", "Nicolas Claxton"),
        ("Herbert Jones", "Herb Jones"),
        ("Bub Carrington", "Carlton Carrington"),
        ("Ronald Holland II", "Ron Holland"),
        ("Vince Williams Jr.", "Vincent Williams Jr"),
    ],
)
def test_alias_table_maps_book_spellings(nba_com: str, book: str) -> None:
    assert player_lookup(nba_com) != player_lookup(book), "needs the alias table"
    frame = pl.DataFrame({"lookup": [player_lookup(book)]})
    mapped = frame.select(apply_aliases(pl.col("lookup"), load_aliases())).item()
    assert mapped == player_lookup(nba_com)


def test_different_players_stay_different() -> None:
    names = [
        "Jalen Williams",
        "Jaylin Williams",
        "Mark Williams",
        "Marcus Morris",
        "Markieff Morris",
    ]
    assert len({player_lookup(n) for n in names}) == len(names)


def test_with_player_lookup_keeps_rows_and_nulls() -> None:
    df = pl.DataFrame({"name": ["Luka Dončić", None, "Luka Doncic"]})
    out = with_player_lookup(df, "name")
    assert out.height == 3
    assert out.get_column("player_lookup").to_list() == ["lukadoncic", None, "lukadoncic"]
