"""The scrapers' HTTP layer: concurrent, bounded, timed-out GETs (aiohttp), retried (tenacity)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

NBA_STATS = "nba_stats"
ODDS_API = "odds_api"
API_KEY_PARAM = "apiKey"
REDACTED = "***"
# NBA.com answers only requests that look like they come from its own web pages.
NBA_STATS_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0 Safari/537.36",
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-US,en;q=0.9",
    "Referer": "https://www.nba.com/",
    "Origin": "https://www.nba.com",
    "x-nba-stats-origin": "stats",
    "x-nba-stats-token": "true",
}
# aiohttp's client loggers, whose lines may name a request's URL.
HTTP_LOGGERS = ("aiohttp.client", "aiohttp.internal")
_KEY_IN_TEXT = re.compile(rf"({API_KEY_PARAM}=)[^&\s\"']+")


@dataclass(frozen=True)
class Request:
    """One GET against a source.

    Attributes:
        source: which base URL to use (`NBA_STATS` or `ODDS_API`).
        endpoint: short name for results, counters and errors (e.g. "leaguegamelog").
        path: path below the source's base URL.
        params: query parameters (never the API key; the fetcher adds it).
        game_dates: the game day(s) the answer serves, named in errors: one for most requests,
            every game day of a season in the run for that season's player list.
    """

    source: str
    endpoint: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    game_dates: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class FetchResult:
    """A successful fetch: a 200 whose body is valid JSON.

    Attributes:
        endpoint: the request's endpoint name.
        url: the full URL with the API key redacted.
        status: HTTP status (200).
        body: the raw body.
        fetched_at: when the answer arrived (UTC).
        attempts: attempts it took (1 = no retry).
        elapsed_seconds: wall time from the first attempt to the answer, waits included.
        source_time: the source's own clock when it answered (its ``Date`` header), or None
            when it sent none: what "now" was for the data served.
    """

    endpoint: str
    url: str
    status: int
    body: bytes
    fetched_at: dt.datetime
    attempts: int
    elapsed_seconds: float
    source_time: dt.datetime | None = None


class SourceError(RuntimeError):
    """A request that failed for good; the message names source, endpoint, URL and attempts."""


class _Retryable(Exception):
    """A failure worth another attempt (429, 5xx, transport error, body that is not JSON)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _for_days(days: Sequence[dt.date]) -> str:
    """The days part of an error message (" for game_date 2025-11-01"); empty for none."""
    if not days:
        return ""
    if len(days) == 1:
        return f" for game_date {days[0].isoformat()}"
    shown = [d.isoformat() for d in sorted(days)]
    if len(shown) > 4:
        shown = [*shown[:2], "...", shown[-1]]
    return f" for game_dates {', '.join(shown)} ({len(days)} game days)"


def redact(text: str) -> str:
    """`text` with any `apiKey=...` value replaced by `***`."""
    return _KEY_IN_TEXT.sub(rf"\g<1>{REDACTED}", text)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _source_time(value: str | None) -> dt.datetime | None:
    """A ``Date`` header as an aware UTC time; None when missing or unreadable."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return None


class BackoffWait:
    """Tenacity wait: capped exponential backoff with jitter, never shorter than Retry-After.

    The n-th retry waits a random time between half and all of
    `min(backoff_max_seconds, backoff_initial_seconds * 2 ** (n - 1))`; when the failed answer
    carried Retry-After, the wait is at least that (itself capped at `retry_after_max_seconds`,
    so a hostile header cannot park a run for hours).
    """

    def __init__(
        self,
        backoff_initial_seconds: float,
        backoff_max_seconds: float,
        retry_after_max_seconds: float,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.initial = backoff_initial_seconds
        self.maximum = backoff_max_seconds
        self.retry_after_max = retry_after_max_seconds
        self.rng = rng

    def __call__(self, state: RetryCallState) -> float:
        ceiling = min(self.maximum, self.initial * 2 ** (state.attempt_number - 1))
        wait = ceiling * (0.5 + 0.5 * self.rng())
        outcome = state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_max))
        return wait


class _RedactKeys(logging.Filter):
    """Masks API keys in the HTTP client's log lines, which can carry full URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if API_KEY_PARAM in message:
            record.msg, record.args = redact(message), ()
        return True


def _guard_http_logs() -> None:
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactKeys) for f in logger.filters):
            logger.addFilter(_RedactKeys())


class HttpFetcher:
    """Fetches many requests concurrently with a bound, timeouts and capped, jittered retries.

    Args:
        base_urls: base URL per source, e.g. {"nba_stats": "https://stats.nba.com/stats",
            "odds_api": "https://api.the-odds-api.com/v4"}.
        api_key: The Odds API key, added to `odds_api` requests; never stored in results or
            errors.
        timeout_seconds: connect, read, write and pool timeout of every attempt.
        max_concurrency: most requests in flight at once.
        max_attempts: attempts per request, the first included.
        backoff_max_seconds: cap of the exponential backoff.
        backoff_initial_seconds: backoff before the first retry (it doubles from there).
        retry_after_max_seconds: longest Retry-After honoured.
    """

    def __init__(
        self,
        base_urls: Mapping[str, str],
        api_key: str = "",
        timeout_seconds: float = 20.0,
        max_concurrency: int = 8,
        max_attempts: int = 6,
        backoff_max_seconds: float = 30.0,
        backoff_initial_seconds: float = 0.5,
        retry_after_max_seconds: float = 60.0,
    ) -> None:
        if max_concurrency < 1 or max_attempts < 1:
            raise ValueError("max_concurrency and max_attempts must be at least 1")
        self.base_urls = {source: url.rstrip("/") for source, url in base_urls.items()}
        self._api_key = api_key
        # Each phase of an attempt (connecting, every read) may take timeout_seconds; a body
        # that keeps arriving is not cut off.
        self.timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout_seconds, sock_connect=timeout_seconds,
            sock_read=timeout_seconds,
        )  # fmt: skip
        self.max_concurrency = max_concurrency
        self.max_attempts = max_attempts
        self.wait = BackoffWait(
            backoff_initial_seconds, backoff_max_seconds, retry_after_max_seconds
        )
        _guard_http_logs()

    def __repr__(self) -> str:
        # The key stays out of reprs, which end up in logs and tracebacks.
        return f"HttpFetcher(base_urls={self.base_urls!r}, max_concurrency={self.max_concurrency})"

    def _scrub(self, text: str) -> str:
        text = redact(text)
        return text.replace(self._api_key, REDACTED) if self._api_key else text

    def _target(self, request: Request) -> tuple[str, dict[str, str], dict[str, str], str]:
        """URL, query, headers and redacted URL of a request."""
        base = self.base_urls.get(request.source)
        if base is None:
            raise SourceError(
                f"{request.source} {request.endpoint}{_for_days(request.game_dates)}:"
                f" no base URL for source {request.source!r}"
            )
        url = f"{base}/{request.path.lstrip('/')}"
        params = dict(request.params)
        headers: dict[str, str] = {}
        if request.source == NBA_STATS:
            headers = NBA_STATS_HEADERS
        if request.source == ODDS_API:
            params[API_KEY_PARAM] = self._api_key
        shown = {k: (REDACTED if k == API_KEY_PARAM else v) for k, v in params.items()}
        return url, params, headers, f"{url}?{urlencode(shown)}" if shown else url

    def _failure(self, request: Request, shown_url: str, attempts: int, last: str) -> SourceError:
        return SourceError(
            self._scrub(
                f"{request.source} {request.endpoint}{_for_days(request.game_dates)} failed after"
                f" {attempts} "
                f"attempt{'s' if attempts != 1 else ''}: {last} (url {shown_url})"
            )
        )

    async def _fetch_one(
        self, client: aiohttp.ClientSession, limit: asyncio.Semaphore, request: Request
    ) -> FetchResult:
        url, params, headers, shown_url = self._target(request)
        began = time.monotonic()
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self.wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    # The bound covers the exchange only: a request waiting out its backoff
                    # does not hold a slot.
                    async with limit:
                        try:
                            async with client.get(
                                url, params=params, headers=headers, allow_redirects=False
                            ) as response:
                                status, answer = response.status, response.headers
                                body = await response.read()
                        except (aiohttp.ClientError, TimeoutError) as error:
                            # refused or dropped connections, timeouts, truncated bodies
                            raise _Retryable(f"{type(error).__name__}: {error}") from error
                    if status == 429 or status >= 500:
                        raise _Retryable(
                            f"HTTP {status}", parse_retry_after(answer.get("Retry-After"))
                        )
                    if status != 200:
                        text = body[:200].decode(errors="replace")
                        raise self._failure(request, shown_url, attempts, f"HTTP {status} {text!r}")
                    try:
                        json.loads(body)
                    except ValueError as error:  # a 200 cut short or garbled in transfer
                        raise _Retryable(
                            f"HTTP 200 with a body that is not JSON ({error})"
                        ) from None
                    return FetchResult(
                        endpoint=request.endpoint,
                        url=shown_url,
                        status=status,
                        body=body,
                        fetched_at=dt.datetime.now(dt.UTC),
                        attempts=attempts,
                        elapsed_seconds=time.monotonic() - began,
                        source_time=_source_time(answer.get("Date")),
                    )
        except _Retryable as error:
            raise self._failure(request, shown_url, attempts, str(error)) from None
        raise AssertionError("unreachable: tenacity either returns, retries or raises")

    async def fetch_many(self, requests: Sequence[Request]) -> list[FetchResult]:
        """Fetch all requests concurrently; results in request order.

        Raises:
            SourceError: for the first request (in order) that failed for good, after every
                other request has finished.
        """
        limit = asyncio.Semaphore(self.max_concurrency)
        connector = aiohttp.TCPConnector(limit=self.max_concurrency)
        # No cookie jar: the sources need none, and keeping one costs time on every answer.
        async with aiohttp.ClientSession(
            connector=connector, timeout=self.timeout, cookie_jar=aiohttp.DummyCookieJar()
        ) as client:
            outcomes = await asyncio.gather(
                *(self._fetch_one(client, limit, r) for r in requests), return_exceptions=True
            )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            first = failures[0]
            if len(failures) > 1 and isinstance(first, SourceError):
                raise SourceError(f"{first} (and {len(failures) - 1} more requests failed)")
            raise first
        return [o for o in outcomes if isinstance(o, FetchResult)]

    def fetch_all(self, requests: Sequence[Request]) -> list[FetchResult]:
        """Synchronous `fetch_many` for assets: runs its own event loop; results in order."""
        if not requests:
            return []
        try:
            asyncio.get_running_loop()
            inside_a_loop = True
        except RuntimeError:
            inside_a_loop = False
        if not inside_a_loop:
            # Outside the except block, so a failure carries no "no running event loop" context.
            return asyncio.run(self.fetch_many(requests))
        # Called from inside an event loop: asyncio.run cannot nest, so use a worker thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.fetch_many(requests)).result()
