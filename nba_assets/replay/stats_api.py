"""NBA.com stats endpoints of the replay server: scoreboardv2, leaguegamelog, commonallplayers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from nba_assets.replay.archive import Archive
from nba_assets.replay.raw import SEASON_TYPES
from nba_assets.replay.responses import HttpError
from nba_assets.replay.stats_headers import (
    COMMON_ALL_PLAYERS_HEADERS,
    GAME_HEADER_HEADERS,
    LINE_SCORE_HEADERS,
    PLAYER_LOG_HEADERS,
    TEAM_LOG_HEADERS,
)

EASTERN = ZoneInfo("America/New_York")
# A game day's results are final once the night is over on the east coast.
RESULTS_FINAL_HOUR_ET = 4
STATS_SEASON_TYPES = (*SEASON_TYPES, "Pre Season", "All Star")


def last_final_date(now: datetime) -> date:
    """The latest game date whose results are known at `now` (final at 04:00 ET the next day)."""
    eastern = now.astimezone(EASTERN) - timedelta(hours=RESULTS_FINAL_HOUR_ET)
    return eastern.date() - timedelta(days=1)


def _slug(text: str, separator: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", separator, ascii_text).strip(separator)


@dataclass(frozen=True)
class _ByDate:
    """A frame's rows in date order, found by date without copying the frame."""

    frame: pl.DataFrame
    rows: pl.Series  # the frame's row numbers, in date order (archive order within a date)
    days: np.ndarray  # the rows' GAME_DATE as day ordinals, ascending

    def between(self, first: date | None, last: date | None) -> pl.DataFrame:
        begin = np.searchsorted(self.days, first.toordinal()) if first is not None else 0
        end = (
            np.searchsorted(self.days, last.toordinal(), side="right")
            if last is not None
            else len(self.days)
        )
        return self.frame[self.rows.slice(int(begin), max(0, int(end - begin)))]


def _by_date(frame: pl.DataFrame, *keys: str) -> dict[tuple, _ByDate]:
    """For each value of ``keys`` (one entry, ``()``, without keys), its rows by date; a row
    without a date is in none (no date range holds it)."""
    ordered = (
        frame.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"),
            *keys,
            _ordinal(pl.col("GAME_DATE").str.to_date()).alias("__day"),
        )
        .filter(pl.col("__day").is_not_null())
        .sort(*keys, "__day", maintain_order=True)
    )
    parts = ordered.partition_by(*keys, as_dict=True) if keys else {(): ordered}
    return {
        key: _ByDate(frame, part.get_column("__row"), part.get_column("__day").to_numpy())
        for key, part in parts.items()
    }


def _ordinal(day: pl.Expr) -> pl.Expr:
    """``date.toordinal()`` of a date column (day 1 is 0001-01-01; the epoch is day 719,163)."""
    return day.cast(pl.Int32) + date(1970, 1, 1).toordinal()


class StatsApi:
    """Answers NBA.com stats requests from an archive (parameters keyed by lower-case name)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._teams = {row["TEAM_ID"]: row for row in archive.teams.iter_rows(named=True)}
        # Indexed once by date (row numbers, not copies), so an answer reads its own rows, not
        # the archive's.
        self._games = _by_date(archive.games)[()]
        self._team_games = _by_date(archive.team_games)[()]
        self._logs = {
            (player_or_team, *season): rows
            for player_or_team, frame in (("P", archive.player_games), ("T", archive.team_games))
            for season, rows in _by_date(frame, "SEASON", "SEASON_TYPE").items()
        }
        self.handlers: dict[str, Callable[[dict[str, str], datetime], dict[str, Any]]] = {
            "scoreboardv2": self._scoreboard,
            "leaguegamelog": self._league_game_log,
            "commonallplayers": self._common_all_players,
        }

    def _season_log(
        self, player_or_team: str, season: str, season_type: str, first: date | None, last: date
    ) -> pl.DataFrame:
        """The season's player (``P``) or team (``T``) game rows of ``first..last``."""
        log = self._logs.get((player_or_team, season, season_type))
        if log is None:
            frame = self.archive.player_games if player_or_team == "P" else self.archive.team_games
            return frame.clear()
        return log.between(first, last)

    # -------------------------------------------------------------------- stats parameters
    @staticmethod
    def _required(params: dict[str, str], name: str) -> str:
        value = params.get(name.lower())
        if value is None or value == "":
            raise HttpError(400, {"message": f"The {name} property is required."})
        return value

    @staticmethod
    def _bad(name: str, value: str) -> HttpError:
        return HttpError(400, {"message": f"The value '{value}' is not valid for {name}."})

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
        games = self._games.between(day, day).sort(
            pl.col("GAME_TIME_UTC").fill_null("~"), "GAME_ID"
        )
        box = {
            (row["GAME_ID"], row["TEAM_ID"]): row
            for row in self._team_games.between(day, day)
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
        games = self._games.between(day, day)
        if games.is_empty():
            return {}
        first = games.row(0, named=True)
        through = day if final else day - timedelta(days=1)
        tally = (
            self._season_log("T", first["SEASON"], first["SEASON_TYPE"], None, through)
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

        last_final = last_final_date(now)
        through = min(date_to, last_final) if date_to is not None else last_final
        frame = self._season_log(player_or_team, season, season_type, date_from, through)
        ties = ["GAME_ID", "TEAM_ID"] + (["PLAYER_ID"] if player_or_team == "P" else [])
        rows = (
            frame.sort(
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
