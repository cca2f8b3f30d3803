"""Every scrape failure names source, endpoint and the game day(s) the request serves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from nba_assets.defs.scrape import assets as scrape
from nba_assets.landing.resource import LandingResource
from nba_assets.replay.archive import Archive
from nba_assets.replay.faults import FaultSpec
from nba_assets.replay.server import ReplayServer, load_archive
from nba_assets.sources import nba_stats, odds_api
from nba_assets.sources.http import SourceError
from nba_assets.sources.resource import SourcesResource

CLOCK = dt.datetime(2025, 11, 20, 12, tzinfo=dt.UTC)
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.fixture(scope="module")
def archive() -> Archive:
    return load_archive(None)


@pytest.fixture(scope="module")
def clean_server(archive: Archive) -> Iterator[ReplayServer]:
    with ReplayServer(archive, now=CLOCK) as server:
        yield server


@pytest.fixture(scope="module")
def failing_server(archive: Archive) -> Iterator[ReplayServer]:
    with ReplayServer(archive, faults=FaultSpec.parse("500:1.0:always"), now=CLOCK) as server:
        yield server


def _scrape(
    asset: dg.AssetsDefinition, server: ReplayServer, landing: Path, start: str, end: str
) -> None:
    """Materialize one scrape asset over ``start..end`` against ``server``.

    Raises:
        SourceError: the asset's own error, unwrapped from Dagster's step error.
    """
    sources = SourcesResource(
        nba_stats_base_url=f"{server.base_url}/stats",
        odds_base_url=f"{server.base_url}/v4",
        odds_api_key="replay",
        max_attempts=2,
        backoff_max_seconds=0.05,
    )
    try:
        dg.materialize(
            [asset],
            resources={"sources": sources, "landing": LandingResource(root=str(landing))},
            tags={RANGE_START: start, RANGE_END: end},
            instance=dg.DagsterInstance.ephemeral(),
        )
    except dg.DagsterExecutionStepExecutionError as error:
        if isinstance(error.__cause__, SourceError):
            raise error.__cause__ from None
        raise


def test_event_odds_failure_names_its_game_date(
    clean_server: ReplayServer, failing_server: ReplayServer, tmp_path: Path
) -> None:
    _scrape(scrape.odds_events_scrape, clean_server, tmp_path, "2025-11-02", "2025-11-02")
    with pytest.raises(SourceError) as raised:
        _scrape(scrape.odds_event_odds, failing_server, tmp_path, "2025-11-02", "2025-11-02")
    message = str(raised.value)
    assert message.startswith("odds_api event_odds for game_date 2025-11-02 failed after 2")
    assert "HTTP 500" in message and "/events/" in message and "apiKey=***" in message


def test_player_list_failure_names_the_game_days_it_serves(
    clean_server: ReplayServer, failing_server: ReplayServer, tmp_path: Path
) -> None:
    _scrape(scrape.nbac_scoreboard, clean_server, tmp_path, "2025-11-01", "2025-11-03")
    with pytest.raises(SourceError) as raised:
        _scrape(
            scrape.nbac_player_list_scrape, failing_server, tmp_path, "2025-11-01", "2025-11-03"
        )
    message = str(raised.value)
    assert message.startswith(
        "nba_stats commonallplayers for game_dates 2025-11-01, 2025-11-02, 2025-11-03"
        " (3 game days) failed after 2 attempts: HTTP 500"
    )
    assert "Season=2025-26" in message


def test_requests_carry_their_game_days() -> None:
    day = dt.date(2025, 11, 2)
    assert odds_api.event_odds("abc", day).game_dates == (day,)
    assert odds_api.events(day).game_dates == (day,)
    days = [dt.date(2025, 10, 21) + dt.timedelta(days=i) for i in range(20)]
    players = nba_stats.all_players("2025-26", list(reversed(days)))
    assert players.game_dates == tuple(days)
    with pytest.raises(ValueError, match="needs the game day"):
        nba_stats.all_players("2025-26", [])


def test_many_days_are_shortened_in_the_message(failing_server: ReplayServer) -> None:
    from nba_assets.sources.http import HttpFetcher

    days = [dt.date(2025, 10, 21) + dt.timedelta(days=i) for i in range(20)]
    fetcher = HttpFetcher(
        {"nba_stats": f"{failing_server.base_url}/stats"},
        max_attempts=1,
        backoff_max_seconds=0.05,
    )
    with pytest.raises(SourceError) as raised:
        fetcher.fetch_all([nba_stats.all_players("2025-26", days)])
    assert "for game_dates 2025-10-21, 2025-10-22, ..., 2025-11-09 (20 game days)" in str(
        raised.value
    )
