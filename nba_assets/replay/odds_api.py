"""The Odds API v4 endpoints of the replay server: events and event odds of basketball_nba.

Like the real API, the live endpoints answer at the server's clock: an event is listed until it
tips off, and its odds are the latest pull of each line taken by then. The historical endpoints
(``/v4/historical/...?date=T``) answer as the live ones did at ``T`` (never later than the
clock), wrapped with the snapshot's ``timestamp``: that is how a past day's lines are replayed.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import polars as pl

from nba_assets.replay.archive import Archive
from nba_assets.replay.responses import HttpError, Response, json_response

ODDS_QUOTA = 1_000_000

PROP_MARKETS = (
    "player_points",
    "player_rebounds",
    "player_assists",
    "player_threes",
    "player_points_rebounds_assists",
    "player_blocks",
    "player_steals",
    "player_double_double",
    "player_triple_double",
)
# Markets The Odds API knows that the archive has no lines for; asking for them is legal.
OTHER_MARKETS = frozenset(
    {
        "h2h",
        "spreads",
        "totals",
        "outrights",
        "player_points_rebounds",
        "player_points_assists",
        "player_rebounds_assists",
        "player_blocks_steals",
        "player_turnovers",
        "player_first_basket",
    }
)
YES_NO_MARKETS = frozenset({"player_double_double", "player_triple_double"})
US_REGIONS = frozenset({"us", "us2"})
ALL_REGIONS = frozenset({"us", "us2", "us_dfs", "us_ex", "uk", "eu", "au"})
BOOKMAKER_TITLES = {
    "betmgm": "BetMGM",
    "betonlineag": "BetOnline.ag",
    "betrivers": "BetRivers",
    "bovada": "Bovada",
    "draftkings": "DraftKings",
    "fanatics": "Fanatics",
    "fanduel": "FanDuel",
    "williamhill_us": "Caesars",
}


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OddsApi:
    """Answers The Odds API v4 requests from an archive and counts the quota they use."""

    def __init__(self, archive: Archive) -> None:
        # Plain lists, indexed once: an answer reads tens of rows, where each polars call
        # would cost more than the answer (a replay of nine seasons asks tens of thousands).
        self._events: list[dict[str, Any]] = (
            archive.props.group_by("event_id")
            .agg(
                pl.col("commence_time").first(),
                pl.col("home_team").first(),
                pl.col("away_team").first(),
            )
            .sort("commence_time", "event_id")
            .to_dicts()
        )
        self._commence_times = [e["commence_time"] for e in self._events]
        self._event_index = {e["event_id"]: e for e in self._events}
        # Each event's lines in archive order (snapshots without a time are never served),
        # as rows for the events asked about lately: all of them cost a second at start and
        # 200 MB, and a scrape asks about one day's events at a time.
        self._frames_by_event = {
            str(key[0]): frame
            for key, frame in archive.props.filter(pl.col("snapshot_time").is_not_null())
            .partition_by("event_id", as_dict=True)
            .items()
        }
        self._lines = lru_cache(maxsize=32)(self._event_lines)
        self._usage_lock = threading.Lock()
        self._requests_used = 0

    def handle(self, parts: list[str], params: dict[str, str], now: datetime) -> Response:
        """Answer a request whose path parts after /v4 are `parts`."""
        if not params.get("apiKey"):
            raise HttpError(
                401,
                {
                    "message": "API key is missing. Pass it in the apiKey query parameter.",
                    "error_code": "MISSING_KEY",
                },
            )
        historical = parts[:1] == ["historical"]
        if historical:
            parts = parts[1:]
        if len(parts) < 3 or parts[0] != "sports" or parts[2] != "events" or len(parts) > 5:
            raise HttpError(404, {"message": "Not found", "error_code": "NOT_FOUND"})
        if parts[1] != "basketball_nba":
            raise HttpError(
                404, {"message": f"Unknown sport {parts[1]}", "error_code": "UNKNOWN_SPORT"}
            )
        date_format = params.get("dateFormat", "iso")
        if date_format not in ("iso", "unix"):
            raise self._unprocessable("dateFormat must be iso or unix", "INVALID_DATE_FORMAT")
        at = self._historical_time(params, now) if historical else now
        if len(parts) == 3:
            payload, cost = self._odds_events(params, at, date_format), 0
        elif len(parts) == 5 and parts[4] == "odds":
            payload, cost = self._odds_event_odds(parts[3], params, at, date_format, historical)
        else:
            raise HttpError(404, {"message": "Not found", "error_code": "NOT_FOUND"})
        if historical:
            payload, cost = self._historical(payload, parts, at, date_format), cost * 10
        with self._usage_lock:
            self._requests_used += cost
            used = self._requests_used
        usage = {
            "x-requests-remaining": str(max(0, ODDS_QUOTA - used)),
            "x-requests-used": str(used),
            "x-requests-last": str(cost),
        }
        return json_response(200, payload, usage)

    @staticmethod
    def _unprocessable(message: str, code: str) -> HttpError:
        return HttpError(422, {"message": message, "error_code": code})

    def _odds_time(self, params: dict[str, str], name: str) -> str | None:
        value = params.get(name)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise self._unprocessable(
                f"{name} must be an ISO 8601 time such as 2025-11-02T00:00:00Z",
                "INVALID_" + re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper(),
            )
        return _utc_text(moment)

    def _historical_time(self, params: dict[str, str], now: datetime) -> datetime:
        """The ``date`` of a historical request, never later than the server's clock."""
        text = self._odds_time(params, "date")
        if text is None:
            raise self._unprocessable("Missing date parameter", "MISSING_HISTORICAL_TIMESTAMP")
        return min(datetime.fromisoformat(text.replace("Z", "+00:00")), now)

    def _historical(
        self, payload: Any, parts: list[str], at: datetime, date_format: str
    ) -> dict[str, Any]:
        """A historical answer: the live answer at ``at`` under the snapshot it came from."""
        if len(parts) == 3:
            # Event listings are known at any time; the snapshot is the time asked for.
            taken = _utc_text(at)
        else:
            taken = self._latest_snapshot(parts[3], at) or _utc_text(at)
        return {
            "timestamp": self._time_out(taken, date_format),
            "previous_timestamp": None,
            "next_timestamp": None,
            "data": payload,
        }

    def _event_lines(self, event_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        """The event's lines in archive order and its snapshot times in order; an unknown
        event has none."""
        frame = self._frames_by_event.get(event_id)
        lines = frame.to_dicts() if frame is not None else []
        return lines, sorted({r["snapshot_time"] for r in lines})

    def _latest_snapshot(self, event_id: str, at: datetime) -> str | None:
        _, snapshots = self._lines(event_id)
        taken = bisect_right(snapshots, _utc_text(at))
        return snapshots[taken - 1] if taken else None

    @staticmethod
    def _time_out(iso_text: str, date_format: str) -> str | int:
        if date_format == "unix":
            return int(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp())
        return iso_text

    def _event_payload(self, event: dict[str, Any], date_format: str) -> dict[str, Any]:
        return {
            "id": event["event_id"],
            "sport_key": "basketball_nba",
            "sport_title": "NBA",
            "commence_time": self._time_out(event["commence_time"], date_format),
            "home_team": event["home_team"],
            "away_team": event["away_team"],
        }

    def _odds_events(
        self, params: dict[str, str], now: datetime, date_format: str
    ) -> list[dict[str, Any]]:
        start = self._odds_time(params, "commenceTimeFrom")
        end = self._odds_time(params, "commenceTimeTo")
        # An event is listed until it tips off.
        first = bisect_right(self._commence_times, _utc_text(now))
        if start is not None:
            first = max(first, bisect_left(self._commence_times, start))
        last = bisect_right(self._commence_times, end) if end is not None else len(self._events)
        return [self._event_payload(e, date_format) for e in self._events[first:last]]

    def _odds_event_odds(
        self,
        event_id: str,
        params: dict[str, str],
        now: datetime,
        date_format: str,
        historical: bool = False,
    ) -> tuple[dict[str, Any], int]:
        regions = [r for r in params.get("regions", "").split(",") if r]
        books = [b for b in params.get("bookmakers", "").split(",") if b]
        if not regions and not books:
            raise self._unprocessable("Missing regions or bookmakers parameter", "MISSING_REGION")
        unknown_regions = [r for r in regions if r not in ALL_REGIONS]
        if unknown_regions:
            raise self._unprocessable(f"Invalid regions {unknown_regions}", "INVALID_REGION")
        markets = [m for m in params.get("markets", "h2h").split(",") if m]
        unknown = [m for m in markets if m not in PROP_MARKETS and m not in OTHER_MARKETS]
        if not markets or unknown:
            raise self._unprocessable(f"Invalid markets {unknown or markets}", "INVALID_MARKET")
        odds_format = params.get("oddsFormat", "decimal")
        if odds_format not in ("american", "decimal"):
            raise self._unprocessable(
                "oddsFormat must be american or decimal", "INVALID_ODDS_FORMAT"
            )
        event = self._event_index.get(event_id)
        if event is None or (not historical and event["commence_time"] <= _utc_text(now)):
            raise HttpError(
                404,
                {
                    "message": "Event not found. The event may have expired or the event id is "
                    "invalid.",
                    "error_code": "EVENT_NOT_FOUND",
                },
            )
        asked, at = set(markets), _utc_text(now)
        lines = [
            r for r in self._lines(event_id)[0] if r["market"] in asked and r["snapshot_time"] <= at
        ]
        if regions and not books and not US_REGIONS & set(regions):
            lines = []
        if books:
            lines = [r for r in lines if r["bookmaker"] in set(books)]
        # The latest pull known at `now`, per book, market and player: an earlier pull of the
        # same line is stale.
        latest: dict[tuple[str, str, str], str] = {}
        for r in lines:
            key = (r["bookmaker"], r["market"], r["player"])
            latest[key] = max(latest.get(key, r["snapshot_time"]), r["snapshot_time"])
        lines = [
            r
            for r in lines
            if r["snapshot_time"] == latest[r["bookmaker"], r["market"], r["player"]]
        ]
        payload = self._event_payload(event, date_format)
        payload["bookmakers"] = self._bookmakers(lines, markets, odds_format, date_format)
        returned = {m["key"] for b in payload["bookmakers"] for m in b["markets"]}
        cost = max(1, len(returned)) * max(1, len(regions))
        return payload, cost

    def _bookmakers(
        self, lines: list[dict[str, Any]], markets: list[str], odds_format: str, date_format: str
    ) -> list[dict[str, Any]]:
        # One pass over the rows, grouped by book and market in their order.
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in lines:
            groups[row["bookmaker"], row["market"]].append(row)
        bookmakers = []
        for book in sorted({book for book, _ in groups}):
            book_markets = []
            for market in markets:
                records = groups.get((book, market))
                if records is None:
                    continue
                updated = max((r["last_update"] or r["snapshot_time"]) for r in records)
                book_markets.append(
                    {
                        "key": market,
                        "last_update": self._time_out(updated, date_format),
                        "outcomes": [
                            outcome
                            for row in records
                            for outcome in self._outcomes(row, market, odds_format)
                        ],
                    }
                )
            if book_markets:
                bookmakers.append(
                    {
                        "key": book,
                        "title": BOOKMAKER_TITLES.get(book, book),
                        "last_update": max(m["last_update"] for m in book_markets),
                        "markets": book_markets,
                    }
                )
        return bookmakers

    @staticmethod
    def _price(odds: float | None, odds_format: str) -> float | int | None:
        if odds is None:
            return None
        if odds_format == "american":
            return int(odds) if float(odds).is_integer() else odds
        return round(1 + odds / 100, 2) if odds > 0 else round(1 + 100 / abs(odds), 2)

    def _outcomes(self, row: dict[str, Any], market: str, odds_format: str) -> list[dict[str, Any]]:
        if market in YES_NO_MARKETS:
            # Yes/No markets have no point; the archive keeps them even without prices.
            return [
                {
                    "name": name,
                    "description": row["player"],
                    "price": self._price(row[column], odds_format),
                }
                for name, column in (("Yes", "over_odds"), ("No", "under_odds"))
            ]
        return [
            {
                "name": name,
                "description": row["player"],
                "price": self._price(row[column], odds_format),
                "point": row["line"],
            }
            for name, column in (("Over", "over_odds"), ("Under", "under_odds"))
            if row[column] is not None
        ]
