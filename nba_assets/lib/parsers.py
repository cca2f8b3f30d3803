"""Validate landed source payloads (bytes) into the typed ``nba_raw`` frames.

A payload that is not what the source promises (bad JSON, a missing result set or field, a value
of the wrong type, a column its table spec expects that is missing or null in every row, rows
that share a key but differ) raises :class:`PayloadError` naming source, endpoint, game_date and
field or column.

One module for every source endpoint (over 350 lines on purpose): the parsers share the payload
models, the error context and the column and duplicate checks, so each endpoint is a few lines.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from nba_assets.lib.names import with_player_lookup
from nba_assets.tables.spec import TableSpec


class PayloadError(ValueError):
    """A landed payload that does not validate; the message says where and what."""

    def __init__(self, source: str, endpoint: str, game_date: dt.date, detail: str, uri: str = ""):
        where = f"{source}/{endpoint} for game_date {game_date}"
        super().__init__(f"{where}: {detail}" + (f" (landed file: {uri})" if uri else ""))
        self.source, self.endpoint, self.game_date = source, endpoint, game_date
        self.detail = detail

    def landed_at(self, uri: str) -> PayloadError:
        """The same error naming the landed file by its full URI."""
        return PayloadError(self.source, self.endpoint, self.game_date, self.detail, uri)


def check_columns(
    df: pl.DataFrame, spec: TableSpec, columns: Sequence[str], ctx: StatsContext
) -> None:
    """Fail a payload whose rows lack a column, or have one null in every row, against the spec.

    ``columns`` are the spec's columns the payload fills (the parser's output). A field the source
    renamed or stopped filling would otherwise land as a column of nulls (see ``TableSpec``'s null
    policy). A payload without rows (a day without games) has nothing to judge.

    Raises:
        PayloadError: naming every such column (and the season, where the policy depends on it).
    """
    if df.is_empty():
        return
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ctx.error(f"parsed rows lack column(s) {missing} of {spec.qualified_name()}")
    offences = spec.all_null_columns(df.select(columns))
    if offences:
        each = ", ".join(
            f"{column!r} ({rows} rows{f', season {season}' if season else ''})"
            for column, season, rows in offences
        )
        raise ctx.error(
            f"column(s) null in every row: {each}; {spec.qualified_name()} expects values there,"
            " so the source has likely renamed or stopped filling the field. The payload stays in"
            " the landing zone: fix the source, or declare the column in the table spec's"
            " nullable / null_in_seasons, then re-run the day"
        )


def drop_duplicate_rows(
    df: pl.DataFrame, key: Sequence[str], ctx: StatsContext
) -> tuple[pl.DataFrame, int]:
    """``df`` without rows repeated exactly, and how many were dropped.

    A source that sends the same record twice loses nothing when one copy goes; two records with
    the same key that differ cannot both be true, and picking one would hide it.

    Raises:
        PayloadError: rows share ``key`` but differ, naming the key and the differing columns.
    """
    if df.is_empty():
        return df, 0
    unique = df.unique(maintain_order=True)
    clashing = unique.filter(pl.len().over(key) > 1)
    if not clashing.is_empty():
        first = clashing.row(0, named=True)
        group = clashing.filter(pl.all_horizontal(pl.col(k) == first[k] for k in key))
        differing = [c for c in group.columns if group.get_column(c).n_unique() > 1]
        raise ctx.error(
            f"{clashing.height} rows share a key ({', '.join(key)}) but differ, e.g."
            f" {', '.join(f'{k}={first[k]!r}' for k in key)} in column(s) {differing};"
            " the source contradicts itself, so no copy is kept"
        )
    return unique, df.height - unique.height


# --- NBA.com stats ----------------------------------------------------------------------------


class ResultSet(BaseModel):
    name: str
    headers: list[str]
    rowSet: list[list[Any]]  # noqa: N815 - the source's field name


class StatsPayload(BaseModel):
    resource: str
    parameters: dict[str, Any] | list[Any]
    resultSets: list[ResultSet]  # noqa: N815


class _Row(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class GameHeaderRow(_Row):
    game_id: str = Field(alias="GAME_ID")
    game_status: int = Field(alias="GAME_STATUS_ID")
    home_team_id: int = Field(alias="HOME_TEAM_ID")
    away_team_id: int = Field(alias="VISITOR_TEAM_ID")
    season_start_year: str = Field(alias="SEASON")


class LineScoreRow(_Row):
    game_id: str = Field(alias="GAME_ID")
    team_id: int = Field(alias="TEAM_ID")
    team_abbr: str = Field(alias="TEAM_ABBREVIATION")
    pts: int | None = Field(alias="PTS")


class _GameLogRow(_Row):
    season_id: str = Field(alias="SEASON_ID")
    team_id: int = Field(alias="TEAM_ID")
    team_abbr: str = Field(alias="TEAM_ABBREVIATION")
    game_id: str = Field(alias="GAME_ID")
    game_date: dt.date = Field(alias="GAME_DATE")
    matchup: str = Field(alias="MATCHUP")
    wl: str | None = Field(alias="WL")
    minutes: float | None = Field(alias="MIN")
    pts: int = Field(alias="PTS")
    fgm: int | None = Field(alias="FGM")
    fga: int | None = Field(alias="FGA")
    fg3m: int | None = Field(alias="FG3M")
    fg3a: int | None = Field(alias="FG3A")
    ftm: int | None = Field(alias="FTM")
    fta: int | None = Field(alias="FTA")
    oreb: int | None = Field(alias="OREB")
    dreb: int | None = Field(alias="DREB")
    reb: int | None = Field(alias="REB")
    ast: int | None = Field(alias="AST")
    stl: int | None = Field(alias="STL")
    blk: int | None = Field(alias="BLK")
    tov: int | None = Field(alias="TOV")
    pf: int | None = Field(alias="PF")
    plus_minus: float | None = Field(alias="PLUS_MINUS")


class PlayerGameLogRow(_GameLogRow):
    player_id: int = Field(alias="PLAYER_ID")
    player_name: str = Field(alias="PLAYER_NAME")


class TeamGameLogRow(_GameLogRow):
    pass


class PlayerListRow(_Row):
    player_id: int = Field(alias="PERSON_ID")
    player_name: str = Field(alias="DISPLAY_FIRST_LAST")
    roster_status: int | None = Field(alias="ROSTERSTATUS")
    team_id: int | None = Field(alias="TEAM_ID")
    team_abbr: str | None = Field(alias="TEAM_ABBREVIATION")


SEASON_TYPE_BY_GAME_ID = {
    "1": "Preseason",
    "2": "Regular Season",
    "3": "All-Star",
    "4": "Playoffs",
    "5": "PlayIn",
    "6": "Cup Final",
}


def season_type_of(game_id: str) -> str:
    """NBA.com game ids carry the game type in their third digit (``0022500123``)."""
    return SEASON_TYPE_BY_GAME_ID.get(game_id[2:3], "Unknown")


def season_of(season_start_year: str | int) -> str:
    """``"2025"`` -> ``"2025-26"``."""
    year = int(str(season_start_year)[:4])
    return f"{year}-{str(year + 1)[2:]}"


class StatsContext:
    """Where a payload came from, for error messages."""

    def __init__(self, endpoint: str, game_date: dt.date, uri: str = ""):
        self.source, self.endpoint, self.game_date, self.uri = "nba_stats", endpoint, game_date, uri

    def error(self, detail: str) -> PayloadError:
        return PayloadError(self.source, self.endpoint, self.game_date, detail, self.uri)


@functools.cache
def _adapter(model: Any) -> TypeAdapter:
    """One validator per model type: building one costs more than validating a payload."""
    return TypeAdapter(model)


def _load_json(body: bytes, ctx: StatsContext | OddsContext) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ctx.error(f"body is not valid JSON ({exc})") from None


def _rows(payload: StatsPayload, set_name: str, model: type[_Row], ctx: StatsContext) -> list[Any]:
    sets = {rs.name: rs for rs in payload.resultSets}
    if set_name not in sets:
        raise ctx.error(f"result set {set_name!r} missing (have {sorted(sets)})")
    rs = sets[set_name]
    required = [f.alias for f in model.model_fields.values() if f.alias]
    missing = [h for h in required if h not in rs.headers]
    if missing:
        raise ctx.error(f"result set {set_name!r} lacks field(s) {missing}")
    records = []
    for i, row in enumerate(rs.rowSet):
        if len(row) != len(rs.headers):
            raise ctx.error(
                f"{set_name} row {i} has {len(row)} values for {len(rs.headers)} headers"
            )
        records.append(dict(zip(rs.headers, row, strict=True)))
    try:
        return _adapter(list[model]).validate_python(records)  # pyright: ignore[reportInvalidTypeForm]
    except ValidationError as exc:
        err = exc.errors()[0]
        index, field = (err["loc"] + ("?", "?"))[:2]
        raise ctx.error(
            f"{set_name} row {index} field {field}: {err['msg']} (got {err.get('input')!r});"
            f" {exc.error_count()} error(s) in all"
        ) from None


def _stats_payload(body: bytes, ctx: StatsContext) -> StatsPayload:
    try:
        return StatsPayload.model_validate(_load_json(body, ctx))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ctx.error(f"envelope field {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def parse_scoreboard(body: bytes, ctx: StatsContext) -> pl.DataFrame:
    """``scoreboardv2`` -> one row per game (``nba_raw.nbac_schedule`` columns)."""
    payload = _stats_payload(body, ctx)
    headers: list[GameHeaderRow] = _rows(payload, "GameHeader", GameHeaderRow, ctx)
    lines: list[LineScoreRow] = _rows(payload, "LineScore", LineScoreRow, ctx)
    by_team = {(ls.game_id, ls.team_id): ls for ls in lines}
    out = []
    for g in headers:
        home, away = (
            by_team.get((g.game_id, g.home_team_id)),
            by_team.get((g.game_id, g.away_team_id)),
        )
        if home is None or away is None:
            raise ctx.error(f"LineScore lacks a team of game {g.game_id}")
        out.append(
            {
                "game_date": ctx.game_date,
                "game_id": g.game_id,
                "season": season_of(g.season_start_year),
                "season_type": season_type_of(g.game_id),
                "game_status": g.game_status,
                "home_team_id": g.home_team_id,
                "home_team_abbr": home.team_abbr,
                "away_team_id": g.away_team_id,
                "away_team_abbr": away.team_abbr,
                "home_pts": home.pts,
                "away_pts": away.pts,
            }
        )
    return pl.DataFrame(out, schema=_SCHEDULE_SCHEMA)


_SCHEDULE_SCHEMA = {
    "game_date": pl.Date, "game_id": pl.String, "season": pl.String, "season_type": pl.String,
    "game_status": pl.Int64, "home_team_id": pl.Int64, "home_team_abbr": pl.String,
    "away_team_id": pl.Int64, "away_team_abbr": pl.String, "home_pts": pl.Int64,
    "away_pts": pl.Int64,
}  # fmt: skip


def _each_value(df: pl.DataFrame, column: str, fn: Callable[[str], str]) -> pl.Expr:
    """``fn`` of each row's string ``column``, called once per distinct value (a payload holds
    one season and a few game types in hundreds of rows)."""
    values = df.get_column(column).unique().to_list()
    return pl.col(column).replace_strict({v: fn(v) for v in values}, return_dtype=pl.String)


def _game_log_frame(rows: list[Any], ctx: StatsContext) -> pl.DataFrame:
    wrong_day = [r.game_id for r in rows if r.game_date != ctx.game_date]
    if wrong_day:
        raise ctx.error(f"LeagueGameLog field GAME_DATE: games {wrong_day[:3]} are not on that day")
    df = pl.DataFrame([r.model_dump() for r in rows], infer_schema_length=None)
    if df.is_empty():
        return df
    return df.with_columns(
        season=_each_value(df, "season_id", lambda s: season_of(s[1:])),
        season_type=_each_value(df, "game_id", season_type_of),
        # MATCHUP "BOS vs. NYK" is a home game of BOS, "BOS @ NYK" an away game.
        is_home=pl.col("matchup").str.contains(" vs. ", literal=True),
        opponent_team_abbr=pl.col("matchup").str.split(" ").list.last(),
    ).drop("season_id", "matchup")


def parse_player_game_log(body: bytes, ctx: StatsContext) -> pl.DataFrame:
    """``leaguegamelog`` (players) -> ``nba_raw.nbac_player_boxscores`` rows (unordered)."""
    rows = _rows(_stats_payload(body, ctx), "LeagueGameLog", PlayerGameLogRow, ctx)
    df = _game_log_frame(rows, ctx)
    return with_player_lookup(df, "player_name") if not df.is_empty() else df


def parse_team_game_log(body: bytes, ctx: StatsContext) -> pl.DataFrame:
    """``leaguegamelog`` (teams) -> ``nba_raw.nbac_team_boxscores`` rows (unordered)."""
    return _game_log_frame(
        _rows(_stats_payload(body, ctx), "LeagueGameLog", TeamGameLogRow, ctx), ctx
    )


# The last player list parsed, by its bytes. A replay lands one season's answer on each of its
# game days, so the same bytes come again and again: 7 s of the demo's history run went to
# parsing them anew.
_last_player_list: dict[bytes, pl.DataFrame] = {}


def parse_player_list(body: bytes, ctx: StatsContext) -> pl.DataFrame:
    """``commonallplayers`` -> ``nba_raw.nbac_player_list`` rows for the day fetched."""
    parsed = _last_player_list.get(body)
    if parsed is None:
        parsed = _parse_player_list(body, ctx)
        _last_player_list.clear()
        _last_player_list[body] = parsed
    return parsed.with_columns(game_date=pl.lit(ctx.game_date))


def _parse_player_list(body: bytes, ctx: StatsContext) -> pl.DataFrame:
    payload = _stats_payload(body, ctx)
    rows: list[PlayerListRow] = _rows(payload, "CommonAllPlayers", PlayerListRow, ctx)
    season = payload.parameters.get("Season") if isinstance(payload.parameters, dict) else None
    if not season:
        raise ctx.error("parameters field Season missing")
    df = pl.DataFrame(
        [r.model_dump() for r in rows],
        schema={"player_id": pl.Int64, "player_name": pl.String, "roster_status": pl.Int64,
                "team_id": pl.Int64, "team_abbr": pl.String},
    )  # fmt: skip
    df = df.with_columns(game_date=pl.lit(ctx.game_date), season=pl.lit(str(season)))
    return with_player_lookup(df, "player_name")


# --- The Odds API -----------------------------------------------------------------------------


class OddsContext(StatsContext):
    """Where an Odds API payload came from; ``snapshot_time`` is when its odds were taken."""

    def __init__(
        self,
        endpoint: str,
        game_date: dt.date,
        uri: str = "",
        snapshot_time: dt.datetime | None = None,
    ):
        super().__init__(endpoint, game_date, uri)
        self.source = "odds_api"
        self.snapshot_time = snapshot_time


class Historical(BaseModel):
    """The historical endpoints' envelope: the snapshot's time and the live answer it held."""

    timestamp: dt.datetime
    data: Any = None


def _unwrap(data: Any, ctx: OddsContext) -> tuple[Any, dt.datetime | None]:
    """A live answer as is, or a historical one's ``data`` with its snapshot time."""
    if isinstance(data, dict) and "timestamp" in data and "data" in data:
        envelope: Historical = _validate(Historical, data, ctx)
        return envelope.data, envelope.timestamp
    return data, None


class Event(BaseModel):
    id: str
    commence_time: dt.datetime
    home_team: str
    away_team: str


class Outcome(BaseModel):
    name: str
    description: str
    price: float | None  # some books post one side only
    point: float | None = None


class Market(BaseModel):
    key: str
    last_update: dt.datetime | None = None
    outcomes: list[Outcome]


class Bookmaker(BaseModel):
    key: str
    last_update: dt.datetime | None = None
    markets: list[Market]


class EventOdds(Event):
    bookmakers: list[Bookmaker]


def _validate(model: Any, data: Any, ctx: StatsContext) -> Any:
    try:
        return _adapter(model).validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ctx.error(
            f"field {'.'.join(map(str, err['loc']))}: {err['msg']} (got {err.get('input')!r})"
        ) from None


def parse_events(body: bytes, ctx: OddsContext) -> pl.DataFrame:
    """``events`` -> ``nba_raw.odds_events`` rows."""
    listed, _ = _unwrap(_load_json(body, ctx), ctx)
    events: list[Event] = _validate(list[Event], listed, ctx)
    return pl.DataFrame(
        [{"game_date": ctx.game_date, "event_id": e.id, "commence_time": e.commence_time,
          "home_team": e.home_team, "away_team": e.away_team} for e in events],
        schema={"game_date": pl.Date, "event_id": pl.String,
                "commence_time": pl.Datetime("us", "UTC"), "home_team": pl.String,
                "away_team": pl.String},
    )  # fmt: skip


_PROPS_SCHEMA = {
    "game_date": pl.Date, "event_id": pl.String, "commence_time": pl.Datetime("us", "UTC"),
    "home_team": pl.String, "away_team": pl.String, "bookmaker": pl.String, "market": pl.String,
    "player_name": pl.String, "line": pl.Float64, "over_price": pl.Float64,
    "under_price": pl.Float64, "last_update": pl.Datetime("us", "UTC"),
    "snapshot_time": pl.Datetime("us", "UTC"),
}  # fmt: skip


def parse_event_odds(body: bytes, ctx: OddsContext) -> pl.DataFrame:
    """Per-event ``odds`` (live, or a historical snapshot) -> one row per book, market and
    player: the book's main line, with the time its snapshot was taken (``ctx.snapshot_time``,
    else the historical envelope's).

    Over and Under pair on the same point. Some books (Bovada, BetRivers) list a ladder of
    alternate points for one player in the main market; the main line is the pair whose two
    prices are closest to even (the book's own definition of it), the lower point on a tie. An
    outcome repeated with the same price adds nothing; with another price it contradicts itself.
    """
    data, taken = _unwrap(_load_json(body, ctx), ctx)
    if data is None:  # a historical answer for an event without any snapshot yet
        return pl.DataFrame(schema=_PROPS_SCHEMA)
    odds: EventOdds = _validate(EventOdds, data, ctx)
    taken = ctx.snapshot_time or taken
    # (book, market, player) -> point -> {"over": price, "under": price}
    ladders: dict[tuple[str, str, str], dict[float | None, dict[str, float | None]]] = {}
    updated: dict[tuple[str, str], dt.datetime | None] = {}
    for book in odds.bookmakers:
        for market in book.markets:
            updated[(book.key, market.key)] = market.last_update or book.last_update
            for o in market.outcomes:
                # Yes/No markets (double-double, triple-double) have no line: Yes is the over.
                yes_no = {"yes": "over", "no": "under"}.get(o.name.casefold())
                side = yes_no or o.name.casefold()
                if side not in ("over", "under"):
                    raise ctx.error(f"outcome name {o.name!r} in {book.key}/{market.key}")
                if yes_no is None and o.point is None:
                    raise ctx.error(
                        f"field point missing or null on the {o.name} outcome for"
                        f" {o.description!r} in {book.key}/{market.key}: a price without its line"
                    )
                pair = ladders.setdefault((book.key, market.key, o.description), {}).setdefault(
                    o.point, {}
                )
                if side in pair and pair[side] != o.price:
                    raise ctx.error(
                        f"{book.key}/{market.key} lists {o.name} {o.point} for {o.description!r}"
                        f" twice, at prices {pair[side]} and {o.price}"
                    )
                pair[side] = o.price
    rows = []
    for (book_key, market_key, player), ladder in ladders.items():
        point = min(ladder, key=lambda pt: (_imbalance(ladder[pt]), pt is None, pt or 0.0))
        rows.append(
            {"game_date": ctx.game_date, "event_id": odds.id, "commence_time": odds.commence_time,
             "home_team": odds.home_team, "away_team": odds.away_team, "bookmaker": book_key,
             "market": market_key, "player_name": player, "line": point,
             "over_price": ladder[point].get("over"), "under_price": ladder[point].get("under"),
             "last_update": updated[(book_key, market_key)], "snapshot_time": taken}
        )  # fmt: skip
    return pl.DataFrame(rows, schema=_PROPS_SCHEMA)


def _implied_probability(american: float) -> float:
    return 100 / (american + 100) if american > 0 else -american / (100 - american)


def _imbalance(pair: dict[str, float | None]) -> float:
    """How far a line's two prices are from even; a line priced on one side only comes last."""
    over, under = pair.get("over"), pair.get("under")
    if over is None or under is None:
        return float("inf")
    return abs(_implied_probability(over) - _implied_probability(under))
