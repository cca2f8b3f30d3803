"""Replay archive: the shipped archive is reproducible, and any folder of raw files replays."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

from nba_assets.replay.archive import (
    MANIFEST_FILE,
    SHIPPED_ARCHIVE,
    Archive,
    build_archive,
    load_archive,
)
from nba_assets.replay.server import ReplayServer

RAW_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_raw_data = pytest.mark.skipif(
    not RAW_DATA.is_dir(), reason=f"raw data folder {RAW_DATA} is not on this machine"
)


@pytest.fixture(scope="module")
def shipped() -> Archive:
    return load_archive(None)


def test_shipped_archive_is_small_and_documented() -> None:
    size = sum(p.stat().st_size for p in SHIPPED_ARCHIVE.iterdir())
    assert size < 8_000_000
    provenance = (SHIPPED_ARCHIVE / "PROVENANCE.md").read_text()
    manifest = json.loads((SHIPPED_ARCHIVE / MANIFEST_FILE).read_text())
    for source in manifest["sources"]:
        assert Path(source).stem in provenance, f"{source} has no provenance"


def test_shipped_archive_tables(shipped: Archive) -> None:
    games = shipped.player_games
    assert games.filter(pl.col("GAME_DATE") == "2025-11-02").height == 182
    assert games["GAME_ID"].null_count() == 0 and games["TEAM_ID"].null_count() == 0
    rs_2023 = games.filter((pl.col("SEASON") == "2022-23") & (pl.col("SEASON_TYPE") != "PlayIn"))
    assert rs_2023["FGA"].null_count() == 0
    assert games.filter(pl.col("SEASON") == "2019-20")["FGA"].null_count() > 0
    per_game = shipped.games.group_by("SEASON", "SEASON_TYPE").len()
    regular = per_game.filter(pl.col("SEASON_TYPE") == "Regular Season")
    assert regular.filter(pl.col("SEASON") == "2025-26")["len"].item() == 1230
    assert shipped.games["GAME_ID"].n_unique() == shipped.games.height
    props = shipped.props
    assert props.filter(pl.col("market") == "player_points").height == 36_822
    assert props.filter(pl.col("line").is_null())["market"].unique().sort().to_list() == [
        "player_double_double",
        "player_triple_double",
    ]
    # Threes lines of the per-market files are not repeated when the all-markets pull has them.
    threes = props.filter(pl.col("market") == "player_threes")
    sources_per_line = threes.group_by("game_date", "bookmaker", "player").agg(
        pl.col("snapshot_time").n_unique()
    )
    assert sources_per_line["snapshot_time"].max() == 1


@needs_raw_data
def test_build_reproduces_the_shipped_archive(shipped: Archive) -> None:
    built, sources = build_archive(RAW_DATA)
    manifest = json.loads((SHIPPED_ARCHIVE / MANIFEST_FILE).read_text())
    assert built.row_counts() == manifest["tables"]
    assert sorted(sources) == manifest["sources"]
    for name in Archive.table_names():
        assert getattr(built, name).equals(getattr(shipped, name)), f"{name} differs"


def shifted_props(days: int) -> pl.DataFrame:
    """Two days of real lines moved `days` later, with new event ids, as a new pull would be."""
    source = pl.read_parquet(next(RAW_DATA.glob("props_all_markets_snapshots_*.parquet")))
    picked = source.filter(
        pl.col("snapshot_label").is_in(["2025-11-14T17:00:00", "2025-11-15T17:00:00"])
    )

    def shift(column: str, fmt: str) -> pl.Expr:
        moved = pl.col(column).str.strptime(pl.Datetime, fmt) + timedelta(days=days)
        return moved.dt.strftime(fmt)

    return picked.with_columns(
        shift("game_time", "%Y-%m-%dT%H:%M:%SZ"),
        shift("snapshot_label", "%Y-%m-%dT%H:%M:%S"),
        (pl.col("event_id").str.slice(0, 24) + "shifted0").alias("event_id"),
    )


@needs_raw_data
def test_lines_beyond_the_cut_off_are_replayed(tmp_path: Path) -> None:
    for raw in RAW_DATA.iterdir():
        (tmp_path / raw.name).symlink_to(raw)
    extra = shifted_props(days=21)
    extra.write_parquet(tmp_path / "props_all_markets_snapshots_2025-26_december.parquet")
    archive = load_archive(tmp_path)
    assert archive.props.height == load_archive(None).props.height + extra.height
    december_5 = archive.props.filter(pl.col("game_date") == "2025-12-05")
    assert (
        december_5.height
        == extra.filter(pl.col("snapshot_label").str.starts_with("2025-12-05")).height
    )

    clock = datetime.fromisoformat("2025-12-05T18:00:00+00:00")
    with (
        ReplayServer(archive, now=clock) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        window = {
            "commenceTimeFrom": "2025-12-05T05:00:00Z",
            "commenceTimeTo": "2025-12-06T04:59:59Z",
        }
        events = http.get(
            "/v4/sports/basketball_nba/events", params={"apiKey": "k", **window}
        ).json()
        assert events and all(e["id"].endswith("shifted0") for e in events)
        odds = http.get(
            f"/v4/sports/basketball_nba/events/{events[0]['id']}/odds",
            params={"apiKey": "k", "regions": "us", "markets": "player_points"},
        ).json()
        assert odds["bookmakers"]
        # The next day's shifted pull is not knowable yet at this clock.
        next_day = http.get(
            "/v4/sports/basketball_nba/events",
            params={
                "apiKey": "k",
                "commenceTimeFrom": "2025-12-06T05:00:00Z",
                "commenceTimeTo": "2025-12-07T04:59:59Z",
            },
        ).json()
        later = http.get(
            f"/v4/sports/basketball_nba/events/{next_day[0]['id']}/odds",
            params={"apiKey": "k", "regions": "us", "markets": "player_points"},
        ).json()
        assert later["bookmakers"] == []


def test_a_folder_without_game_logs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="player_game_logs_lite"):
        load_archive(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_archive(tmp_path / "missing")


def test_save_and_load_round_trip(shipped: Archive, tmp_path: Path) -> None:
    small = Archive(**{name: getattr(shipped, name).head(50) for name in Archive.table_names()})
    small.save(tmp_path, sources=["a.parquet"])
    loaded = load_archive(tmp_path)
    assert loaded.row_counts() == small.row_counts()
    assert loaded.player_games.equals(small.player_games)
