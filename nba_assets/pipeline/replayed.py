"""``nba_raw`` frames for a range of days, replayed from an archive through the production parsers.

The requests are the scrapers' own (``nba_assets.sources.nba_stats`` and ``.odds_api``), made in
the order the scrape assets make them and answered in process by the replay server's app (no
socket, no landing zone), at one clock time for the whole range as ``nba-assets replay`` does.
Each answer's bytes go through ``nba_assets.lib.parsers`` and the raw assets' steps after it
(the payload's column and duplicate checks; for props the player lookup, alias table and join
to the day's player list), and every frame is conformed to its ``nba_raw`` spec: the rows a
replay of the range writes to ``nba_raw``.
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


class _Replay:
    """Answers the scrapers' requests from a replay app at a fixed clock time, and keeps each
    day's raw rows once built (a day's rows depend on nothing but the day and the clock)."""

    def __init__(self, app: ReplayApp, now: dt.datetime) -> None:
        self.app, self.now = app, now
        self._days: dict[dt.date, dict[str, pl.DataFrame]] = {}
        self._player_lists: dict[str, bytes] = {}

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

    def player_list(self, season: str, day: dt.date) -> tuple[bytes, parsers.StatsContext]:
        """The season's player list as landed for ``day``: one answer serves every game day of
        a season in a run, as the scrape asks for it once per season."""
        request = nba_stats.all_players(season, [day])
        if season not in self._player_lists:
            self._player_lists[season] = self.body(request)
        context = parsers.StatsContext(request.endpoint, day, request.path)
        return self._player_lists[season], context

    def day(self, day: dt.date) -> dict[str, pl.DataFrame]:
        """Every ``nba_raw`` table's rows of ``day``, keyed by table name."""
        if day not in self._days:
            self._days[day] = _day_frames(self, day)
        return self._days[day]


@functools.cache
def _shipped_replay() -> _Replay:
    """The shipped archive's replay at the clock of the first call, once per process: building
    its app takes about a second, and the days already built are kept."""
    return _Replay(ReplayApp(load_archive(None)), dt.datetime.now(dt.UTC))


def _each_date(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


Parser = Callable[[bytes, Any], pl.DataFrame]  # Any: a StatsContext or an OddsContext
Answers = Iterable[tuple[bytes, parsers.StatsContext]]


def _answers(
    replay: _Replay, wanted: Iterable[tuple[dt.date, Request]]
) -> Iterator[tuple[bytes, parsers.StatsContext]]:
    """Each request's answer, with the parse context the raw assets give a landed payload."""
    for day, request in wanted:
        if request.source != ODDS_API:
            yield replay.body(request), parsers.StatsContext(request.endpoint, day, request.path)
            continue
        # A live answer's snapshot is the clock's; a historical one carries its own.
        taken = None if request.path.startswith("historical/") else replay.now
        yield (
            replay.body(request),
            parsers.OddsContext(request.endpoint, day, request.path, snapshot_time=taken),
        )


def _table(
    spec: TableSpec,
    answers: Answers,
    parse: Parser,
    exclude: tuple[str, ...] = (),
    key: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """The answers' rows as the raw assets parse, check and concatenate landed payloads.

    Args:
        spec: the table; its columns (but ``exclude``) in order and type are the result's.
        answers: payload bytes with their parse contexts.
        parse: the payload's parser.
        exclude: columns the raw asset adds after parsing.
        key: the columns a payload's rows are unique by (default: the spec's key).

    Raises:
        nba_assets.lib.parsers.PayloadError: a payload does not validate, leaves a column the
            spec expects filled null in every row, or holds rows sharing a key that differ.
    """
    schema = {c: t for c, t in spec.columns.items() if c not in exclude}
    frames = []
    for body, ctx in answers:
        frame = parse(body, ctx)
        parsers.check_columns(frame, spec, list(schema), ctx)
        frame, _ = parsers.drop_duplicate_rows(frame, key or spec.key, ctx)
        frames.append(frame)
    frames = [f for f in frames if not f.is_empty()]
    if not frames:
        return pl.DataFrame(schema=schema)
    df = pl.concat(frames, how="diagonal_relaxed")
    return df.select(pl.col(c).cast(t) for c, t in schema.items())


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


def _day_frames(replay: _Replay, day: dt.date) -> dict[str, pl.DataFrame]:
    """The day's requests in the scrape assets' order, parsed and checked as the raw assets do."""
    schedule = _table(
        raw.nbac_schedule,
        _answers(replay, [(day, nba_stats.scoreboard(day))]),
        parsers.parse_scoreboard,
    )
    # The scrapers ask for the game log of each game type the day's scoreboard holds.
    types = set(schedule.get_column("season_type"))
    season = nba_stats.season_for(day)
    logs = {
        who: [
            (day, nba_stats.league_game_log(day, who, season, season_type))
            for season_type in nba_stats.SEASON_TYPES
            if season_type in types
        ]
        for who in (nba_stats.PLAYER, nba_stats.TEAM)
    }
    player_box = _table(
        raw.nbac_player_boxscores,
        _answers(replay, logs[nba_stats.PLAYER]),
        parsers.parse_player_game_log,
    )
    team_box = _table(
        raw.nbac_team_boxscores, _answers(replay, logs[nba_stats.TEAM]), parsers.parse_team_game_log
    )
    # The player list is landed for game days only.
    listed = [replay.player_list(season, day)] if schedule.height else []
    player_list = _table(raw.nbac_player_list, listed, parsers.parse_player_list)

    events = _table(
        raw.odds_events, _answers(replay, [(day, odds_api.events(day))]), parsers.parse_events
    )
    odds = [
        (day, odds_api.odds_for(event_id, day, commence, replay.now))
        for event_id, commence in events.select("event_id", "commence_time").iter_rows()
    ]
    # The parser pairs Over and Under per book, market and player name as the book spells it.
    props = _table(
        raw.odds_player_props,
        _answers(replay, odds),
        parsers.parse_event_odds,
        exclude=("player_lookup", "player_id"),
        key=("event_id", "bookmaker", "market", "player_name"),
    )
    return {
        raw.nbac_schedule.name: schedule,
        raw.nbac_player_boxscores.name: player_box,
        raw.nbac_team_boxscores.name: team_box,
        raw.nbac_player_list.name: player_list,
        raw.odds_events.name: events,
        raw.odds_player_props.name: props_with_players(props, player_list),
    }


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
            the current time, as ``nba-assets replay`` serves (for the shipped archive, the
            time of the process's first call, so that the days built are kept for later calls).

    Raises:
        ValueError: ``now`` has no timezone.
        ReplayAnswerError: the archive answered a request with an error.
        nba_assets.lib.parsers.PayloadError: an answer does not pass the raw assets' checks.
    """
    if now is not None and now.tzinfo is None:
        raise ValueError(f"raw_frames needs a timezone-aware replay clock, got now={now!r}")
    if archive is None and now is None:
        replay = _shipped_replay()
    else:
        app = _shipped_replay().app if archive is None else ReplayApp(archive)
        replay = _Replay(app, now or dt.datetime.now(dt.UTC))
    days = [replay.day(d) for d in _each_date(start, end)]
    return {spec.name: spec.conform(pl.concat([d[spec.name] for d in days])) for spec in raw.TABLES}
