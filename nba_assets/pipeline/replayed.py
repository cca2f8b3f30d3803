"""``nba_raw`` frames for a range of days, replayed from an archive through the production parsers.

The requests are the scrapers' own (``nba_assets.sources.nba_stats`` and ``.odds_api``), made in
the order the scrape assets make them and answered in process by the replay server's app (no
socket, no landing zone), at one clock time for the whole range as ``nba-assets replay`` does.
Each answer's bytes go through ``nba_assets.lib.parsers`` and the raw assets' post-parse steps
(player lookup, alias table, the props' join to the day's player list), and every frame is
conformed to its ``nba_raw`` spec: the rows a replay of the range writes to ``nba_raw``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import polars as pl

from nba_assets.lib import parsers
from nba_assets.lib.names import apply_aliases, with_player_lookup
from nba_assets.player_aliases import load_aliases
from nba_assets.replay.archive import Archive, load_archive
from nba_assets.replay.server import ReplayApp
from nba_assets.sources import nba_stats, odds_api
from nba_assets.sources.http import ODDS_API, Request
from nba_assets.tables import raw
from nba_assets.tables.spec import TableSpec

# Where the replay server mounts each source below its base URL (as `nba-assets replay` points
# the scrapers at it), and the key its Odds API wants: any non-empty one.
SOURCE_PREFIXES = {nba_stats.SOURCE: "/stats", odds_api.SOURCE: "/v4"}
REPLAY_API_KEY = "replay"


class ReplayAnswerError(RuntimeError):
    """The archive answered a request with an error status; the message says which and why."""


@functools.cache
def _shipped_app() -> ReplayApp:
    """The replay app over the shipped archive, built once per process (about a second)."""
    return ReplayApp(load_archive(None))


class _Replay:
    """Answers the scrapers' requests from a replay app at a fixed clock time."""

    def __init__(self, app: ReplayApp, now: dt.datetime) -> None:
        self.app, self.now = app, now

    def body(self, request: Request) -> bytes:
        params = dict(request.params)
        if request.source == ODDS_API:
            params["apiKey"] = REPLAY_API_KEY
        path = f"{SOURCE_PREFIXES[request.source]}/{request.path}"
        response = self.app.handle("GET", path, list(params.items()), self.now)
        if response.status != 200:
            days = ", ".join(d.isoformat() for d in request.game_dates)
            raise ReplayAnswerError(
                f"{request.source} {request.endpoint} for game_date {days}: the replay archive"
                f" answered {response.status} {response.body[:300].decode(errors='replace')}"
                f" (path {path}, parameters {dict(request.params)})"
            )
        return response.body


def _each_date(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _frame(
    spec: TableSpec, parsed: Iterable[pl.DataFrame], exclude: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Parsed payloads as the raw assets concatenate them: the spec's columns (but ``exclude``),
    in order and type."""
    schema = {c: t for c, t in spec.columns.items() if c not in exclude}
    frames = [f for f in parsed if not f.is_empty()]
    if not frames:
        return pl.DataFrame(schema=schema)
    df = pl.concat(frames, how="diagonal_relaxed")
    return df.select(pl.col(c).cast(t) for c, t in schema.items())


Parser = Callable[[bytes, Any], pl.DataFrame]  # Any: a StatsContext or an OddsContext


def _parsed(
    replay: _Replay, wanted: Iterable[tuple[dt.date, Request]], parse: Parser
) -> Iterator[pl.DataFrame]:
    """Each request's answer parsed with the context the raw assets give it."""
    for day, request in wanted:
        context = parsers.OddsContext if request.source == ODDS_API else parsers.StatsContext
        yield parse(replay.body(request), context(request.endpoint, day, request.path))


def props_with_players(props: pl.DataFrame, player_list: pl.DataFrame) -> pl.DataFrame:
    """Parsed props matched to NBA.com players as the ``odds_player_props`` asset matches them.

    Args:
        props: parsed per-event odds (``nba_raw.odds_player_props`` without ``player_lookup`` and
            ``player_id``).
        player_list: ``nba_raw.nbac_player_list`` rows of the same days.
    """
    df = with_player_lookup(props, "player_name").with_columns(
        player_lookup=apply_aliases(pl.col("player_lookup"), load_aliases())
    )
    roster = player_list.select("game_date", "player_lookup", "player_id").unique(
        ["game_date", "player_lookup"]
    )
    return df.join(roster, on=["game_date", "player_lookup"], how="left").unique(
        maintain_order=True
    )


def raw_frames(
    start: dt.date,
    end: dt.date,
    archive: Archive | None = None,
    now: dt.datetime | None = None,
) -> dict[str, pl.DataFrame]:
    """Every ``nba_raw`` table's rows for ``start..end``, keyed by table name.

    Args:
        start: first game day.
        end: last game day (inclusive).
        archive: the tables to answer from; None for the shipped archive.
        now: the replay clock (timezone-aware): only what was known then is served; None for
            the current time, as ``nba-assets replay`` serves.

    Raises:
        ReplayAnswerError: the archive answered a request with an error.
        nba_assets.lib.parsers.PayloadError: an answer does not validate.
    """
    app = _shipped_app() if archive is None else ReplayApp(archive)
    replay = _Replay(app, now or dt.datetime.now(dt.UTC))
    days = _each_date(start, end)

    boards = [(d, nba_stats.scoreboard(d)) for d in days]
    schedule = _frame(raw.nbac_schedule, _parsed(replay, boards, parsers.parse_scoreboard))

    # The scrapers ask for the game log of each game type the day's scoreboard holds.
    types = schedule.group_by("game_date").agg(pl.col("season_type").unique())
    types_of = {row[0]: set(row[1]) for row in types.iter_rows()}
    logs = {
        who: [
            (d, nba_stats.league_game_log(d, who, nba_stats.season_for(d), season_type))
            for d in days
            for season_type in nba_stats.SEASON_TYPES
            if season_type in types_of.get(d, ())
        ]
        for who in (nba_stats.PLAYER, nba_stats.TEAM)
    }
    player_box = _frame(
        raw.nbac_player_boxscores,
        _parsed(replay, logs[nba_stats.PLAYER], parsers.parse_player_game_log),
    )
    team_box = _frame(
        raw.nbac_team_boxscores,
        _parsed(replay, logs[nba_stats.TEAM], parsers.parse_team_game_log),
    )

    # One player list per season, landed for (and parsed as of) each of its game days.
    game_days = sorted(types_of)
    days_of_season: dict[str, list[dt.date]] = {}
    for day in game_days:
        days_of_season.setdefault(nba_stats.season_for(day), []).append(day)
    listed = []
    for season, season_days in days_of_season.items():
        request = nba_stats.all_players(season, season_days)
        body = replay.body(request)
        listed += [
            parsers.parse_player_list(body, parsers.StatsContext(request.endpoint, d, request.path))
            for d in season_days
        ]
    player_list = _frame(raw.nbac_player_list, listed)

    event_requests = [(d, odds_api.events(d)) for d in days]
    events = _frame(raw.odds_events, _parsed(replay, event_requests, parsers.parse_events))
    odds = [
        (day, odds_api.event_odds(event_id, game_date=day))
        for day, event_id in events.select("game_date", "event_id").iter_rows()
    ]
    props = _frame(
        raw.odds_player_props,
        _parsed(replay, odds, parsers.parse_event_odds),
        exclude=("player_lookup", "player_id"),
    )
    props = props_with_players(props, player_list)

    frames = {
        raw.nbac_schedule.name: schedule,
        raw.nbac_player_boxscores.name: player_box,
        raw.nbac_team_boxscores.name: team_box,
        raw.nbac_player_list.name: player_list,
        raw.odds_events.name: events,
        raw.odds_player_props.name: props,
    }
    return {spec.name: spec.conform(frames[spec.name]) for spec in raw.TABLES}
