"""The scrapers' HTTP resource: base URLs, API key, timeouts, retries, a concurrency bound."""

import os
from collections.abc import Sequence

import dagster as dg

from nba_assets.settings import Settings
from nba_assets.sources.http import FetchResult, HttpFetcher, Request


class SourcesResource(dg.ConfigurableResource):
    """Fetches source endpoints concurrently (bounded), retrying 429 / 5xx with backoff."""

    nba_stats_base_url: str
    odds_base_url: str
    odds_api_key: str = ""
    timeout_seconds: float = 20.0
    max_concurrency: int = 8
    max_attempts: int = 6
    backoff_max_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "SourcesResource":
        # In prod the environment's key stays an environment reference, so the UI never
        # displays it; a key given as a run value (the replay server's) is used as it is.
        from_env = settings.deployment == "prod" and os.environ.get("NBA_ODDS_API_KEY")
        key = dg.EnvVar("NBA_ODDS_API_KEY") if from_env else None
        return cls(
            nba_stats_base_url=settings.stats_url,
            odds_base_url=settings.odds_url,
            odds_api_key=key or settings.odds_api_key.get_secret_value(),
            timeout_seconds=settings.http_timeout_seconds,
            max_concurrency=settings.http_max_concurrency,
            max_attempts=settings.http_max_attempts,
            backoff_max_seconds=settings.http_backoff_max_seconds,
        )

    def fetch(self, requests: Sequence[Request]) -> list[FetchResult]:
        """Fetch every request concurrently; results in the same order as ``requests``."""
        fetcher = HttpFetcher(
            base_urls={"nba_stats": self.nba_stats_base_url, "odds_api": self.odds_base_url},
            api_key=self.odds_api_key,
            timeout_seconds=self.timeout_seconds,
            max_concurrency=self.max_concurrency,
            max_attempts=self.max_attempts,
            backoff_max_seconds=self.backoff_max_seconds,
        )
        return fetcher.fetch_all(list(requests))
