"""HTTP source clients against the real replay server: retries, backoff, bounds and secrets."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Iterator

import pytest
from tenacity import RetryCallState

from nba_assets.replay.archive import Archive
from nba_assets.replay.faults import FaultSpec
from nba_assets.replay.server import ReplayServer, load_archive
from nba_assets.sources import nba_stats, odds_api
from nba_assets.sources.http import (
    BackoffWait,
    FetchResult,
    HttpFetcher,
    Request,
    SourceError,
    parse_retry_after,
    redact,
)

SECRET = "sekrit-key-0123456789"
CLOCK = dt.datetime(2025, 11, 20, 12, tzinfo=dt.UTC)
DAYS = [dt.date(2025, 11, 1) + dt.timedelta(days=i) for i in range(4)]
# Small waits keep the suite fast; Retry-After has its own test with the real wait.
FAST = {
    "backoff_initial_seconds": 0.01,
    "backoff_max_seconds": 0.05,
    "retry_after_max_seconds": 0.05,
    "timeout_seconds": 5.0,
}


@pytest.fixture(scope="module")
def archive() -> Archive:
    return load_archive(None)


@pytest.fixture(scope="module")
def clean_server(archive: Archive) -> Iterator[ReplayServer]:
    with ReplayServer(archive, now=CLOCK) as server:
        yield server


def fetcher_for(server: ReplayServer, **options: float | int | str) -> HttpFetcher:
    base_urls = {"nba_stats": f"{server.base_url}/stats", "odds_api": f"{server.base_url}/v4"}
    api_key = str(options.pop("api_key", SECRET))
    return HttpFetcher(base_urls, api_key=api_key, **{**FAST, **options})  # type: ignore[arg-type]


def day_requests(clean: ReplayServer) -> list[Request]:
    """A realistic mix: scoreboards, game logs, rosters, events and every event's odds."""
    requests: list[Request] = []
    for day in DAYS:
        season = nba_stats.season_for(day)
        requests.append(nba_stats.scoreboard(day))
        requests += [
            nba_stats.league_game_log(day, side, season, kind)
            for side in ("P", "T")
            for kind in nba_stats.SEASON_TYPES
        ]
        requests.append(odds_api.events(day))
    requests.append(nba_stats.all_players("2025-26", DAYS))
    events = fetcher_for(clean).fetch_all([odds_api.events(d) for d in DAYS])
    for day, result in zip(DAYS, events, strict=True):
        # The days are over at the clock: each event's last snapshot before tip-off.
        listed = json.loads(result.body)["data"]
        requests += [
            odds_api.event_odds(e["id"], day, before=dt.datetime.fromisoformat(e["commence_time"]))
            for e in listed
        ]
    return requests


def test_every_fetch_survives_transient_faults(
    archive: Archive, clean_server: ReplayServer
) -> None:
    requests = day_requests(clean_server)
    assert len(requests) > 60
    clean = fetcher_for(clean_server).fetch_all(requests)
    spec = FaultSpec.parse("429:0.3,500:0.2,truncated:0.1,malformed:0.1")
    with ReplayServer(archive, faults=spec, now=CLOCK, seed=3) as faulty:
        results = fetcher_for(faulty, max_attempts=4).fetch_all(requests)
        stats = faulty.stats
    assert [r.body for r in results] == [r.body for r in clean]
    assert all(r.status == 200 for r in results)
    assert set(stats.faults) == {"429", "500", "truncated", "malformed"}
    assert sum(r.attempts - 1 for r in results) == stats.total_faults
    assert [r.endpoint for r in results] == [r.endpoint for r in requests]


def test_retry_after_is_honoured(archive: Archive) -> None:
    with ReplayServer(archive, faults=FaultSpec.parse("429:1.0"), now=CLOCK) as server:
        fetcher = fetcher_for(server, retry_after_max_seconds=60.0)
        began = time.monotonic()
        (result,) = fetcher.fetch_all([nba_stats.scoreboard(DAYS[0])])
        elapsed = time.monotonic() - began
    assert result.attempts == 2 and result.status == 200
    assert elapsed >= 0.95 and result.elapsed_seconds >= 0.95


def test_permanent_server_error_gives_up_with_context(archive: Archive) -> None:
    with ReplayServer(archive, faults=FaultSpec.parse("500:1.0:always"), now=CLOCK) as server:
        with pytest.raises(SourceError) as raised:
            fetcher_for(server, max_attempts=3).fetch_all([nba_stats.scoreboard(DAYS[0])])
        assert server.stats.requests == 3
    message = str(raised.value)
    assert "nba_stats scoreboardv2" in message and "game_date 2025-11-01" in message
    assert "after 3 attempts" in message and "HTTP 500" in message
    assert "GameDate=2025-11-01" in message


@pytest.mark.parametrize(
    ("request_", "api_key", "status"),
    [
        (odds_api.event_odds("no-such-event", DAYS[0]), SECRET, "HTTP 404"),
        (odds_api.events(DAYS[0]), "", "HTTP 401"),
        (Request("nba_stats", "teamgamelog", "teamgamelog", {"Season": "2025-26"}), SECRET, "404"),
        (
            Request("nba_stats", "leaguegamelog", "leaguegamelog", {"Season": "2025-26"}),
            SECRET,
            "HTTP 400",
        ),
    ],
)
def test_client_errors_are_not_retried(
    archive: Archive, request_: Request, api_key: str, status: str
) -> None:
    with ReplayServer(archive, now=CLOCK) as server:
        with pytest.raises(SourceError, match=status) as raised:
            fetcher_for(server, api_key=api_key).fetch_all([request_])
        assert server.stats.requests == 1
    assert "after 1 attempt:" in str(raised.value)


def test_concurrency_is_bounded(archive: Archive) -> None:
    requests = [nba_stats.scoreboard(DAYS[0] + dt.timedelta(days=i)) for i in range(8)]
    with ReplayServer(archive, faults=FaultSpec.parse("slow:1.0:0.2s"), now=CLOCK) as server:
        began = time.monotonic()
        fetcher_for(server, max_concurrency=2).fetch_all(requests)
        elapsed = time.monotonic() - began
        assert server.stats.max_in_flight == 2
    assert elapsed >= 4 * 0.2


def test_timeouts_end_in_source_error(archive: Archive) -> None:
    with ReplayServer(archive, faults=FaultSpec.parse("slow:1.0:0.6s:always"), now=CLOCK) as server:
        began = time.monotonic()
        with pytest.raises(SourceError, match="after 2 attempts: SocketTimeoutError"):
            fetcher_for(server, timeout_seconds=0.1, max_attempts=2).fetch_all(
                [nba_stats.scoreboard(DAYS[0])]
            )
        assert time.monotonic() - began < 0.6


def test_api_key_never_leaks(
    archive: Archive, clean_server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fetcher = fetcher_for(clean_server)
    (result,) = fetcher.fetch_all([odds_api.events(DAYS[0])])
    assert SECRET not in result.url and "apiKey=%2A%2A%2A" in result.url
    assert SECRET not in repr(result) and SECRET not in repr(fetcher)
    with pytest.raises(SourceError) as raised:
        fetcher.fetch_all([odds_api.event_odds("no-such-event", DAYS[0])])
    assert SECRET not in str(raised.value)
    with (
        ReplayServer(archive, faults=FaultSpec.parse("500:1.0:always"), now=CLOCK) as failing,
        pytest.raises(SourceError) as raised,
    ):
        fetcher_for(failing, max_attempts=2).fetch_all([odds_api.events(DAYS[0])])
    assert SECRET not in str(raised.value)
    # A client log line that names a URL, as aiohttp's may, is masked too.
    logging.getLogger("aiohttp.client").warning("GET %s", f"{result.url}&apiKey={SECRET}")
    assert "apiKey=***" in caplog.records[-1].getMessage()
    assert SECRET not in caplog.text


def test_fetch_all_works_inside_a_running_loop(clean_server: ReplayServer) -> None:
    async def caller() -> list[FetchResult]:
        return fetcher_for(clean_server).fetch_all([nba_stats.scoreboard(DAYS[0])])

    (result,) = asyncio.run(caller())
    assert result.status == 200


def test_parse_retry_after() -> None:
    now = dt.datetime(2025, 11, 2, 12, tzinfo=dt.UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Sun, 02 Nov 2025 12:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Sun, 02 Nov 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def _state(attempt: int, error: Exception) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def test_backoff_wait_is_capped_jittered_and_honours_retry_after() -> None:
    class WithRetryAfter(Exception):
        retry_after = 4.0

    low = BackoffWait(0.5, 3.0, 60.0, rng=lambda: 0.0)
    high = BackoffWait(0.5, 3.0, 60.0, rng=lambda: 1.0)
    assert low(_state(1, RuntimeError())) == 0.25 and high(_state(1, RuntimeError())) == 0.5
    assert high(_state(3, RuntimeError())) == 2.0
    assert high(_state(10, RuntimeError())) == 3.0
    assert low(_state(1, WithRetryAfter())) == 4.0
    assert BackoffWait(0.5, 3.0, 2.0, rng=lambda: 0.0)(_state(1, WithRetryAfter())) == 2.0


def test_request_builders() -> None:
    assert nba_stats.season_for(dt.date(2025, 11, 2)) == "2025-26"
    assert nba_stats.season_for(dt.date(2026, 6, 3)) == "2025-26"
    assert nba_stats.season_for(dt.date(2026, 8, 1)) == "2026-27"
    assert nba_stats.season_for(dt.date(1999, 10, 1)) == "1999-00"
    log = nba_stats.league_game_log(dt.date(2025, 11, 2), "P", "2025-26", "Regular Season")
    assert log.params["DateFrom"] == "11/02/2025" and log.game_dates == (dt.date(2025, 11, 2),)
    with pytest.raises(ValueError, match="season_type"):
        nba_stats.league_game_log(dt.date(2025, 11, 2), "P", "2025-26", "Preseason")
    # 2025-11-02 is the day clocks fall back: 25 hours of Eastern time.
    assert odds_api.day_window(dt.date(2025, 11, 2)) == (
        "2025-11-02T04:00:00Z",
        "2025-11-03T04:59:59Z",
    )
    assert odds_api.events(dt.date(2025, 7, 4)).params["commenceTimeFrom"] == "2025-07-04T04:00:00Z"
    odds = odds_api.event_odds("abc", dt.date(2025, 11, 2), ["player_points"])
    assert odds.path == "sports/basketball_nba/events/abc/odds"
    assert odds.params["markets"] == "player_points" and "apiKey" not in odds.params
    assert redact("https://x/v4?a=1&apiKey=abc&b=2") == "https://x/v4?a=1&apiKey=***&b=2"
