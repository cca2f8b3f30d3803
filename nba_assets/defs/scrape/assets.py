"""Phase 1: fetch each source endpoint for the days of the run and land the payloads as files."""

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from nba_assets.defs.pools import NBA_STATS_POOL, ODDS_API_POOL
from nba_assets.defs.util import each_date, partition_dates
from nba_assets.landing.manifest import (
    LandedFile,
    landed_payloads,
    snapshot_time,
    write_manifest,
)
from nba_assets.landing.resource import LandingResource
from nba_assets.lib import parsers
from nba_assets.partitions import game_date_partitions
from nba_assets.sources import nba_stats, odds_api
from nba_assets.sources.http import FetchResult
from nba_assets.sources.resource import SourcesResource

STATS, ODDS = "nba_stats", "odds_api"
SCOREBOARD = "scoreboardv2"
PLAYER_GAME_LOG = "leaguegamelog_players"
TEAM_GAME_LOG = "leaguegamelog_teams"
PLAYER_LIST = "commonallplayers"
EVENTS = "events"
EVENT_ODDS = "event_odds"
LANDING_PREFIX = "landing"
# Each endpoint's source API, whose concurrency pool its step holds.
SOURCE_POOL = {
    SCOREBOARD: NBA_STATS_POOL,
    PLAYER_GAME_LOG: NBA_STATS_POOL,
    TEAM_GAME_LOG: NBA_STATS_POOL,
    PLAYER_LIST: NBA_STATS_POOL,
    EVENTS: ODDS_API_POOL,
    EVENT_ODDS: ODDS_API_POOL,
}
# Payloads listed in a scrape's materialization metadata.
SAMPLED_PAYLOADS = 5
# Game types the league game log is asked for; preseason and All-Star games are not scraped.
SCRAPED_SEASON_TYPES = ("Regular Season", "PlayIn", "Playoffs")


def scrape_key(endpoint: str) -> dg.AssetKey:
    return dg.AssetKey([LANDING_PREFIX, endpoint])


def _slug(text: str) -> str:
    return text.lower().replace(" ", "_")


def _land(
    landing: LandingResource,
    source: str,
    endpoint: str,
    days: Sequence[dt.date],
    named: Sequence[tuple[dt.date, str, FetchResult]],
    kept: Mapping[dt.date, Sequence[LandedFile]] | None = None,
    snapshots: Mapping[str, dt.datetime] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dg.MaterializeResult:
    """Land every payload, write each day's manifest (empty on days without requests).

    Args:
        kept: per day, entries landed before that stay in its manifest (append-only endpoints).
        snapshots: per payload name, when its lines snapshot was taken.
        extra: more metadata for the materialization.
    """
    # A payload landed again under the same name (a snapshot the source restated) replaces its
    # entry, so the manifest never names a file twice.
    landing_now = {(day, name) for day, name, _ in named}
    by_day: dict[dt.date, list[LandedFile]] = {
        d: [f for f in (kept or {}).get(d, ()) if (d, f.name) not in landing_now] for d in days
    }
    for day, name, result in named:
        landing.zone.write(source, endpoint, day, name, result.body)
        taken = (snapshots or {}).get(name)
        by_day[day].append(
            LandedFile(
                name=name,
                url=result.url,
                status=result.status,
                bytes=len(result.body),
                fetched_at=result.fetched_at.isoformat(),
                attempts=result.attempts,
                source_time=result.source_time.isoformat() if result.source_time else None,
                snapshot_time=taken.isoformat() if taken else None,
            )
        )
    for day, files in by_day.items():
        write_manifest(landing.zone, source, endpoint, day, files)
    statuses = Counter(r.status for _, _, r in named)
    # Dagster copies a ranged run's metadata onto each day's materialization: 20 rows here made
    # 45 MB of the demo's 130 MB of history events.
    sample = [
        f"| {d} | {r.url} | {r.status} | {len(r.body):,} | {r.fetched_at:%Y-%m-%dT%H:%M:%S}Z |"
        for d, _, r in named[:SAMPLED_PAYLOADS]
    ]
    table = (
        "| game_date | url | status | bytes | fetched_at |\n|---|---|---|---|---|\n"
        + "\n".join(sample)
    )
    return dg.MaterializeResult(
        metadata={
            "requests": len(named),
            "bytes": sum(len(r.body) for _, _, r in named),
            "retries": sum(r.attempts - 1 for _, _, r in named),
            "statuses": ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) or "none",
            "fetch_seconds": round(sum(r.elapsed_seconds for _, _, r in named), 3),
            f"payloads (first {SAMPLED_PAYLOADS})": dg.MetadataValue.md(table),
            **(extra or {}),
        }
    )


def _scrape_asset(endpoint: str, doc: str, deps: Sequence[dg.AssetKey] = ()):
    return dg.asset(
        key=scrape_key(endpoint),
        group_name="scrape",
        description=doc,
        partitions_def=game_date_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=list(deps),
        kinds={"http"},
        pool=SOURCE_POOL[endpoint],
    )


def _games_by_day(landing: LandingResource, days: Sequence[dt.date]) -> dict[dt.date, list[str]]:
    """Game ids of each day, from the landed scoreboards."""
    out = {}
    for day in days:
        games: list[str] = []
        for entry, body in landed_payloads(landing.zone, STATS, SCOREBOARD, day):
            ctx = parsers.StatsContext(SCOREBOARD, day, entry.name)
            games += parsers.parse_scoreboard(body, ctx).get_column("game_id").to_list()
        out[day] = games
    return out


@_scrape_asset(SCOREBOARD, "NBA.com scoreboard of each day: the games, their status and scores.")
def nbac_scoreboard(
    context: dg.AssetExecutionContext, sources: SourcesResource, landing: LandingResource
) -> dg.MaterializeResult:
    days = each_date(*partition_dates(context))
    results = sources.fetch([nba_stats.scoreboard(d) for d in days])
    return _land(
        landing,
        STATS,
        SCOREBOARD,
        days,
        [(d, "scoreboard.json", r) for d, r in zip(days, results, strict=True)],
    )


def _game_log(context, sources, landing, player_or_team: str, endpoint: str):
    days = each_date(*partition_dates(context))
    wanted = []
    for day, games in _games_by_day(landing, days).items():
        season_types = {parsers.season_type_of(g) for g in games}
        for season_type in SCRAPED_SEASON_TYPES:
            if season_type in season_types:
                season = nba_stats.season_for(day)
                request = nba_stats.league_game_log(day, player_or_team, season, season_type)
                wanted.append((day, f"{_slug(season_type)}.json", request))
    results = sources.fetch([r for _, _, r in wanted])
    named = [(d, n, res) for (d, n, _), res in zip(wanted, results, strict=True)]
    return _land(landing, STATS, endpoint, days, named)


@_scrape_asset(
    PLAYER_GAME_LOG,
    "NBA.com league game log of players for each day's finished games.",
    deps=[scrape_key(SCOREBOARD)],
)
def nbac_player_gamelog(
    context: dg.AssetExecutionContext, sources: SourcesResource, landing: LandingResource
) -> dg.MaterializeResult:
    return _game_log(context, sources, landing, "P", PLAYER_GAME_LOG)


@_scrape_asset(
    TEAM_GAME_LOG,
    "NBA.com league game log of teams for each day's finished games.",
    deps=[scrape_key(SCOREBOARD)],
)
def nbac_team_gamelog(
    context: dg.AssetExecutionContext, sources: SourcesResource, landing: LandingResource
) -> dg.MaterializeResult:
    return _game_log(context, sources, landing, "T", TEAM_GAME_LOG)


@_scrape_asset(
    PLAYER_LIST,
    "NBA.com player list (rosters) of the season, fetched on each game day.",
    deps=[scrape_key(SCOREBOARD)],
)
def nbac_player_list_scrape(
    context: dg.AssetExecutionContext, sources: SourcesResource, landing: LandingResource
) -> dg.MaterializeResult:
    days = each_date(*partition_dates(context))
    game_days = [d for d, games in _games_by_day(landing, days).items() if games]
    # One fetch per season serves every game day of that season inside this run.
    days_of_season: dict[str, list[dt.date]] = {}
    for day in game_days:
        days_of_season.setdefault(nba_stats.season_for(day), []).append(day)
    seasons = sorted(days_of_season)
    requests = [nba_stats.all_players(s, days_of_season[s]) for s in seasons]
    fetched = dict(zip(seasons, sources.fetch(requests), strict=True))
    named = [(d, "players.json", fetched[nba_stats.season_for(d)]) for d in game_days]
    return _land(landing, STATS, PLAYER_LIST, days, named)


@_scrape_asset(EVENTS, "The Odds API: the NBA events (games) of each day.")
def odds_events_scrape(
    context: dg.AssetExecutionContext, sources: SourcesResource, landing: LandingResource
) -> dg.MaterializeResult:
    days = each_date(*partition_dates(context))
    results = sources.fetch([odds_api.events(d) for d in days])
    return _land(
        landing,
        ODDS,
        EVENTS,
        days,
        [(d, "events.json", r) for d, r in zip(days, results, strict=True)],
    )


def _source_now(entry: LandedFile) -> dt.datetime:
    """The source's clock now, from its Date header on the listing (moved on by the time since
    that fetch); the local clock when the source sent none."""
    now = dt.datetime.now(dt.UTC)
    if entry.source_time is None:
        return now
    return dt.datetime.fromisoformat(entry.source_time) + (
        now - dt.datetime.fromisoformat(entry.fetched_at)
    )


def _event_of(body: bytes) -> tuple[Any, dt.datetime | None]:
    """An event odds payload's event (the live answer, or a historical snapshot's data) and the
    historical snapshot's time (None for a live answer)."""
    data = json.loads(body)
    if isinstance(data, dict) and "timestamp" in data and "data" in data:
        return data["data"], dt.datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00"))
    return data, None


def _latest_by_event(landed: list[tuple[LandedFile, bytes]]) -> dict[str, tuple[LandedFile, Any]]:
    """Each event's last landed odds payload of the day (by snapshot time), and its event."""
    latest: dict[str, tuple[LandedFile, Any]] = {}
    for entry, body in landed:
        event_id = entry.name.rsplit("/", 1)[-1].removesuffix(".json")
        held = latest.get(event_id)
        if held is None or snapshot_time(held[0]) <= snapshot_time(entry):
            latest[event_id] = (entry, _event_of(body)[0])
    return latest


@_scrape_asset(
    EVENT_ODDS,
    "The Odds API: snapshots of the pre-game player prop markets of every event of each day,"
    " append-only (each event's payload lands again only when its odds changed).",
    deps=[scrape_key(EVENTS)],
)
def odds_event_odds(
    context: dg.AssetExecutionContext, sources: SourcesResource, landing: LandingResource
) -> dg.MaterializeResult:
    """Live odds for events not yet started; the last snapshot before tip-off, from the
    historical endpoint, for those that have. A payload equal to the event's last landed one is
    not landed again, so re-running a finished day changes nothing."""
    days = each_date(*partition_dates(context))
    wanted = []
    for day in days:
        for entry, body in landed_payloads(landing.zone, ODDS, EVENTS, day):
            events = parsers.parse_events(body, parsers.OddsContext(EVENTS, day, entry.name))
            now = _source_now(entry)
            for event_id, commence in events.select("event_id", "commence_time").iter_rows():
                wanted.append((day, event_id, odds_api.odds_for(event_id, day, commence, now)))
    results = sources.fetch([r for _, _, r in wanted])
    landed = {
        day: landed_payloads(landing.zone, ODDS, EVENT_ODDS, day, missing_ok=True) for day in days
    }
    latest = {day: _latest_by_event(payloads) for day, payloads in landed.items()}
    kept = {day: [entry for entry, _ in payloads] for day, payloads in landed.items()}
    named, snapshots, unchanged, without_lines = [], {}, 0, 0
    for (day, event_id, _), result in zip(wanted, results, strict=True):
        event, historical_time = _event_of(result.body)
        if event is None or not event.get("bookmakers"):
            without_lines += 1
            continue
        held = latest[day].get(event_id)
        if held is not None and held[1] == event:
            unchanged += 1
            continue
        taken = (historical_time or result.source_time or result.fetched_at).astimezone(dt.UTC)
        name = f"{taken:%Y%m%dT%H%M%SZ}/{event_id}.json"
        named.append((day, name, result))
        snapshots[name] = taken
    return _land(
        landing,
        ODDS,
        EVENT_ODDS,
        days,
        named,
        kept=kept,
        snapshots=snapshots,
        extra={
            "snapshots_landed": len({n.split("/", 1)[0] for n in snapshots}),
            "events_unchanged": unchanged,
            "events_without_lines": without_lines,
        },
    )
