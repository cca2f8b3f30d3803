"""Phase 4 transforms on real data: no leakage, rolling form against the source, coverage."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_assets.lib import analytics, features
from nba_assets.tables import precompute
from nba_assets_tests.raw_fixtures import DATA_DIR, raw_frames

HISTORY_START = dt.date(2024, 10, 1)  # the whole previous season, for points_avg_prev_season
START, END = dt.date(2025, 11, 8), dt.date(2025, 11, 14)
DAY = dt.date(2025, 11, 10)
LATER_DAY = dt.date(2025, 11, 12)


def compute_phases(
    frames: dict[str, pl.DataFrame], start: dt.date, end: dt.date
) -> dict[str, pl.DataFrame]:
    """Every phase-3 and phase-4 table for ``start..end`` from raw frames (history included)."""
    box = frames["nbac_player_boxscores"]
    team_box = frames["nbac_team_boxscores"]
    props = frames["odds_player_props"]
    summary = analytics.player_game_summary(box, team_box, props)
    offense = analytics.team_offense_game_summary(team_box)
    defense = analytics.team_defense_game_summary(team_box)
    teams = analytics.upcoming_team_game_context(frames["nbac_schedule"], start, end)
    players = analytics.upcoming_player_game_context(teams, frames["nbac_player_list"], box, props)
    cache = features.player_daily_cache(players, summary)
    profile = features.team_defense_profile(teams, defense)
    composite = features.player_composite_factors(players, teams, cache, profile)
    store = features.ml_feature_store(
        players, cache, composite, profile, features.team_offense_form(teams, offense)
    )
    return {
        "player_game_summary": summary,
        "team_offense_game_summary": offense,
        "team_defense_game_summary": defense,
        "upcoming_team_game_context": teams,
        "upcoming_player_game_context": players,
        "player_daily_cache": cache,
        "team_defense_profile": profile,
        "player_composite_factors": composite,
        "ml_feature_store": store,
    }


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return raw_frames(HISTORY_START, END)


@pytest.fixture(scope="module")
def tables(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return compute_phases(frames, START, END)


def _on(df: pl.DataFrame, day: dt.date, by: str = "player_id") -> pl.DataFrame:
    return df.filter(pl.col("game_date") == day).sort(by)


def _bump_from(frames: dict[str, pl.DataFrame], day: dt.date) -> dict[str, pl.DataFrame]:
    """``frames`` with every game on or after ``day`` rewritten: more points and minutes."""
    later = pl.col("game_date") >= day
    changed = dict(frames)
    changed["nbac_player_boxscores"] = frames["nbac_player_boxscores"].with_columns(
        pts=pl.when(later).then(pl.col("pts") + 11).otherwise(pl.col("pts")),
        minutes=pl.when(later).then(pl.col("minutes") + 7).otherwise(pl.col("minutes")),
    )
    changed["nbac_team_boxscores"] = frames["nbac_team_boxscores"].with_columns(
        pts=pl.when(later).then(pl.col("pts") + 40).otherwise(pl.col("pts")),
        wl=pl.when(later).then(pl.lit("W")).otherwise(pl.col("wl")),
    )
    return changed


def test_outputs_fit_their_table_specs(tables: dict[str, pl.DataFrame]) -> None:
    for spec in precompute.TABLES:
        df = tables[spec.name]
        spec.conform(df)
        assert list(df.columns) == list(spec.columns)
        assert not df.select(spec.key).is_duplicated().any(), spec.name
        assert df.get_column("game_date").is_between(START, END).all(), spec.name
    store = tables["ml_feature_store"]
    assert tuple(c for c in store.columns if c in features.FEATURES_V1) == features.FEATURES_V1
    assert all(store.schema[c] == pl.Float64 for c in features.FEATURES_V1)
    assert (store.get_column("feature_set_version") == features.FEATURE_SET_VERSION).all()


def test_features_of_a_day_ignore_games_on_and_after_it(
    frames: dict[str, pl.DataFrame], tables: dict[str, pl.DataFrame]
) -> None:
    changed = compute_phases(_bump_from(frames, DAY), START, END)
    for name in ("player_daily_cache", "player_composite_factors", "ml_feature_store"):
        before, after = _on(tables[name], DAY), _on(changed[name], DAY)
        assert before.height > 300
        assert before.equals(after), name
    profile = tables["team_defense_profile"]
    assert _on(profile, DAY, "team_id").equals(_on(changed["team_defense_profile"], DAY, "team_id"))
    # The same change does move a later day's features: the test can see a leak.
    later_before = _on(tables["ml_feature_store"], LATER_DAY)
    later_after = _on(changed["ml_feature_store"], LATER_DAY)
    assert later_before.height == later_after.height > 0
    for column in ("points_avg_last_5", "minutes_avg_last_10", "opponent_points_allowed_avg"):
        moved = (later_before.get_column(column) != later_after.get_column(column)).sum()
        assert moved > 100, column


def test_last_10_average_matches_the_source_file(tables: dict[str, pl.DataFrame]) -> None:
    source = (
        pl.read_parquet(DATA_DIR / "player_game_logs_lite_2017-18_2025-26.parquet")
        .with_columns(game_date=pl.col("GAME_DATE").str.to_date())
        .filter(pl.col("game_date") < DAY)
    )
    store = _on(tables["ml_feature_store"], DAY)
    top = store.sort("points_avg_season", descending=True, nulls_last=True).head(4)
    picks = [*top.get_column("player_id").to_list(), 203999, 1628983]  # + Jokic, SGA
    checked = 0
    for player_id in dict.fromkeys(picks):
        row = store.filter(pl.col("player_id") == player_id)
        if row.is_empty():
            continue
        games = source.filter(pl.col("PLAYER_ID") == player_id).sort("game_date").tail(10)
        expected_pts = games.get_column("PTS").mean()
        expected_min = games.get_column("MIN").mean()
        assert row.item(0, "points_avg_last_10") == pytest.approx(expected_pts), player_id
        assert row.item(0, "minutes_avg_last_10") == pytest.approx(expected_min), player_id
        last_5 = games.tail(5).get_column("PTS").mean()
        assert row.item(0, "points_avg_last_5") == pytest.approx(last_5), player_id
        checked += 1
    assert checked >= 4


def test_every_player_who_played_has_a_feature_row(
    frames: dict[str, pl.DataFrame], tables: dict[str, pl.DataFrame]
) -> None:
    played = _on(frames["nbac_player_boxscores"], DAY)
    store = _on(tables["ml_feature_store"], DAY)
    assert played.height > 150
    missing = played.join(store, on="player_id", how="anti")
    assert missing.is_empty(), missing.select("player_name", "team_abbr").to_dicts()
    on_team = played.join(store, on="player_id").filter(
        pl.col("team_abbr") != pl.col("team_abbr_right")
    )
    assert on_team.is_empty()


def test_first_game_of_a_season_falls_back_to_the_previous_one(
    frames: dict[str, pl.DataFrame],
) -> None:
    opening = dt.date(2025, 10, 21)
    out = compute_phases(frames, opening, opening)["ml_feature_store"]
    assert out.height > 0
    assert (out.get_column("games_played_season") == 0).all()
    assert out.get_column("points_avg_season").is_null().all()
    assert out.get_column("team_win_rate").is_null().all()
    veterans = out.filter(pl.col("points_avg_prev_season").is_not_null())
    assert veterans.height > 0.6 * out.height
    assert veterans.get_column("points_avg_last_10").is_not_null().all()


def test_shooting_box_features_are_null_without_a_box_never_invented(
    tables: dict[str, pl.DataFrame],
) -> None:
    store = _on(tables["ml_feature_store"], DAY)
    for column in ("usage_last_10", "three_pt_rate_last_10", "ft_rate_last_10", "ts_pct_last_10"):
        assert store.get_column(column).is_null().all(), column
    assert store.get_column("missing_inputs").str.contains("ts_pct_last_10").all()
    box_day = dt.date(2023, 1, 20)  # 2022-23 has the full shooting box
    with_box = compute_phases(raw_frames(dt.date(2022, 10, 1), box_day), box_day, box_day)[
        "ml_feature_store"
    ]
    assert with_box.height > 0
    for column in ("usage_last_10", "ts_pct_last_10", "team_pace", "opponent_def_rating"):
        assert with_box.get_column(column).is_not_null().mean() > 0.8, column  # type: ignore[operator]
    assert (
        with_box.get_column("feature_quality").mean()
        > store.get_column(  # type: ignore[operator]
            "feature_quality"
        ).mean()
    )


def test_feature_quality_weighs_the_null_features(tables: dict[str, pl.DataFrame]) -> None:
    store = tables["ml_feature_store"]
    quality = store.get_column("feature_quality")
    assert quality.is_between(0, 100).all()
    # 2025-26 has no shooting box, so no real row is complete: complete the real rows by hand.
    filled = store.with_columns(pl.col(name).fill_null(0.0) for name in features.FEATURES_V1)
    complete = features.feature_quality(filled)
    assert complete.height == store.height > 0
    assert (complete.get_column("feature_quality") == 100).all()
    assert (complete.get_column("missing_inputs") == "").all()
    one_gone = features.feature_quality(filled.with_columns(points_avg_last_10=None))
    assert (one_gone.get_column("feature_quality") < 100).all()
    assert (one_gone.get_column("missing_inputs") == "points_avg_last_10").all()
    rookies = store.filter(pl.col("points_avg_last_10").is_null())
    assert rookies.height > 0
    assert rookies.get_column("feature_quality").max() < quality.median()  # type: ignore[operator]
