"""``player_lookup``: the normalised player name every table joins on.

NBA.com spells names in ASCII in some feeds and with diacritics in others, and sportsbooks use
their own spellings ("Nicolas Claxton", "Herb Jones", "Vincent Williams Jr", "Portis, Bobby").
Normalising strips accents, case, punctuation, spaces and generational suffixes; the alias table
maps the remaining book spellings onto the NBA.com name.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping

import polars as pl

SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
# Letters that NFKD does not decompose into a base letter plus accents.
_TRANSLITERATE = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe"})
_PUNCTUATION = re.compile(r"[.'’‘`\"]")
_SEPARATORS = re.compile(r"[\s\-_]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


# Kept per name: a replay parses the same names on every game day (217,000 box-score rows of
# nine seasons name 1,352 players).
@functools.lru_cache(maxsize=1 << 16)
def player_lookup(name: str) -> str:
    """The join key of a player name: ``"Luka Dončić"`` and ``"luka doncic"`` give ``lukadoncic``.

    "Last, First" is read as "First Last"; Jr / Sr / II-V suffixes are dropped (except as the
    only token), as are accents, punctuation and spaces.
    """
    text = unicodedata.normalize("NFKD", name.strip().casefold()).translate(_TRANSLITERATE)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    tokens = [t for t in _SEPARATORS.split(_PUNCTUATION.sub("", text)) if t]
    kept = [t for i, t in enumerate(tokens) if i == 0 or t not in SUFFIXES]
    return _NOT_ALNUM.sub("", "".join(kept))


def with_player_lookup(
    df: pl.DataFrame, name_column: str, out: str = "player_lookup"
) -> pl.DataFrame:
    """``df`` plus a ``player_lookup`` column computed once per distinct name."""
    names = df.get_column(name_column).unique().drop_nulls()
    mapping = pl.DataFrame(
        {name_column: names, out: [player_lookup(n) for n in names]},
        schema={name_column: pl.String, out: pl.String},
    )
    return df.join(mapping, on=name_column, how="left")


def apply_aliases(lookups: pl.Expr, aliases: Mapping[str, str]) -> pl.Expr:
    """Map book spellings (already normalised) onto NBA.com lookups; others pass through."""
    return lookups.replace(dict(aliases))
