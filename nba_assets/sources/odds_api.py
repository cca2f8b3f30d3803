"""The Odds API v4 requests the scrapers make: a day's events, then each event's prop odds.

Odds come live while an event has not tipped off, and from the historical endpoint (the last
snapshot before tip-off) once it has: the live endpoint stops listing an event at its tip-off.
"""

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
    """Every event that tips off on `game_date` (US/Eastern), asked for as a UTC window.

    The listing is the historical one as of the day's first second: the live listing drops an
    event at its tip-off, this one holds the whole day at any hour of it or after.
    """
    start, end = day_window(game_date)
    return Request(
        SOURCE,
        "events",
        f"historical/sports/{SPORT}/events",
        {"commenceTimeFrom": start, "commenceTimeTo": end, "dateFormat": "iso", "date": start},
        game_dates=(game_date,),
    )


def event_odds(
    event_id: str,
    game_date: dt.date,
    markets: Sequence[str] = PROP_MARKETS,
    before: dt.datetime | None = None,
) -> Request:
    """One event's odds for the given prop markets, US books, American prices.

    Args:
        event_id: the event, from `events`.
        game_date: the game day (US/Eastern) the event was listed for, named in errors.
        markets: prop market keys.
        before: None for the live odds; else the historical snapshot last taken before this
            time (an event's tip-off, once it has started).
    """
    if not markets:
        raise ValueError("event_odds needs at least one market")
    params = {
        "regions": "us",
        "markets": ",".join(markets),
        "oddsFormat": "american",
        "dateFormat": "iso",
    }
    path = f"sports/{SPORT}/events/{event_id}/odds"
    if before is not None:
        path = f"historical/{path}"
        params["date"] = _utc(before - dt.timedelta(seconds=1))
    return Request(SOURCE, "event_odds", path, params, game_dates=(game_date,))


# An event this close to tip-off when its odds are asked for is read from history: the live
# endpoint would stop listing it before the answer came back.
LIVE_MARGIN = dt.timedelta(minutes=5)


def odds_for(event_id: str, game_date: dt.date, commence: dt.datetime, now: dt.datetime) -> Request:
    """An event's odds at the source's clock ``now``: live before tip-off, else the historical
    snapshot last taken before it."""
    before = None if commence > now + LIVE_MARGIN else commence
    return event_odds(event_id, game_date, before=before)
