"""The Odds API v4 endpoints the scrapers call: the day's events, then each event's prop odds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from nba_assets.sources.http import Request

SOURCE = "odds_api"
SPORT = "basketball_nba"
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
_EASTERN = ZoneInfo("America/New_York")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def events(day: dt.date) -> Request:
    """Events that tip off on ``day`` in US/Eastern, asked for as a UTC window."""
    start = dt.datetime.combine(day, dt.time(0), _EASTERN)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), _EASTERN) - dt.timedelta(
        seconds=1
    )
    return Request(
        SOURCE,
        "events",
        f"sports/{SPORT}/events",
        {"commenceTimeFrom": _utc(start), "commenceTimeTo": _utc(end), "dateFormat": "iso"},
    )


def event_odds(event_id: str, markets: Sequence[str] = PROP_MARKETS) -> Request:
    return Request(
        SOURCE,
        "event_odds",
        f"sports/{SPORT}/events/{event_id}/odds",
        {
            "regions": "us",
            "markets": ",".join(markets),
            "oddsFormat": "american",
            "dateFormat": "iso",
        },
    )
