"""NBA.com stats endpoints the scrapers call (the shapes are the real site's)."""

from __future__ import annotations

import datetime as dt

from nba_assets.sources.http import Request

SOURCE = "nba_stats"
SEASON_TYPES = ("Regular Season", "PlayIn", "Playoffs")


def season_for(day: dt.date) -> str:
    """The NBA season a date belongs to: seasons start in October, so August 1 opens the next."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{str(start + 1)[2:]}"


def scoreboard(day: dt.date) -> Request:
    return Request(
        SOURCE,
        "scoreboardv2",
        "scoreboardv2",
        {"GameDate": day.isoformat(), "LeagueID": "00", "DayOffset": "0"},
    )


def league_game_log(day: dt.date, player_or_team: str, season: str, season_type: str) -> Request:
    us_date = day.strftime("%m/%d/%Y")
    return Request(
        SOURCE,
        "leaguegamelog",
        "leaguegamelog",
        {
            "Counter": "1000",
            "DateFrom": us_date,
            "DateTo": us_date,
            "Direction": "DESC",
            "LeagueID": "00",
            "PlayerOrTeam": player_or_team,
            "Season": season,
            "SeasonType": season_type,
            "Sorter": "DATE",
        },
    )


def all_players(season: str) -> Request:
    return Request(
        SOURCE,
        "commonallplayers",
        "commonallplayers",
        {"IsOnlyCurrentSeason": "1", "LeagueID": "00", "Season": season},
    )
