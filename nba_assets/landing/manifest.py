"""How scrape assets record what they landed, and how raw assets find it again.

Each scrape writes, per source / endpoint / game_date, the payload files plus ``_manifest.json``
naming them with URL, status, bytes and fetch time. The manifest is what raw parsers trust: a
day whose manifest is missing was never scraped, while a day without games has an empty one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from nba_assets.landing.zone import LandingZone

MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class LandedFile:
    """One landed payload. ``source_time`` is the source's clock when it answered (its Date
    header); ``snapshot_time`` is when a lines snapshot was taken (event odds only)."""

    name: str
    url: str
    status: int
    bytes: int
    fetched_at: str
    attempts: int
    source_time: str | None = None
    snapshot_time: str | None = None


def snapshot_time(entry: LandedFile) -> dt.datetime:
    """When a landed payload's data was taken: its lines snapshot's time, else its fetch time
    (payloads landed before snapshots were recorded)."""
    return dt.datetime.fromisoformat(entry.snapshot_time or entry.fetched_at)


def write_manifest(
    landing: LandingZone,
    source: str,
    endpoint: str,
    game_date: dt.date,
    files: Iterable[LandedFile],
) -> None:
    body = json.dumps([asdict(f) for f in files], indent=1).encode()
    landing.write(source, endpoint, game_date, MANIFEST, body)


def read_manifest(
    landing: LandingZone, source: str, endpoint: str, game_date: dt.date
) -> list[LandedFile] | None:
    """The day's manifest, or None when that endpoint was never scraped for that day."""
    body = landing.read_named(source, endpoint, game_date, MANIFEST)
    if body is None:
        return None
    return [LandedFile(**entry) for entry in json.loads(body)]


def landed_payloads(
    landing: LandingZone,
    source: str,
    endpoint: str,
    game_date: dt.date,
    missing_ok: bool = False,
) -> list[tuple[LandedFile, bytes]]:
    """Every payload the day's manifest names, with its bytes; with ``missing_ok``, none for a
    day never scraped.

    Raises:
        FileNotFoundError: the endpoint was not scraped for that day (unless ``missing_ok``),
            or a named file is gone.
    """
    manifest = read_manifest(landing, source, endpoint, game_date)
    if manifest is None and missing_ok:
        return []
    if manifest is None:
        raise FileNotFoundError(
            f"{source}/{endpoint} has no landed payloads for game_date {game_date}:"
            " materialize its scrape asset for that day first"
        )
    out = []
    for entry in manifest:
        body = landing.read_named(source, endpoint, game_date, entry.name)
        if body is None:
            raise FileNotFoundError(
                f"{source}/{endpoint} for game_date {game_date}: manifest names {entry.name}"
                " but the file is not in the landing zone"
            )
        out.append((entry, body))
    return out
