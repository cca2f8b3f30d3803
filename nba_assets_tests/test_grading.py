"""Grading rules: hits and misses, pushes, voids, PASS / NO_LINE, payouts at the recorded price."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from nba_assets.defs.grading import checks as grading_checks
from nba_assets.defs.grading.assets import (
    prediction_accuracy,
    system_daily_performance,
)
from nba_assets.lib import grading
from nba_assets.lib.predict import NO_LINE, OVER, PASS, UNDER
from nba_assets.reports.store import ReportsResource
from nba_assets.tables import analytics, predictions
from nba_assets.warehouse.resource import WarehouseResource
from nba_assets_tests.test_walk_forward import fill_spec, materialize_range, resources, write

DAY = dt.date(2025, 11, 3)


def _prediction(
    player_id: int,
    recommendation: str,
    predicted: float,
    line: float | None,
    over_price: float | None = -110.0,
    under_price: float | None = -110.0,
    team: str = "BOS",
) -> dict[str, object]:
    return {
        "game_date": DAY,
        "game_id": f"G-{team}",
        "player_id": player_id,
        "player_lookup": f"player{player_id}",
        "team_abbr": team,
        "opponent_team_abbr": "NYK" if team == "BOS" else "LAL",
        "system_id": "s",
        "model_version": "m",
        "predicted_points": predicted,
        "confidence": 0.8,
        "line": line,
        "line_books": None if line is None else 5,
        "line_source": None if line is None else "odds_api",
        "over_price": over_price,
        "under_price": under_price,
        "edge": None if line is None else predicted - line,
        "recommendation": recommendation,
    }


def _result(player_id: int, pts: int, minutes: float = 30.0, team: str = "BOS") -> dict:
    return {
        "game_date": DAY,
        "player_id": player_id,
        "team_abbr": team,
        "minutes": minutes,
        "pts": pts,
    }


def _grade(predictions: list[dict], results: list[dict]) -> dict[int, dict]:
    preds = pl.DataFrame(predictions, infer_schema_length=None)
    res = pl.DataFrame(
        results,
        schema={
            "game_date": pl.Date,
            "player_id": pl.Int64,
            "team_abbr": pl.String,
            "minutes": pl.Float64,
            "pts": pl.Int64,
        },
    )
    graded = grading.grade(preds, res)
    return {row["player_id"]: row for row in graded.iter_rows(named=True)}


def test_over_and_under_hits_and_misses() -> None:
    rows = _grade(
        [
            _prediction(1, OVER, 25.0, 20.5),
            _prediction(2, OVER, 25.0, 20.5),
            _prediction(3, UNDER, 15.0, 20.5),
            _prediction(4, UNDER, 15.0, 20.5),
        ],
        [_result(1, 21), _result(2, 20), _result(3, 20), _result(4, 21)],
    )
    assert [rows[i]["prediction_correct"] for i in (1, 2, 3, 4)] == [True, False, True, False]
    assert all(rows[i]["graded"] and not rows[i]["is_void"] for i in rows)
    assert rows[1]["absolute_error"] == 4.0 and rows[1]["signed_error"] == 4.0
    assert rows[3]["signed_error"] == -5.0 and rows[3]["within_5"] and not rows[3]["within_3"]
    assert rows[1]["line_absolute_error"] == pytest.approx(0.5)


def test_push_is_neither_hit_nor_miss_and_returns_the_stake() -> None:
    rows = _grade([_prediction(1, OVER, 25.0, 20.0)], [_result(1, 20)])
    assert rows[1]["is_push"] and rows[1]["prediction_correct"] is None
    assert rows[1]["units"] == 0.0 and rows[1]["graded"]


@pytest.mark.parametrize("minutes", [None, 0.0])
def test_player_who_did_not_play_is_void(minutes: float | None) -> None:
    results = [_result(9, 30)]  # a teammate played: the game has a result
    if minutes is not None:
        results.append(_result(1, 0, minutes=minutes))
    rows = _grade([_prediction(1, OVER, 25.0, 20.5)], results)
    assert rows[1]["is_void"] and not rows[1]["graded"]
    assert rows[1]["actual_points"] is None and rows[1]["prediction_correct"] is None
    assert rows[1]["units"] is None and rows[1]["absolute_error"] is None


def test_game_without_result_is_neither_graded_nor_void() -> None:
    rows = _grade([_prediction(1, OVER, 25.0, 20.5, team="GSW")], [_result(9, 30, team="BOS")])
    assert not rows[1]["is_void"] and not rows[1]["graded"] and rows[1]["units"] is None


def test_pass_and_no_line_are_not_bets() -> None:
    rows = _grade(
        [_prediction(1, PASS, 21.0, 20.5), _prediction(2, NO_LINE, 21.0, None)],
        [_result(1, 30), _result(2, 30)],
    )
    for i in (1, 2):
        assert rows[i]["prediction_correct"] is None and rows[i]["units"] is None
        assert rows[i]["absolute_error"] == 9.0  # the error is still measured
    assert rows[1]["graded"]  # PASS counts in MAE: it has a line
    assert not rows[2]["graded"]  # NO_LINE cannot be compared with a line


def test_payout_at_minus_110_and_plus_120() -> None:
    rows = _grade(
        [
            _prediction(1, OVER, 25.0, 20.5, over_price=-110.0),
            _prediction(2, UNDER, 15.0, 20.5, under_price=120.0),
            _prediction(3, OVER, 25.0, 20.5, over_price=120.0),
            _prediction(4, UNDER, 15.0, 20.5, under_price=None),  # no price: -110 assumed
        ],
        [_result(1, 30), _result(2, 10), _result(3, 10), _result(4, 10)],
    )
    assert rows[1]["units"] == pytest.approx(100 / 110)
    assert rows[2]["units"] == pytest.approx(1.2)
    assert rows[3]["units"] == -1.0
    assert rows[4]["units"] == pytest.approx(100 / 110)


def test_daily_performance_hit_rate_and_roi() -> None:
    preds = [
        _prediction(1, OVER, 25.0, 20.5, over_price=120.0),  # hit +1.2
        _prediction(2, OVER, 25.0, 20.5),  # miss -1
        _prediction(3, UNDER, 15.0, 20.0),  # push 0
        _prediction(4, PASS, 21.0, 20.5),  # not a bet
        _prediction(5, OVER, 25.0, 20.5),  # void
    ]
    results = [_result(1, 30), _result(2, 10), _result(3, 20), _result(4, 24)]
    accuracy = grading.grade(pl.DataFrame(preds, infer_schema_length=None), pl.DataFrame(results))
    (day,) = grading.daily_performance(accuracy).iter_rows(named=True)
    assert (day["predictions"], day["voids"], day["graded"]) == (5, 1, 4)
    assert (day["picks"], day["hits"], day["misses"], day["pushes"]) == (3, 1, 1, 1)
    assert day["hit_rate"] == pytest.approx(0.5)
    assert day["roi"] == pytest.approx((1.2 - 1.0 + 0.0) / 3)
    assert day["mae"] == pytest.approx((5.0 + 15.0 + 5.0 + 3.0) / 4)
    assert day["line_mae"] == pytest.approx((9.5 + 10.5 + 0.0 + 3.5) / 4)


def test_grading_assets_write_tables_pictures_and_pass_their_checks(tmp_path: Path) -> None:
    preds = pl.DataFrame(
        [
            _prediction(1, OVER, 25.0, 20.5),
            _prediction(2, UNDER, 15.0, 20.5, under_price=120.0),
            _prediction(3, PASS, 21.0, 20.5),
            _prediction(4, NO_LINE, 21.0, None),
            _prediction(5, OVER, 25.0, 20.5),
        ],
        infer_schema_length=None,
    ).with_columns(feature_set_version=pl.lit("v1"))
    box = pl.DataFrame([_result(1, 30), _result(2, 10), _result(3, 22), _result(4, 12)])
    res = {
        **resources(tmp_path),
        "reports": ReportsResource(root=str(tmp_path / "reports")),
    }
    write(
        res,
        predictions.player_prop_prediction_history,
        fill_spec(predictions.player_prop_prediction_history, preds),
    )
    write(res, analytics.player_game_summary, fill_spec(analytics.player_game_summary, box))

    result = materialize_range(
        [
            prediction_accuracy,
            system_daily_performance,
            *dg.load_asset_checks_from_modules([grading_checks]),
        ],
        res,
        DAY,
        DAY,
    )
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    warehouse = res["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    (day,) = warehouse.get().read(predictions.system_daily_performance).iter_rows(named=True)
    assert (day["predictions"], day["voids"], day["picks"], day["hits"]) == (5, 1, 2, 2)
    (event,) = result.asset_materializations_for_node("nba_predictions__system_daily_performance")
    assert event.metadata["dagster/row_count"].value == 1
    for name in ("mae_by_day", "calibration", "hit_rate_by_edge"):
        assert Path(str(event.metadata[name].value)).exists()
        assert Path(str(event.metadata[name].value)).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Linked, never inlined: the event log must not carry the pictures.
    assert all("base64" not in str(value.value) for value in event.metadata.values())


def test_each_player_game_is_graded_on_its_last_run_before_tip_off() -> None:
    def utc(hour: int) -> dt.datetime:
        return dt.datetime(2025, 11, 2, hour, tzinfo=dt.UTC)

    def run(made: int, player: int, team: str, tip: int | None) -> dict[str, object]:
        line = None if tip is None else float(made)  # each run's line says which run it was
        row = _prediction(player, NO_LINE if line is None else PASS, 20.0, line, team=team)
        return {**row, "prediction_snapshot_time": utc(made), "commence_time": tip and utc(tip)}

    history = pl.DataFrame(
        [
            # BOS tips off at 20:30 UTC: the 21:00 run came after it.
            *(run(made, 1, "BOS", 20) for made in (5, 15, 17, 21)),
            # LAL tips off at 23:00: its 21:00 run is the last before.
            *(run(made, 2, "LAL", 23) for made in (5, 15, 17, 21)),
            # A player of the LAL game without a line is graded on the same run.
            *(run(made, 3, "LAL", None) for made in (5, 21)),
            # A player first predicted after his game began has nothing to grade.
            run(21, 4, "BOS", 20),
        ],
        infer_schema_length=None,
    )
    record, missing = grading.predictions_of_record(history)
    by_player = {row["player_id"]: row for row in record.iter_rows(named=True)}
    assert {p: r["prediction_snapshot_time"].hour for p, r in by_player.items()} == {
        1: 17,
        2: 21,
        3: 21,
    }
    assert by_player[1]["line"] == 17.0
    assert missing == 1
