"""The Odds API v4 requests the scrapers make: a day's events, then each event's prop odds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from nba_assets.sources.http import ODDS_API, Request

SOURCE = ODDS_API
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
EASTERN = ZoneInfo("America/New_York")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_window(game_date: dt.date) -> tuple[str, str]:
    """The UTC times (ISO, "Z") of the first and last second of a US/Eastern calendar day."""
    start = dt.datetime.combine(game_date, dt.time(0), EASTERN)
    next_day = dt.datetime.combine(game_date + dt.timedelta(days=1), dt.time(0), EASTERN)
    return _utc(start), _utc(next_day - dt.timedelta(seconds=1))


def events(game_date: dt.date) -> Request:
    """Events that tip off on `game_date` (US/Eastern), asked for as a UTC window."""
    start, end = day_window(game_date)
    return Request(
        SOURCE,
        "events",
        f"sports/{SPORT}/events",
        {"commenceTimeFrom": start, "commenceTimeTo": end, "dateFormat": "iso"},
        game_dates=(game_date,),
    )


def event_odds(event_id: str, game_date: dt.date, markets: Sequence[str] = PROP_MARKETS) -> Request:
    """One event's odds for the given prop markets, US books, American prices.

    Args:
        event_id: the event, from `events`.
        game_date: the game day (US/Eastern) the event was listed for, named in errors.
        markets: prop market keys.
    """
    if not markets:
        raise ValueError("event_odds needs at least one market")
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
        game_dates=(game_date,),
    )
