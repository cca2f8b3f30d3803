"""NBA.com stats requests the scrapers make (query shapes as the real site expects them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from nba_assets.sources.http import NBA_STATS, Request

SOURCE = NBA_STATS
LEAGUE_ID = "00"
# Season types a game day can hold; the league game log is asked for each of them every day.
SEASON_TYPES = ("Regular Season", "PlayIn", "Playoffs")
PLAYER, TEAM = "P", "T"


def season_for(game_date: dt.date) -> str:
    """The NBA season of a date, e.g. "2025-26": from August 1 a date belongs to the next season."""
    start = game_date.year if game_date.month >= 8 else game_date.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def scoreboard(game_date: dt.date) -> Request:
    """`scoreboardv2` for one day: GameHeader (games, status) and LineScore (team points)."""
    return Request(
        SOURCE,
        "scoreboardv2",
        "scoreboardv2",
        {"GameDate": game_date.isoformat(), "LeagueID": LEAGUE_ID, "DayOffset": "0"},
        game_dates=(game_date,),
    )


def league_game_log(
    game_date: dt.date, player_or_team: str, season: str, season_type: str
) -> Request:
    """`leaguegamelog` box-score rows of one day.

    Args:
        game_date: the game day (DateFrom = DateTo).
        player_or_team: "P" for player rows, "T" for team rows.
        season: e.g. "2025-26" (see `season_for`).
        season_type: one of `SEASON_TYPES`.

    Raises:
        ValueError: for a player_or_team or season_type the site does not know.
    """
    if player_or_team not in (PLAYER, TEAM):
        raise ValueError(f"player_or_team must be 'P' or 'T', not {player_or_team!r}")
    if season_type not in SEASON_TYPES:
        raise ValueError(f"season_type must be one of {SEASON_TYPES}, not {season_type!r}")
    us_date = game_date.strftime("%m/%d/%Y")
    return Request(
        SOURCE,
        "leaguegamelog",
        "leaguegamelog",
        {
            "Counter": "1000",
            "DateFrom": us_date,
            "DateTo": us_date,
            "Direction": "DESC",
            "LeagueID": LEAGUE_ID,
            "PlayerOrTeam": player_or_team,
            "Season": season,
            "SeasonType": season_type,
            "Sorter": "DATE",
        },
        game_dates=(game_date,),
    )


def all_players(season: str, game_dates: Sequence[dt.date]) -> Request:
    """`commonallplayers` for a season: every player on a roster, with his current team.

    Args:
        season: e.g. "2025-26".
        game_dates: the game days of the season this one answer serves (named in errors).

    Raises:
        ValueError: without game days.
    """
    if not game_dates:
        raise ValueError(f"all_players({season!r}) needs the game day(s) it serves")
    return Request(
        SOURCE,
        "commonallplayers",
        "commonallplayers",
        {"IsOnlyCurrentSeason": "1", "LeagueID": LEAGUE_ID, "Season": season},
        game_dates=tuple(sorted(game_dates)),
    )
