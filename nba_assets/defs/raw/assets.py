"""Phase 2: validate each landed payload into the typed ``nba_raw`` tables."""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import polars as pl

from nba_assets.defs.scrape.assets import (
    EVENT_ODDS,
    EVENTS,
    ODDS,
    PLAYER_GAME_LOG,
    PLAYER_LIST,
    SCOREBOARD,
    STATS,
    TEAM_GAME_LOG,
    scrape_key,
)
from nba_assets.defs.table_asset import table_asset
from nba_assets.defs.util import each_date, partition_dates
from nba_assets.landing.manifest import LandedFile, landed_payloads, snapshot_time
from nba_assets.landing.resource import LandingResource
from nba_assets.lib import parsers
from nba_assets.lib.names import apply_aliases, with_player_lookup
from nba_assets.player_aliases import load_aliases
from nba_assets.tables import raw
from nba_assets.tables.spec import TableSpec
from nba_assets.warehouse.resource import WarehouseResource

GROUP = "raw"
Parser = Callable[[bytes, Any], pl.DataFrame]  # Any: a StatsContext or an OddsContext


@dataclass
class Parsed:
    """The rows of a range's payloads, and what parsing them found."""

    rows: pl.DataFrame
    payloads: int
    duplicate_rows: int

    def metadata(self) -> dict[str, int]:
        return {
            "payloads": self.payloads,
            "duplicate_rows_dropped": self.duplicate_rows,
        }


def _parse_range(
    context: dg.AssetExecutionContext,
    landing: LandingResource,
    spec: TableSpec,
    source: str,
    endpoint: str,
    parse: Parser,
    schema: pl.Schema,
    key: Sequence[str],
) -> Parsed:
    """Parse and check every payload landed for the run's days.

    Each payload must fill the columns of ``schema`` as ``spec``'s null policy expects, and rows
    repeated exactly within a payload are dropped, counted and logged (rows that share ``key``
    but differ fail it). A failing payload raises :class:`parsers.PayloadError` and stays in the
    landing zone untouched: parsing only reads.
    """
    start, end = partition_dates(context)

    def payloads() -> Iterator[_Payload]:  # read day by day, on each pass
        for day in each_date(start, end):
            for entry, body in landed_payloads(landing.zone, source, endpoint, day):
                yield _Payload(day, entry, body)

    # All payloads are checked at once (a backfill has thousands, and checking each alone was
    # most of the parsing time); should any fail, the pass over one at a time names the first.
    checked = _check_together(payloads(), spec, source, endpoint, parse, schema, key)
    if checked is None:
        checked = _check_each(payloads(), landing, spec, source, endpoint, parse, schema, key)
    for (day, name), dropped, rows in zip(
        checked.files, checked.dropped, checked.rows, strict=True
    ):
        if dropped:
            context.log.warning(
                f"{source}/{endpoint} for game_date {day}: dropped {dropped} exact duplicate"
                f" row(s) of {rows} (landed file: {name})"
            )
    duplicates, count = sum(checked.dropped), len(checked.files)
    frames = [f for f in checked.frames if not f.is_empty()]
    if not frames:
        return Parsed(pl.DataFrame(schema=schema), count, duplicates)
    df = pl.concat(frames, how="diagonal_relaxed")
    return Parsed(df.select(pl.col(c).cast(t) for c, t in schema.items()), count, duplicates)


@dataclass(frozen=True)
class _Payload:
    day: dt.date
    entry: LandedFile
    body: bytes


@dataclass
class _Checked:
    """The payloads' rows without exact duplicates; per payload its day and file name, rows
    and rows dropped."""

    frames: list[pl.DataFrame] = field(default_factory=list)
    files: list[tuple[dt.date, str]] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def _context(source: str, endpoint: str, payload: _Payload) -> Any:  # Parser's context
    if source == ODDS:
        return parsers.OddsContext(
            endpoint, payload.day, payload.entry.name, snapshot_time(payload.entry)
        )
    return parsers.StatsContext(endpoint, payload.day, payload.entry.name)


def _check_each(
    payloads: Iterable[_Payload],
    landing: LandingResource,
    spec: TableSpec,
    source: str,
    endpoint: str,
    parse: Parser,
    schema: pl.Schema,
    key: Sequence[str],
) -> _Checked:
    """Parse and check one payload after the other; the first failure raises, naming its
    landed file."""
    checked = _Checked()
    for payload in payloads:
        ctx = _context(source, endpoint, payload)
        try:
            frame = parse(payload.body, ctx)
            parsers.check_columns(frame, spec, list(schema), ctx)
            unique, dropped = parsers.drop_duplicate_rows(frame, key, ctx)
        except parsers.PayloadError as error:
            # Listing costs a request on GCS: only a failure looks up the file's full URI.
            landed = landing.zone.list(source, endpoint, payload.day)
            uris = [u for u in landed if u.endswith("/" + payload.entry.name)]
            raise error.landed_at(uris[0] if uris else payload.entry.name) from None
        checked.frames.append(unique)
        checked.files.append((payload.day, payload.entry.name))
        checked.dropped.append(dropped)
        checked.rows.append(frame.height)
    return checked


_PAYLOAD = "__payload"


def _check_together(
    payloads: Iterable[_Payload],
    spec: TableSpec,
    source: str,
    endpoint: str,
    parse: Parser,
    schema: pl.Schema,
    key: Sequence[str],
) -> _Checked | None:
    """The checks of :func:`_check_each` on all payloads in one frame tagged by payload; None
    when any payload fails one (or cannot be parsed), for ``_check_each`` to say which."""
    columns = list(schema)
    # Only the tagged frames are kept (a day without rows has nothing to check), so the range
    # is held twice at most, as in the pass over one payload at a time.
    tagged, files, rows = [], [], []
    try:
        for p in payloads:
            frame = parse(p.body, _context(source, endpoint, p))
            files.append((p.day, p.entry.name))
            rows.append(frame.height)
            if not frame.is_empty():
                tagged.append(frame.with_columns(pl.lit(len(rows) - 1, pl.UInt32).alias(_PAYLOAD)))
    except (parsers.PayloadError, FileNotFoundError):  # the other pass raises it in its turn
        return None
    if any(c not in f.columns for f in tagged for c in columns):
        return None
    if not tagged:
        return _Checked([], files, [0] * len(rows), rows)
    try:
        df = pl.concat(tagged, how="diagonal_relaxed")
    except pl.exceptions.PolarsError:
        return None
    del tagged
    # parsers.check_columns: no column the spec expects filled is null in all of a payload's
    # rows of a season.
    judged = [c for c in spec.columns if c in columns]
    by = [_PAYLOAD, *(["season"] if "season" in columns else [])]
    nulls = df.group_by(by).agg(
        pl.len().alias("__rows"), *(pl.col(c).null_count().alias(f"__nulls_{c}") for c in judged)
    )
    for column in judged:
        empty = nulls.filter(pl.col(f"__nulls_{column}") == pl.col("__rows"))
        seasons = empty.get_column("season").unique() if "season" in by else [None] * empty.height
        if any(not spec.may_be_all_null(column, _season(s)) for s in seasons):
            return None
    # parsers.drop_duplicate_rows, within each payload.
    unique = df.unique(maintain_order=True)
    if not unique.filter(pl.len().over(_PAYLOAD, *key) > 1).is_empty():
        return None
    kept = dict(unique.group_by(_PAYLOAD).len().iter_rows())
    dropped = [n - kept.get(i, 0) for i, n in enumerate(rows)]
    return _Checked([unique.drop(_PAYLOAD)], files, dropped, rows)


def _season(value: object) -> str | None:
    return None if value is None else str(value)


def _raw_asset(spec: TableSpec, scrape_endpoint: str, source: str, parse: Parser):
    @table_asset(spec, group=GROUP, deps=[scrape_key(scrape_endpoint)])
    def _asset(context: dg.AssetExecutionContext, landing: LandingResource) -> dg.Output:
        parsed = _parse_range(
            context, landing, spec, source, scrape_endpoint, parse, spec.schema, spec.key
        )
        return dg.Output(parsed.rows, metadata=parsed.metadata())

    return _asset


nbac_schedule = _raw_asset(raw.nbac_schedule, SCOREBOARD, STATS, parsers.parse_scoreboard)
nbac_player_boxscores = _raw_asset(
    raw.nbac_player_boxscores, PLAYER_GAME_LOG, STATS, parsers.parse_player_game_log
)
nbac_team_boxscores = _raw_asset(
    raw.nbac_team_boxscores, TEAM_GAME_LOG, STATS, parsers.parse_team_game_log
)
nbac_player_list = _raw_asset(raw.nbac_player_list, PLAYER_LIST, STATS, parsers.parse_player_list)
odds_events = _raw_asset(raw.odds_events, EVENTS, ODDS, parsers.parse_events)


@table_asset(
    raw.odds_player_props, group=GROUP, deps=[scrape_key(EVENT_ODDS), raw.nbac_player_list]
)
def odds_player_props(
    context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource
) -> dg.Output:
    """Sportsbook player props of every lines snapshot of the day (append-only: each landed
    snapshot's rows, with its time), matched to NBA.com players by name."""
    start, end = partition_dates(context)
    spec = raw.odds_player_props
    schema = pl.Schema(
        {c: t for c, t in spec.columns.items() if c not in ("player_lookup", "player_id")}
    )
    # The parser pairs Over and Under per book, market and player name as the book spells it.
    parsed = _parse_range(
        context, landing, spec, ODDS, EVENT_ODDS, parsers.parse_event_odds, schema,
        ("event_id", "bookmaker", "market", "player_name"),
    )  # fmt: skip
    df = with_player_lookup(parsed.rows, "player_name").with_columns(
        player_lookup=apply_aliases(pl.col("player_lookup"), load_aliases())
    )
    roster = (
        warehouse.get()
        .read(raw.nbac_player_list, start, end, columns=["game_date", "player_lookup", "player_id"])
        .unique(["game_date", "player_lookup"])
    )
    df = df.join(roster, on=["game_date", "player_lookup"], how="left").unique(maintain_order=True)
    unmatched = df.filter(pl.col("player_id").is_null()).get_column("player_name").unique().sort()
    if unmatched.len():
        context.log.warning(
            f"{unmatched.len()} sportsbook player names matched no NBA.com player:"
            f" {', '.join(unmatched.head(20).to_list())}"
        )
    return dg.Output(
        df,
        metadata={
            **parsed.metadata(),
            "unmatched_players": unmatched.len(),
            "unmatched_rows": int(df.get_column("player_id").null_count()),
            "unmatched_names": ", ".join(unmatched.head(50).to_list()),
        },
    )
