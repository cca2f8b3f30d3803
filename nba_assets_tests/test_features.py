"""Phase 4 transforms on real data: no leakage, rolling form against the source, coverage.

Inputs are the raw tables a replay of the shipped archive writes (``nba_assets.pipeline``).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_assets.lib import features
from nba_assets.pipeline import compute_phases, precompute_phase, raw_frames
from nba_assets.replay.archive import load_archive
from nba_assets.tables import precompute

HISTORY_START = dt.date(2024, 10, 1)  # the whole previous season, for points_avg_prev_season
START, END = dt.date(2025, 11, 8), dt.date(2025, 11, 14)
DAY = dt.date(2025, 11, 10)
LATER_DAY = dt.date(2025, 11, 12)


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
    # The archive's player games, as recorded (see the archive's PROVENANCE.md).
    source = (
        load_archive()
        .player_games.with_columns(game_date=pl.col("GAME_DATE").str.to_date())
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


def test_shooting_box_features_are_null_without_a_box_never_invented() -> None:
    # The archive has no player shooting box before 2022-23 (2025-26 has one for the players
    # the books list, so none of its days lacks a box in the last 10 games).
    no_box_day = dt.date(2022, 1, 20)
    store = compute_phases(raw_frames(dt.date(2020, 12, 1), no_box_day), no_box_day, no_box_day)[
        "ml_feature_store"
    ]
    assert store.height > 100
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
    # 2025-26 has no team shooting box, so no real row is complete: complete them by hand.
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


def _props_changed(frames: dict[str, pl.DataFrame], change: pl.Expr, when: pl.Expr):
    """``frames`` with the lines of the rows matching ``when`` moved by ``change``."""
    changed = dict(frames)
    props = frames["odds_player_props"]
    changed["odds_player_props"] = props.with_columns(
        line=pl.when(when).then(change).otherwise(pl.col("line"))
    )
    return changed


def test_market_features_of_a_day_ignore_later_lines_and_lines_after_tip_off(
    frames: dict[str, pl.DataFrame], tables: dict[str, pl.DataFrame]
) -> None:
    props = frames["odds_player_props"]
    on_day = pl.col("game_date") == DAY
    day_props = props.filter(on_day)
    assert day_props.height > 1000
    # A later day's lines and every line of the day moved after tip-off (updated late).
    late = dict(frames)
    late["odds_player_props"] = pl.concat(
        [
            props.with_columns(
                line=pl.when(pl.col("game_date") > DAY)
                .then(pl.col("line") + 9)
                .otherwise(pl.col("line"))
            ),
            day_props.with_columns(
                bookmaker=pl.col("bookmaker") + "_late",
                line=pl.col("line") + 9,
                over_price=pl.lit(-400.0),
                last_update=pl.col("commence_time") + dt.timedelta(minutes=5),
            ),
        ]
    )
    changed = compute_phases(late, START, END)
    store, moved = _on(tables["ml_feature_store"], DAY), _on(changed["ml_feature_store"], DAY)
    assert store.get_column("points_line").is_not_null().sum() > 100
    assert store.equals(moved)
    # The same change made before tip-off does move the day's market features.
    early = dict(late)
    early["odds_player_props"] = late["odds_player_props"].with_columns(
        last_update=pl.when(pl.col("bookmaker").str.ends_with("_late"))
        .then(pl.col("commence_time") - dt.timedelta(minutes=5))
        .otherwise(pl.col("last_update"))
    )
    seen = _on(compute_phases(early, START, END)["ml_feature_store"], DAY)
    for column in ("points_line", "pra_line", "points_over_prob", "points_books"):
        assert (seen.get_column(column) != store.get_column(column)).sum() > 100, column


def test_availability_of_a_day_ignores_its_own_games(
    frames: dict[str, pl.DataFrame], tables: dict[str, pl.DataFrame]
) -> None:
    # Nobody plays on or after the day: the last-game signal of the day must not move.
    changed = dict(frames)
    changed["nbac_player_boxscores"] = frames["nbac_player_boxscores"].filter(
        pl.col("game_date") < DAY
    )
    after = _on(compute_phases(changed, START, END)["ml_feature_store"], DAY)
    before = _on(tables["ml_feature_store"], DAY)
    absent = [c for c in features.FEATURES_MARKET if c.startswith("teammates_absent")]
    assert before.select(absent).equals(after.select(absent))
    assert before.get_column("teammates_absent_last_game").sum() > 50
    later_before = _on(tables["ml_feature_store"], LATER_DAY)
    later_after = _on(compute_phases(changed, START, END)["ml_feature_store"], LATER_DAY)
    moved = later_before.get_column("teammates_absent_last_game") != later_after.get_column(
        "teammates_absent_last_game"
    )
    assert moved.sum() > 100


def test_feature_set_v1_is_still_reproducible(tables: dict[str, pl.DataFrame]) -> None:
    store = tables["ml_feature_store"]
    v1 = precompute_phase(tables)["ml_feature_store"]
    assert (v1.get_column("feature_set_version") == features.FEATURE_SET_V1).all()
    assert v1.select(features.FEATURES_MARKET).null_count().sum_horizontal().item() == (
        v1.height * len(features.FEATURES_MARKET)
    )
    assert v1.select(features.FEATURES_V1).equals(store.select(features.FEATURES_V1))
    assert (store.get_column("feature_set_version") == features.FEATURE_SET_V2).all()
