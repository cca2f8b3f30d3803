"""Prediction systems, thresholds, the day's lines and the predictions asset."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from nba_assets.defs.predictions import checks as prediction_checks
from nba_assets.defs.predictions.assets import (
    player_prop_prediction_history,
    player_prop_predictions,
    points_model,
)
from nba_assets.lib import predict
from nba_assets.lib.lines import daily_points_lines, pre_game_props
from nba_assets.lib.predict import NO_LINE, OVER, PASS, UNDER, Thresholds, market_blend, systems
from nba_assets.tables import analytics, precompute, predictions, raw
from nba_assets.warehouse.resource import WarehouseResource
from nba_assets_tests.test_walk_forward import (
    HISTORY_START,
    fill_spec,
    materialize_range,
    resources,
    synthetic_history,
    write,
)

T = Thresholds(min_edge=3.0, min_confidence=0.4)
NOON = dt.datetime(2025, 11, 1, 17, tzinfo=dt.UTC)
_17_HOURS, _23_HOURS = dt.timedelta(hours=17), dt.timedelta(hours=23)


@pytest.mark.parametrize(
    ("predicted", "line", "confidence", "expected"),
    [
        (23.5, 20.5, 0.9, OVER),  # edge exactly at the threshold
        (23.49, 20.5, 0.9, PASS),  # just below
        (17.5, 20.5, 0.9, UNDER),
        (17.51, 20.5, 0.9, PASS),
        (30.0, 20.5, 0.39, PASS),  # confidence just below
        (30.0, 20.5, 0.4, OVER),
        (30.0, None, 0.9, NO_LINE),
        (None, 20.5, 0.9, PASS),
    ],
)
def test_recommend_thresholds(
    predicted: float | None, line: float | None, confidence: float, expected: str
) -> None:
    assert predict.recommend(predicted, line, confidence, T) == expected
    frame = pl.DataFrame(
        {"predicted_points": [predicted], "line": [line], "confidence": [confidence]},
        schema={"predicted_points": pl.Float64, "line": pl.Float64, "confidence": pl.Float64},
    )
    assert frame.select(predict.recommendation_expr(T)).item() == expected


def _features(**columns: list) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list] = {
        name: [None] * n for name in precompute.ml_feature_store.columns if name != "game_date"
    }
    base.update(game_date=[dt.date(2025, 11, 1)] * n, **columns)
    return fill_spec(precompute.ml_feature_store, pl.DataFrame(base))


def test_moving_average_falls_back_on_the_previous_season_then_a_default() -> None:
    features = _features(
        points_avg_last_5=[20.0, None, None],
        points_avg_last_10=[20.0, None, None],
        points_avg_season=[20.0, None, None],
        points_avg_prev_season=[20.0, 14.0, None],
        games_played_season=[10.0, 0.0, 0.0],
    )
    predicted = predict.moving_average_v1(features).to_list()
    assert predicted[0] == pytest.approx(20.0)
    assert predicted[1] == pytest.approx(14.0)
    assert predicted[2] == pytest.approx(predict.MOVING_AVERAGE_PARAMS.default_points)


def test_confidence_is_between_0_and_1_and_grows_with_history() -> None:
    features = _features(
        games_played_season=[0.0, 2.0, 20.0, 20.0],
        points_avg_prev_season=[None, 10.0, 10.0, 10.0],
        points_avg_last_10=[None, 10.0, 20.0, 20.0],
        points_std_last_10=[None, 5.0, 4.0, 12.0],
    )
    values = predict.confidence(features).to_list()
    assert all(0.0 <= v <= 1.0 for v in values)
    assert values[0] < values[1] < values[2] and values[3] < values[2]


def test_daily_line_is_the_median_across_books_of_the_points_market() -> None:
    day = dt.date(2025, 11, 1)
    props = pl.DataFrame(
        {
            "game_date": [day] * 5,
            "bookmaker": ["a", "b", "c", "a", "a"],
            "market": ["player_points"] * 3 + ["player_rebounds", "player_points"],
            "player_lookup": ["x", "x", "x", "x", "y"],
            "line": [20.5, 21.5, 21.5, 8.5, None],
            "over_price": [-110.0, -120.0, 100.0, -110.0, -110.0],
            "under_price": [-110.0, 100.0, -120.0, -110.0, -110.0],
            "snapshot_time": [NOON] * 5,
            "commence_time": [NOON + dt.timedelta(hours=7)] * 5,
        }
    )
    (row,) = daily_points_lines(props).iter_rows(named=True)
    assert row["player_lookup"] == "x" and row["line"] == 21.5 and row["line_books"] == 3
    assert row["over_price"] == pytest.approx(-110.0) and row["under_price"] == -110.0
    assert row["line_source"] == "odds_api" and row["line_snapshot_time"] == NOON
    assert row["commence_time"] == NOON + dt.timedelta(hours=7)


def test_lines_are_each_events_last_snapshot_before_tip_off() -> None:
    """Event e tips off at 19:00: its 10:00 and 16:00 pulls count, the 16:00 one wins, and its
    19:30 pull (after tip-off) does not; a player the 16:00 pull no longer lists has no line.
    Event f's only pull, at 10:00, stands."""
    day, tip = dt.date(2025, 11, 1), dt.datetime(2025, 11, 1, 23, tzinfo=dt.UTC)
    pulls = [tip.replace(hour=15), tip.replace(hour=21), tip.replace(hour=23, minute=30)]
    rows = [
        ("e", pulls[0], "x", 20.5),
        ("e", pulls[0], "y", 10.5),
        ("e", pulls[1], "x", 22.5),
        ("e", pulls[2], "x", 30.5),
        ("f", pulls[0], "z", 5.5),
    ]
    props = pl.DataFrame(
        {
            "game_date": [day] * len(rows),
            "event_id": [r[0] for r in rows],
            "commence_time": [tip] * len(rows),
            "snapshot_time": [r[1] for r in rows],
            "bookmaker": ["a"] * len(rows),
            "market": ["player_points"] * len(rows),
            "player_lookup": [r[2] for r in rows],
            "line": [r[3] for r in rows],
            "over_price": [-110.0] * len(rows),
            "under_price": [-110.0] * len(rows),
            "last_update": [None] * len(rows),
        },
        schema_overrides={"last_update": pl.Datetime("us", "UTC")},
    )
    lines = daily_points_lines(pre_game_props(props))
    assert lines.select("player_lookup", "line", "line_snapshot_time").rows() == [
        ("x", 22.5, pulls[1]),
        ("z", 5.5, pulls[0]),
    ]


ENSEMBLE_DAY = dt.date(2025, 11, 10)
ENSEMBLE_PARAMS = predict.EnsembleParams(
    window_days=7, min_rows=10, prior_weight=0.5, shrink_rows=0
)


def graded(days: list[dt.date], actual: list[float]) -> pl.DataFrame:
    """Graded rows where the moving average said 10 points and LightGBM 20."""
    n = len(days)
    return pl.DataFrame(
        {"game_date": days, "moving_average": [10.0] * n, "lightgbm": [20.0] * n, "actual": actual}
    )


def test_ensemble_weight_ignores_the_day_and_later() -> None:
    day, params = ENSEMBLE_DAY, ENSEMBLE_PARAMS
    # LightGBM was right every time before the day, wrong every time from it on.
    past = graded([day - dt.timedelta(days=1 + i % 5) for i in range(50)], [20.0] * 50)
    assert predict.ensemble_weight(past, day, params) == pytest.approx(1.0)
    poison = graded([day + dt.timedelta(days=i % 3) for i in range(500)], [10.0] * 500)
    assert predict.ensemble_weight(pl.concat([past, poison]), day, params) == pytest.approx(1.0)
    assert predict.ensemble_weight(past.head(5), day, params) == 0.5  # too little history


def test_ensemble_weight_minimises_absolute_error() -> None:
    # LightGBM right on 60 of 100 rows, the moving average on 40: squared error would blend
    # them 0.6 / 0.4, absolute error (how predictions are graded) follows the median: LightGBM.
    day, params = ENSEMBLE_DAY, ENSEMBLE_PARAMS
    past = graded(
        [day - dt.timedelta(days=1 + i % 5) for i in range(100)], [20.0] * 60 + [10.0] * 40
    )
    assert predict.ensemble_weight(past, day, params) == pytest.approx(1.0)
    shrunk = dataclasses.replace(params, shrink_rows=100)
    assert predict.ensemble_weight(past, day, shrunk) == pytest.approx(0.75)


def test_predictions_asset_gives_every_system_for_every_player(tmp_path: Path) -> None:
    start, end = dt.date(2024, 2, 19), dt.date(2024, 2, 21)
    features, box = synthetic_history(HISTORY_START, end)
    res = resources(tmp_path)
    write(res, precompute.ml_feature_store, features)
    write(res, analytics.player_game_summary, box.filter(pl.col("game_date") < end))
    lined = features.filter(pl.col("game_date") >= start, pl.col("player_id") < 1010)
    props = pl.concat(
        [
            lined.select(
                "game_date",
                "player_lookup",
                event_id=pl.lit("e1"),
                # The day's noon pull, before a 19:00 tip-off.
                snapshot_time=pl.col("game_date").cast(pl.Datetime("us", "UTC")) + _17_HOURS,
                commence_time=pl.col("game_date").cast(pl.Datetime("us", "UTC")) + _23_HOURS,
                bookmaker=pl.lit(book),
                market=pl.lit("player_points"),
                line=pl.lit(14.5 + i),
                over_price=pl.lit(-110.0),
                under_price=pl.lit(-110.0),
            )
            for i, book in enumerate(("book_a", "book_b", "book_c"))
        ]
    )
    write(res, raw.odds_player_props, fill_spec(raw.odds_player_props, props))

    checks = dg.load_asset_checks_from_modules([prediction_checks])
    result = materialize_range(
        [points_model, player_prop_predictions, player_prop_prediction_history, *checks],
        res,
        start,
        end,
    )
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(checks) and all(e.passed for e in evaluations)
    warehouse = res["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    df = warehouse.get().read(predictions.player_prop_predictions)
    expected_rows = features.filter(pl.col("game_date") >= start).height * len(predict.SYSTEMS)
    # The market systems predict only the players with a line.
    market_rows = lined.height * len(market_blend.MARKET_SYSTEMS)
    assert df.height == expected_rows + market_rows
    assert set(df.get_column("system_id")) == set(systems.ALL_SYSTEMS)
    # No graded day with a line before these: both start from the line itself and pick nothing.
    from_line = df.filter(pl.col("system_id").is_in(market_blend.MARKET_SYSTEMS))
    assert (from_line["predicted_points"] == from_line["line"]).all()
    assert (from_line["recommendation"] == PASS).all()
    # Each day's run is made from the day's noon pull (its latest snapshot), and kept as is.
    noon = pl.col("game_date").cast(pl.Datetime("us", "UTC")) + _17_HOURS
    with_lines = df.filter(pl.col("game_date").is_in(lined.get_column("game_date").implode()))
    assert (with_lines["prediction_snapshot_time"] == with_lines.select(noon).to_series()).all()
    history = warehouse.get().read(predictions.player_prop_prediction_history)
    assert history.sort(df.columns).equals(df.sort(df.columns))
    assert from_line["model_version"].str.ends_with("ev>=none").all()
    with_line = df.filter(pl.col("line").is_not_null())
    assert with_line.get_column("player_id").max() == 1009
    assert (with_line["line"] == 15.5).all() and (with_line["line_books"] == 3).all()
    assert (df.filter(pl.col("line").is_null())["recommendation"] == NO_LINE).all()
    assert set(with_line["recommendation"]) <= {OVER, UNDER, PASS}
    lightgbm = df.filter(pl.col("system_id") == predict.SYSTEM_LIGHTGBM)
    cadence = predict.RETRAIN_CADENCE
    assert lightgbm["model_version"].str.starts_with(f"lightgbm_v1-{cadence}-").all()
