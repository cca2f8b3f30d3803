"""The landing zone: raw source payloads as files, by source / endpoint / game_date.

A payload's name may hold a folder: event odds land under their snapshot's time,
``odds_api/event_odds/<game_date>/<snapshot>/<event_id>.json``, and are never overwritten.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Protocol


class LandingZone(Protocol):
    """Where scrapers drop payloads and raw parsers pick them up."""

    def write(self, source: str, endpoint: str, game_date: dt.date, name: str, body: bytes) -> str:
        """Store one payload; returns its URI."""
        ...

    def read(self, uri: str) -> bytes: ...

    def list(self, source: str, endpoint: str, game_date: dt.date) -> list[str]:
        """URIs of the payloads landed for that day, sorted by name."""
        ...

    def read_named(self, source: str, endpoint: str, game_date: dt.date, name: str) -> bytes | None:
        """The payload landed under that name for that day, or None when there is none."""
        ...


class LocalLandingZone:
    """A landing zone in a local folder (the default deployment)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _dir(self, source: str, endpoint: str, game_date: dt.date) -> Path:
        return self.root / source / endpoint / game_date.isoformat()

    def write(self, source: str, endpoint: str, game_date: dt.date, name: str, body: bytes) -> str:
        target = self._dir(source, endpoint, game_date) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a payload.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, target)
        return str(target)

    def read(self, uri: str) -> bytes:
        return Path(uri).read_bytes()

    def read_named(self, source: str, endpoint: str, game_date: dt.date, name: str) -> bytes | None:
        path = self._dir(source, endpoint, game_date) / name
        return path.read_bytes() if path.is_file() else None

    def list(self, source: str, endpoint: str, game_date: dt.date) -> list[str]:
        folder = self._dir(source, endpoint, game_date)
        if not folder.is_dir():
            return []
        # Names may hold a folder (a lines snapshot's time): every file below the day's.
        return sorted(
            str(p) for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
