"""The scrapers' HTTP layer: concurrent, bounded, timed-out requests with retries (tenacity)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

SECRET_PARAMS = frozenset({"apiKey"})
NBA_STATS_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0 Safari/537.36",
    "Accept": "application/json, text/plain, */*",
    "Referer": "https://www.nba.com/",
    "Origin": "https://www.nba.com",
    "x-nba-stats-origin": "stats",
    "x-nba-stats-token": "true",
}


@dataclass(frozen=True)
class Request:
    """One GET against a source: ``source`` picks the base URL, ``path`` and ``params`` the rest."""

    source: str
    endpoint: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchResult:
    endpoint: str
    url: str  # the API key redacted
    status: int
    body: bytes
    fetched_at: dt.datetime
    attempts: int
    elapsed_seconds: float


class SourceError(RuntimeError):
    """A request that still failed after every retry; the message says which and why."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def redact(url: str, params: Mapping[str, str]) -> str:
    shown = {k: ("***" if k in SECRET_PARAMS else v) for k, v in params.items()}
    return f"{url}?{urlencode(shown)}" if shown else url


class HttpFetcher:
    """Fetches many requests concurrently with a bound, timeouts and capped, jittered backoff."""

    def __init__(
        self,
        base_urls: Mapping[str, str],
        api_key: str = "",
        timeout_seconds: float = 20.0,
        max_concurrency: int = 8,
        max_attempts: int = 6,
        backoff_max_seconds: float = 30.0,
        backoff_initial_seconds: float = 0.5,
    ):
        self.base_urls = dict(base_urls)
        self.api_key = api_key
        self.timeout = httpx.Timeout(timeout_seconds)
        self.max_concurrency = max_concurrency
        self.max_attempts = max_attempts
        self.backoff_max = backoff_max_seconds
        self.backoff_initial = backoff_initial_seconds

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, but never shorter than the server's Retry-After."""
        backoff = wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max)(state)
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, _Retryable) else None
        return min(self.backoff_max, max(backoff, retry_after or 0.0))

    async def _fetch_one(
        self, client: httpx.AsyncClient, limit: asyncio.Semaphore, req: Request
    ) -> FetchResult:
        url = self.base_urls[req.source].rstrip("/") + "/" + req.path.lstrip("/")
        params = dict(req.params)
        if req.source == "odds_api":
            params["apiKey"] = self.api_key
        headers = NBA_STATS_HEADERS if req.source == "nba_stats" else {}
        shown = redact(url, params)
        began = time.monotonic()
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    async with limit:
                        try:
                            resp = await client.get(url, params=params, headers=headers)
                        except httpx.TransportError as exc:  # timeouts, truncated bodies
                            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
                    if resp.status_code == 429 or resp.status_code >= 500:
                        raise _Retryable(
                            f"HTTP {resp.status_code}",
                            _retry_after_seconds(resp.headers.get("Retry-After")),
                        )
                    if resp.status_code != 200:
                        raise SourceError(
                            f"{req.source}/{req.endpoint}: HTTP {resp.status_code} from {shown}:"
                            f" {resp.text[:200]}"
                        )
                    try:
                        json.loads(resp.content)
                    except ValueError as exc:  # a 200 cut short or garbled in transfer
                        raise _Retryable(f"body is not valid JSON ({exc})") from exc
        except _Retryable as exc:
            raise SourceError(
                f"{req.source}/{req.endpoint}: gave up after {attempts} attempts on {shown}: {exc}"
            ) from exc
        return FetchResult(
            endpoint=req.endpoint,
            url=shown,
            status=resp.status_code,
            body=resp.content,
            fetched_at=dt.datetime.now(dt.UTC),
            attempts=attempts,
            elapsed_seconds=time.monotonic() - began,
        )

    async def fetch_many(self, requests: Sequence[Request]) -> list[FetchResult]:
        limit = asyncio.Semaphore(self.max_concurrency)
        limits = httpx.Limits(max_connections=self.max_concurrency)
        async with httpx.AsyncClient(timeout=self.timeout, limits=limits) as client:
            return list(
                await asyncio.gather(*(self._fetch_one(client, limit, r) for r in requests))
            )

    def fetch_all(self, requests: Sequence[Request]) -> list[FetchResult]:
        """Synchronous entry point for assets: fetch everything, results in request order."""
        if not requests:
            return []
        return asyncio.run(self.fetch_many(requests))
