"""Replay server: NBA.com stats and The Odds API v4 answered from the replay archive."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import polars as pl

from nba_assets.replay.archive import (
    PLAYER_LOG_HEADERS,
    SEASON_TYPES,
    TEAM_LOG_HEADERS,
    Archive,
    load_archive,
)
from nba_assets.replay.faults import FaultRule, FaultSpec, request_key

__all__ = ["ReplayServer", "ServerStats", "load_archive", "main"]

EASTERN = ZoneInfo("America/New_York")
# A game day's results are final once the night is over on the east coast.
RESULTS_FINAL_HOUR_ET = 4
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
STATS_SEASON_TYPES = (*SEASON_TYPES, "Pre Season", "All Star")

GAME_HEADER_HEADERS = (
    "GAME_DATE_EST",
    "GAME_SEQUENCE",
    "GAME_ID",
    "GAME_STATUS_ID",
    "GAME_STATUS_TEXT",
    "GAMECODE",
    "HOME_TEAM_ID",
    "VISITOR_TEAM_ID",
    "SEASON",
    "LIVE_PERIOD",
    "LIVE_PC_TIME",
    "NATL_TV_BROADCASTER_ABBREVIATION",
    "HOME_TV_BROADCASTER_ABBREVIATION",
    "AWAY_TV_BROADCASTER_ABBREVIATION",
    "LIVE_PERIOD_TIME_BCAST",
    "ARENA_NAME",
    "WH_STATUS",
    "WNBA_COMMISSIONER_FLAG",
)
LINE_SCORE_HEADERS = (
    "GAME_DATE_EST",
    "GAME_SEQUENCE",
    "GAME_ID",
    "TEAM_ID",
    "TEAM_ABBREVIATION",
    "TEAM_CITY_NAME",
    "TEAM_NAME",
    "TEAM_WINS_LOSSES",
    "PTS_QTR1",
    "PTS_QTR2",
    "PTS_QTR3",
    "PTS_QTR4",
    *(f"PTS_OT{i}" for i in range(1, 11)),
    "PTS",
    "FG_PCT",
    "FT_PCT",
    "FG3_PCT",
    "AST",
    "REB",
    "TOV",
)
COMMON_ALL_PLAYERS_HEADERS = (
    "PERSON_ID",
    "DISPLAY_LAST_COMMA_FIRST",
    "DISPLAY_FIRST_LAST",
    "ROSTERSTATUS",
    "FROM_YEAR",
    "TO_YEAR",
    "PLAYERCODE",
    "PLAYER_SLUG",
    "TEAM_ID",
    "TEAM_CITY",
    "TEAM_NAME",
    "TEAM_ABBREVIATION",
    "TEAM_SLUG",
    "TEAM_CODE",
    "GAMES_PLAYED_FLAG",
    "OTHERLEAGUE_EXPERIENCE_CH",
)


@dataclass(frozen=True)
class Response:
    """An HTTP answer before it is written."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class _HttpError(Exception):
    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.status = status
        self.payload = payload


@dataclass(frozen=True)
class ServerStats:
    """Counters of a replay server since it started.

    Attributes:
        requests: requests received (every attempt counts).
        faults: injected faults by kind ("429", "500", "slow", "truncated", "malformed").
        by_endpoint: requests by endpoint ("stats/leaguegamelog", "odds/events", ...).
        max_in_flight: the most requests that were being answered at the same time.
    """

    requests: int
    faults: dict[str, int]
    by_endpoint: dict[str, int]
    max_in_flight: int

    @property
    def total_faults(self) -> int:
        """All injected faults."""
        return sum(self.faults.values())


def _json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, _json(payload), {"Content-Type": "application/json", **(headers or {})})


def last_final_date(now: datetime) -> date:
    """The latest game date whose results are known at `now` (final at 04:00 ET the next day)."""
    eastern = now.astimezone(EASTERN) - timedelta(hours=RESULTS_FINAL_HOUR_ET)
    return eastern.date() - timedelta(days=1)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(text: str, separator: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", separator, ascii_text).strip(separator)


class ReplayApp:
    """Answers requests from an archive; knows nothing of sockets (the server wraps it)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._teams = {row["TEAM_ID"]: row for row in archive.teams.iter_rows(named=True)}
        self._events = (
            archive.props.group_by("event_id")
            .agg(
                pl.col("commence_time").first(),
                pl.col("home_team").first(),
                pl.col("away_team").first(),
            )
            .sort("commence_time", "event_id")
        )
        self._event_index = {row["event_id"]: row for row in self._events.iter_rows(named=True)}
        self._props_by_event: dict[str, pl.DataFrame] = {
            str(key[0]): frame
            for key, frame in archive.props.partition_by("event_id", as_dict=True).items()
        }
        self._usage_lock = threading.Lock()
        self._requests_used = 0

    # ----------------------------------------------------------------------------- routing
    def endpoint_name(self, path: str) -> str:
        """A short name of the endpoint a path addresses, for counters."""
        parts = [p for p in path.split("/") if p]
        if len(parts) == 2 and parts[0] == "stats":
            return f"stats/{parts[1].lower()}"
        if parts[:1] == ["v4"]:
            return "odds/event_odds" if parts[-1:] == ["odds"] else "odds/events"
        return "unknown"

    def handle(
        self, method: str, path: str, query: list[tuple[str, str]], now: datetime
    ) -> Response:
        """Answer one request at the clock time `now`."""
        parts = [p for p in path.split("/") if p]
        try:
            if method != "GET":
                raise _HttpError(405, {"message": f"method {method} is not allowed"})
            if len(parts) == 2 and parts[0] == "stats":
                handler = self._stats_handlers().get(parts[1].lower())
                if handler is not None:
                    params = {k.lower(): v for k, v in query}
                    return _json_response(200, handler(params, now))
            elif parts[:1] == ["v4"]:
                return self._odds(parts[1:], dict(query), now)
            raise _HttpError(404, {"message": f"no endpoint at {path}"})
        except _HttpError as error:
            return _json_response(error.status, error.payload)

    def _stats_handlers(
        self,
    ) -> dict[str, Callable[[dict[str, str], datetime], dict[str, Any]]]:
        return {
            "scoreboardv2": self._scoreboard,
            "leaguegamelog": self._league_game_log,
            "commonallplayers": self._common_all_players,
        }

    # -------------------------------------------------------------------- stats parameters
    @staticmethod
    def _required(params: dict[str, str], name: str) -> str:
        value = params.get(name.lower())
        if value is None or value == "":
            raise _HttpError(400, {"message": f"The {name} property is required."})
        return value

    @staticmethod
    def _bad(name: str, value: str) -> _HttpError:
        return _HttpError(400, {"message": f"The value '{value}' is not valid for {name}."})

    def _date_param(self, params: dict[str, str], name: str, required: bool) -> date | None:
        value = self._required(params, name) if required else params.get(name.lower(), "")
        if value == "":
            return None
        for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                continue
        raise self._bad(name, value)

    def _league_id(self, params: dict[str, str]) -> str:
        league = self._required(params, "LeagueID")
        if league != "00":
            raise self._bad("LeagueID", league)
        return league

    def _season(self, params: dict[str, str]) -> str:
        season = self._required(params, "Season")
        match = re.fullmatch(r"(\d{4})-(\d{2})", season)
        if match is None or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
            raise self._bad("Season", season)
        return season

    @staticmethod
    def _result_set(name: str, headers: Sequence[str], rows: list[Any]) -> dict[str, Any]:
        return {"name": name, "headers": list(headers), "rowSet": [list(r) for r in rows]}

    # ------------------------------------------------------------------------- scoreboard
    def _scoreboard(self, params: dict[str, str], now: datetime) -> dict[str, Any]:
        game_date = self._date_param(params, "GameDate", required=True)
        assert game_date is not None
        league = self._league_id(params)
        offset_text = self._required(params, "DayOffset")
        try:
            offset = int(offset_text)
        except ValueError:
            raise self._bad("DayOffset", offset_text) from None
        day = game_date + timedelta(days=offset)
        final = day <= last_final_date(now)
        games = self.archive.games.filter(pl.col("GAME_DATE") == day.isoformat()).sort(
            pl.col("GAME_TIME_UTC").fill_null("~"), "GAME_ID"
        )
        box = {
            (row["GAME_ID"], row["TEAM_ID"]): row
            for row in self.archive.team_games.filter(pl.col("GAME_DATE") == day.isoformat())
            .select("GAME_ID", "TEAM_ID", "FG_PCT", "FT_PCT", "FG3_PCT", "AST", "REB", "TOV")
            .iter_rows(named=True)
        }
        records = self._records(day, final)
        date_est = f"{day.isoformat()}T00:00:00"
        headers_rows: list[list[Any]] = []
        line_rows: list[list[Any]] = []
        for sequence, game in enumerate(games.iter_rows(named=True), start=1):
            home, away = (
                self._teams.get(game["HOME_TEAM_ID"]),
                self._teams.get(game["AWAY_TEAM_ID"]),
            )
            has_score = final and game["HOME_PTS"] is not None
            status_text = "Final" if has_score else self._tip_off_text(game["GAME_TIME_UTC"])
            gamecode = (
                f"{day:%Y%m%d}/{game['AWAY_TEAM_ABBREVIATION']}{game['HOME_TEAM_ABBREVIATION']}"
            )
            headers_rows.append(
                [
                    date_est,
                    sequence,
                    game["GAME_ID"],
                    3 if has_score else 1,
                    status_text,
                    gamecode,
                    game["HOME_TEAM_ID"],
                    game["AWAY_TEAM_ID"],
                    game["SEASON"][:4],
                    4 if has_score else 0,
                    "",
                    None,
                    None,
                    None,
                    f"Q{4 if has_score else 0}       - ",
                    None,
                    1 if has_score else 0,
                    0,
                ]
            )
            for side, team in (("AWAY", away), ("HOME", home)):
                team_id = game[f"{side}_TEAM_ID"]
                stats = box.get((game["GAME_ID"], team_id), {}) if has_score else {}
                line_rows.append(
                    [
                        date_est,
                        sequence,
                        game["GAME_ID"],
                        team_id,
                        game[f"{side}_TEAM_ABBREVIATION"],
                        team["TEAM_CITY"] if team else None,
                        team["TEAM_NICKNAME"] if team else None,
                        records.get(team_id),
                        *([None] * 14),
                        game[f"{side}_PTS"] if has_score else None,
                        stats.get("FG_PCT"),
                        stats.get("FT_PCT"),
                        stats.get("FG3_PCT"),
                        stats.get("AST"),
                        stats.get("REB"),
                        stats.get("TOV"),
                    ]
                )
        return {
            "resource": "scoreboardV2",
            "parameters": {
                "GameDate": f"{game_date:%m/%d/%Y}",
                "LeagueID": league,
                "DayOffset": offset_text,
            },
            "resultSets": [
                self._result_set("GameHeader", GAME_HEADER_HEADERS, headers_rows),
                self._result_set("LineScore", LINE_SCORE_HEADERS, line_rows),
            ],
        }

    @staticmethod
    def _tip_off_text(game_time_utc: str | None) -> str:
        if game_time_utc is None:
            return "TBD"
        tip = datetime.fromisoformat(game_time_utc.replace("Z", "+00:00")).astimezone(EASTERN)
        return f"{tip.hour % 12 or 12}:{tip.minute:02d} {'am' if tip.hour < 12 else 'pm'} ET"

    def _records(self, day: date, final: bool) -> dict[int, str]:
        """Each team's W-L in the season type of `day`'s games, through the last final date."""
        games = self.archive.games.filter(pl.col("GAME_DATE") == day.isoformat())
        if games.is_empty():
            return {}
        first = games.row(0, named=True)
        season, season_type = first["SEASON"], first["SEASON_TYPE"]
        through = day if final else day - timedelta(days=1)
        tally = (
            self.archive.team_games.filter(
                (pl.col("SEASON") == season)
                & (pl.col("SEASON_TYPE") == season_type)
                & (pl.col("GAME_DATE") <= through.isoformat())
            )
            .group_by("TEAM_ID")
            .agg((pl.col("WL") == "W").sum().alias("W"), (pl.col("WL") == "L").sum().alias("L"))
        )
        return {row[0]: f"{row[1]}-{row[2]}" for row in tally.iter_rows()}

    # ---------------------------------------------------------------------- leaguegamelog
    def _league_game_log(self, params: dict[str, str], now: datetime) -> dict[str, Any]:
        season = self._season(params)
        season_type = self._required(params, "SeasonType")
        if season_type not in STATS_SEASON_TYPES:
            raise self._bad("SeasonType", season_type)
        player_or_team = self._required(params, "PlayerOrTeam").upper()
        if player_or_team not in ("P", "T"):
            raise self._bad("PlayerOrTeam", params["playerorteam"])
        league = self._league_id(params)
        date_from = self._date_param(params, "DateFrom", required=False)
        date_to = self._date_param(params, "DateTo", required=False)
        direction = params.get("direction", "DESC").upper() or "DESC"
        if direction not in ("ASC", "DESC"):
            raise self._bad("Direction", direction)
        headers = PLAYER_LOG_HEADERS if player_or_team == "P" else TEAM_LOG_HEADERS
        sorter = params.get("sorter", "DATE").upper() or "DATE"
        sort_column = "GAME_DATE" if sorter == "DATE" else sorter
        if sort_column not in headers:
            raise self._bad("Sorter", sorter)
        counter_text = params.get("counter", "1000") or "1000"
        if not counter_text.isdigit():
            raise self._bad("Counter", counter_text)

        frame = self.archive.player_games if player_or_team == "P" else self.archive.team_games
        last_final = last_final_date(now)
        through = min(date_to, last_final) if date_to is not None else last_final
        condition = (
            (pl.col("SEASON") == season)
            & (pl.col("SEASON_TYPE") == season_type)
            & (pl.col("GAME_DATE") <= through.isoformat())
        )
        if date_from is not None:
            condition &= pl.col("GAME_DATE") >= date_from.isoformat()
        ties = ["GAME_ID", "TEAM_ID"] + (["PLAYER_ID"] if player_or_team == "P" else [])
        rows = (
            frame.filter(condition)
            .sort(
                [sort_column, *ties],
                descending=[direction == "DESC", *([False] * len(ties))],
                nulls_last=True,
            )
            .select(headers)
            .rows()
        )
        return {
            "resource": "leaguegamelog",
            "parameters": {
                "Counter": int(counter_text),
                "DateFrom": params.get("datefrom") or None,
                "DateTo": params.get("dateto") or None,
                "Direction": direction,
                "LeagueID": league,
                "PlayerOrTeam": player_or_team,
                "Season": season,
                "SeasonType": season_type,
                "Sorter": sorter,
            },
            "resultSets": [self._result_set("LeagueGameLog", headers, rows)],
        }

    # ------------------------------------------------------------------- commonallplayers
    def _common_all_players(self, params: dict[str, str], now: datetime) -> dict[str, Any]:
        only_current = self._required(params, "IsOnlyCurrentSeason")
        if only_current not in ("0", "1"):
            raise self._bad("IsOnlyCurrentSeason", only_current)
        league = self._league_id(params)
        season = self._season(params)
        last_final = last_final_date(now).isoformat()
        played = (
            self.archive.player_games.filter(
                (pl.col("SEASON") == season) & (pl.col("GAME_DATE") <= last_final)
            )
            .sort("GAME_DATE")
            .group_by("PLAYER_ID")
            .agg(pl.col("TEAM_ID").last().alias("CURRENT_TEAM_ID"))
        )
        players = self.archive.players.filter(pl.col("SEASON") <= season)
        if only_current == "1":
            players = players.filter(pl.col("SEASON") == season)
        players = (
            players.sort("SEASON")
            .group_by("PLAYER_ID")
            .agg(pl.all().last())
            .join(played, on="PLAYER_ID", how="left")
            .sort("LAST_NAME", "FIRST_NAME", "PLAYER_ID")
        )
        rows = []
        for player in players.iter_rows(named=True):
            on_roster = player["SEASON"] == season
            team_id = (player["CURRENT_TEAM_ID"] or player["FIRST_TEAM_ID"]) if on_roster else 0
            team = self._teams.get(team_id) if team_id else None
            first, last = player["FIRST_NAME"] or "", player["LAST_NAME"] or ""
            display = player["PLAYER_NAME"]
            rows.append(
                [
                    player["PLAYER_ID"],
                    f"{last}, {first}" if last and first else display,
                    display,
                    1 if on_roster else 0,
                    str(player["FROM_YEAR"]),
                    str(player["TO_YEAR"]),
                    _slug(display, "_"),
                    _slug(display, "-"),
                    team_id or 0,
                    team["TEAM_CITY"] if team else "",
                    team["TEAM_NICKNAME"] if team else "",
                    team["TEAM_ABBREVIATION"] if team else "",
                    _slug(team["TEAM_NICKNAME"], "") if team else None,
                    _slug(team["TEAM_NICKNAME"], "") if team else "",
                    "Y" if player["CURRENT_TEAM_ID"] is not None else "N",
                    "00",
                ]
            )
        return {
            "resource": "commonallplayers",
            "parameters": {
                "LeagueID": league,
                "Season": season,
                "IsOnlyCurrentSeason": int(only_current),
            },
            "resultSets": [self._result_set("CommonAllPlayers", COMMON_ALL_PLAYERS_HEADERS, rows)],
        }

    # ---------------------------------------------------------------------- the Odds API
    def _odds(self, parts: list[str], params: dict[str, str], now: datetime) -> Response:
        if not params.get("apiKey"):
            raise _HttpError(
                401,
                {
                    "message": "API key is missing. Pass it in the apiKey query parameter.",
                    "error_code": "MISSING_KEY",
                },
            )
        if len(parts) < 3 or parts[0] != "sports" or parts[2] != "events" or len(parts) > 5:
            raise _HttpError(404, {"message": "Not found", "error_code": "NOT_FOUND"})
        if parts[1] != "basketball_nba":
            raise _HttpError(
                404, {"message": f"Unknown sport {parts[1]}", "error_code": "UNKNOWN_SPORT"}
            )
        date_format = params.get("dateFormat", "iso")
        if date_format not in ("iso", "unix"):
            raise self._unprocessable("dateFormat must be iso or unix", "INVALID_DATE_FORMAT")
        if len(parts) == 3:
            payload, cost = self._odds_events(params, date_format), 0
        elif len(parts) == 5 and parts[4] == "odds":
            payload, cost = self._odds_event_odds(parts[3], params, now, date_format)
        else:
            raise _HttpError(404, {"message": "Not found", "error_code": "NOT_FOUND"})
        with self._usage_lock:
            self._requests_used += cost
            used = self._requests_used
        usage = {
            "x-requests-remaining": str(max(0, ODDS_QUOTA - used)),
            "x-requests-used": str(used),
            "x-requests-last": str(cost),
        }
        return _json_response(200, payload, usage)

    @staticmethod
    def _unprocessable(message: str, code: str) -> _HttpError:
        return _HttpError(422, {"message": message, "error_code": code})

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

    def _odds_events(self, params: dict[str, str], date_format: str) -> list[dict[str, Any]]:
        start = self._odds_time(params, "commenceTimeFrom")
        end = self._odds_time(params, "commenceTimeTo")
        events = self._events
        if start is not None:
            events = events.filter(pl.col("commence_time") >= start)
        if end is not None:
            events = events.filter(pl.col("commence_time") <= end)
        return [self._event_payload(e, date_format) for e in events.iter_rows(named=True)]

    def _odds_event_odds(
        self, event_id: str, params: dict[str, str], now: datetime, date_format: str
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
        if event is None:
            raise _HttpError(
                404,
                {
                    "message": "Event not found. The event may have expired or the event id is "
                    "invalid.",
                    "error_code": "EVENT_NOT_FOUND",
                },
            )
        lines = self._props_by_event[event_id].filter(
            pl.col("market").is_in(markets) & (pl.col("snapshot_time") <= _utc_text(now))
        )
        if regions and not books:
            lines = lines if US_REGIONS & set(regions) else lines.clear()
        if books:
            lines = lines.filter(pl.col("bookmaker").is_in(books))
        # The latest pull known at `now`, per book, market and player: an earlier pull of the
        # same line is stale.
        lines = lines.filter(
            pl.col("snapshot_time")
            == pl.col("snapshot_time").max().over("bookmaker", "market", "player")
        )
        payload = self._event_payload(event, date_format)
        payload["bookmakers"] = self._bookmakers(lines, markets, odds_format, date_format)
        returned = {m["key"] for b in payload["bookmakers"] for m in b["markets"]}
        cost = max(1, len(returned)) * max(1, len(regions))
        return payload, cost

    def _bookmakers(
        self, lines: pl.DataFrame, markets: list[str], odds_format: str, date_format: str
    ) -> list[dict[str, Any]]:
        bookmakers = []
        for book in sorted(lines["bookmaker"].unique().to_list()):
            book_lines = lines.filter(pl.col("bookmaker") == book)
            book_markets = []
            for market in markets:
                rows = book_lines.filter(pl.col("market") == market)
                if rows.is_empty():
                    continue
                updated = max(
                    (r["last_update"] or r["snapshot_time"]) for r in rows.iter_rows(named=True)
                )
                book_markets.append(
                    {
                        "key": market,
                        "last_update": self._time_out(updated, date_format),
                        "outcomes": [
                            outcome
                            for row in rows.iter_rows(named=True)
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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default listen backlog (5) drops connections when a client opens more at once; the
    # kernel then retries them only after a second.
    request_queue_size = 128
    replay: ReplayServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK (about 40 ms a request on Linux).
    disable_nagle_algorithm = True
    server: _HTTPServer  # type: ignore[assignment]

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self.server.replay._serve(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.replay._serve(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # Request lines carry the odds API key; the server keeps its own counters instead.
        return


class ReplayServer:
    """A local HTTP server answering like NBA.com stats and The Odds API v4 from an archive.

    The server binds on construction (so `base_url` is known) and serves in a background
    thread between `start()` and `stop()`, or inside a `with` block.

    Args:
        archive: the tables to answer from (see `load_archive`).
        host: address to bind; keep the default loopback address.
        port: TCP port; 0 picks a free one.
        faults: faults to inject (see `nba_assets.replay.faults`); None for none.
        now: the server clock (timezone-aware); None follows the real time. Only what was
            knowable at this time is served.
        seed: seed of the fault draws.
    """

    def __init__(
        self,
        archive: Archive,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultSpec | None = None,
        now: datetime | None = None,
        seed: int = 0,
    ) -> None:
        self.app = ReplayApp(archive)
        self.faults = faults or FaultSpec()
        self.seed = seed
        self.now = now
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._requests = 0
        self._faults: dict[str, int] = {}
        self._by_endpoint: dict[str, int] = {}
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.replay = self
        self._thread: threading.Thread | None = None

    @property
    def now(self) -> datetime | None:
        """The fixed server clock, or None when it follows the real time."""
        return self._now

    @now.setter
    def now(self, value: datetime | None) -> None:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"the replay clock needs a timezone-aware time, got {value!r}")
        self._now = value

    def current_time(self) -> datetime:
        """The time the server answers as of."""
        return self._now if self._now is not None else datetime.now(UTC)

    @property
    def base_url(self) -> str:
        """Like "http://127.0.0.1:43123"."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def stats(self) -> ServerStats:
        """A snapshot of the request and fault counters."""
        with self._lock:
            return ServerStats(
                requests=self._requests,
                faults=dict(self._faults),
                by_endpoint=dict(self._by_endpoint),
                max_in_flight=self._max_in_flight,
            )

    def start(self) -> ReplayServer:
        """Serve in a background thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="replay-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ request handling
    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        key = request_key(method, split.path, query)
        endpoint = self.app.endpoint_name(split.path)
        with self._lock:
            self._requests += 1
            self._by_endpoint[endpoint] = self._by_endpoint.get(endpoint, 0) + 1
            first_attempt = key not in self._seen
            self._seen.add(key)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            rule = self.faults.choose(self.seed, key) if self.faults else None
            if rule is not None and not (first_attempt or rule.always):
                rule = None
            if rule is not None:
                with self._lock:
                    self._faults[rule.kind] = self._faults.get(rule.kind, 0) + 1
            self._answer(handler, method, split.path, query, rule)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        rule: FaultRule | None,
    ) -> None:
        kind = rule.kind if rule is not None else None
        if kind == "429":
            response = _json_response(429, {"message": "Too many requests"}, {"Retry-After": "1"})
        elif kind == "500":
            response = _json_response(500, {"message": "Internal server error"})
        else:
            if rule is not None and kind == "slow":
                time.sleep(rule.slow_seconds)
            response = self.app.handle(method, path, query, self.current_time())
        if kind == "malformed":
            response = Response(
                200,
                response.body[: len(response.body) // 2] + b"\x00<!-- reset -->",
                {"Content-Type": "application/json"},
            )
        body = response.body
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        if kind == "truncated":
            handler.send_header("Connection", "close")
            handler.close_connection = True
            body = body[: len(body) // 2]
        handler.end_headers()
        try:
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout on its side); nothing left to answer.
            handler.close_connection = True


def _parse_now(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `replay-server [--data DIR] [--port N] [--faults SPEC] [--now ISO] [--seed N]`.

    Prints the base URL, then serves until SIGINT or SIGTERM.
    """
    parser = argparse.ArgumentParser(prog="replay-server", description=__doc__)
    parser.add_argument("--data", type=Path, default=None, help="archive or raw data folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--faults", default=None, help="fault spec, e.g. 429:0.2,500:0.1")
    parser.add_argument("--now", type=_parse_now, default=None, help="server clock (ISO time)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws")
    args = parser.parse_args(argv)
    try:
        faults = FaultSpec.parse(args.faults)
    except ValueError as error:
        parser.error(str(error))
    archive = load_archive(args.data)
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ReplayServer(
            archive, host=args.host, port=args.port, faults=faults, now=args.now, seed=args.seed
        ) as server:
            print(server.base_url, flush=True)
            while not stop.wait(0.5):
                pass
            stats = server.stats
            print(
                f"replay server stopped after {stats.requests} requests, "
                f"{stats.total_faults} injected faults",
                file=sys.stderr,
            )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
