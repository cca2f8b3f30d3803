"""The grading summary: its JSON shape, the text table and the pictures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from nba_assets.lib import grading, report
from nba_assets.lib.predict import NO_LINE, OVER, PASS, UNDER

CONTRACT_KEYS = {"system_id", "graded", "mae", "line_mae", "picks", "hit_rate", "roi"}


def _accuracy() -> pl.DataFrame:
    days = [dt.date(2025, 11, 1), dt.date(2025, 11, 2)]
    preds, results = [], []
    for d_i, day in enumerate(days):
        for p in range(30):
            actual = 10 + (p * 7 + d_i) % 15
            line = 14.5 + p % 3
            results.append(
                {
                    "game_date": day,
                    "player_id": p,
                    "team_abbr": "BOS",
                    "minutes": 30.0,
                    "pts": actual,
                }
            )
            for system, predicted in (("a", actual + 2.0), ("b", line + (4 if p % 2 else -4))):
                edge = predicted - line
                recommendation = OVER if edge >= 3 else UNDER if edge <= -3 else PASS
                preds.append(
                    {
                        "game_date": day,
                        "game_id": "G",
                        "player_id": p,
                        "player_lookup": f"p{p}",
                        "team_abbr": "BOS",
                        "opponent_team_abbr": "NYK",
                        "system_id": system,
                        "predicted_points": predicted,
                        "line": None if p == 29 else line,
                        "over_price": -110.0,
                        "under_price": -110.0,
                        "edge": None if p == 29 else edge,
                        "recommendation": NO_LINE if p == 29 else recommendation,
                    }
                )
    return grading.grade(pl.DataFrame(preds), pl.DataFrame(results))


def test_summary_has_the_contract_keys_and_serialises() -> None:
    summary = report.summarize(_accuracy())
    assert [row["system_id"] for row in summary] == ["a", "b"]
    for row in summary:
        assert set(row) >= CONTRACT_KEYS
        assert row["graded"] == 58  # 29 players with a line, two days
    payload = json.loads(json.dumps({"systems": summary}))
    a = payload["systems"][0]
    assert a["mae"] == pytest.approx(2.0)
    assert isinstance(a["picks"], int) and isinstance(a["line_mae"], float)
    assert 0 <= a["hit_rate"] <= 1 and -1 <= a["roi"] <= 1


def test_summary_of_nothing_is_empty_and_picks_absent_give_null_rates() -> None:
    assert report.summarize(_accuracy().head(0)) == []
    no_picks = _accuracy().with_columns(
        recommendation=pl.lit(PASS), units=pl.lit(None, pl.Float64), prediction_correct=None
    )
    (row, _) = report.summarize(no_picks)
    assert row["picks"] == 0 and row["hit_rate"] is None and row["roi"] is None


def test_text_table_lists_every_system() -> None:
    text = report.render_table(report.summarize(_accuracy()))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["system", "graded", "MAE"]
    assert lines[2].startswith("a ") and lines[3].startswith("b ")


def test_plots_are_rendered_as_png() -> None:
    plots = report.render_plots(_accuracy())
    assert list(plots) == ["mae_by_day.png", "calibration.png", "hit_rate_by_edge.png"]
    for body in plots.values():
        assert body[:8] == b"\x89PNG\r\n\x1a\n"


def test_season_average_reference_is_measured_on_the_graded_player_games() -> None:
    accuracy = _accuracy()
    graded = accuracy.filter(pl.col("graded")).unique(["game_date", "player_id"])
    # Player 0 has no average at all (a debut); the others average 12, or 15 from last season.
    features = graded.select(
        "game_date",
        "player_id",
        points_avg_season=pl.when(pl.col("player_id") % 2 == 1).then(12.0),
        points_avg_prev_season=pl.when(pl.col("player_id") > 0).then(15.0),
    )
    reference = report.season_average_reference(accuracy, features)
    rows = graded.filter(pl.col("player_id") > 0)
    average = pl.when(pl.col("player_id") % 2 == 1).then(12.0).otherwise(15.0)
    expected = rows.select((average - pl.col("actual_points")).abs().mean()).item()
    line = rows.select((pl.col("line") - pl.col("actual_points")).abs().mean()).item()
    assert reference["player_games"] == rows.height == graded.height - 2  # player 0, both days
    assert reference["mae"] == pytest.approx(expected, abs=1e-4)
    assert reference["line_mae"] == pytest.approx(line, abs=1e-4)
    empty = report.season_average_reference(accuracy.head(0), features)
    assert empty == {"player_games": 0, "mae": None, "line_mae": None}


def test_report_of_an_empty_warehouse_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nba_assets import cli

    monkeypatch.setenv("NBA_HOME", str(tmp_path / "home"))
    assert report.render_table([]).splitlines()[0].split()[:2] == ["system", "graded"]
    assert cli.main(["report", "--start", "2025-11-01", "--end", "2025-11-02"]) == 0
    out = capsys.readouterr().out
    assert "there is no warehouse at" in out and "nba-assets replay" in out
    assert cli.main(["report", "--start", "2025-11-01", "--end", "2025-11-02", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["systems"] == [] and payload["season_average"]["player_games"] == 0


def test_intervals_of_hit_rate_and_return() -> None:
    low, high = report.wilson_interval(55, 100) or (0.0, 0.0)
    assert low == pytest.approx(0.4524, abs=1e-4) and high == pytest.approx(0.6438, abs=1e-4)
    assert report.wilson_interval(0, 0) is None
    # All hits stays inside 0..1, as a normal interval would not.
    low, high = report.wilson_interval(4, 4) or (0.0, 0.0)
    assert 0.4 < low < 1.0 and high == pytest.approx(1.0)
    low, high = report.mean_interval([0.909, -1.0, 0.909, -1.0]) or (0.0, 0.0)
    assert low < -0.0455 < high and high - low == pytest.approx(2 * 1.959964 * 1.1025 / 2, 1e-3)
    assert report.mean_interval([1.0]) is None


def test_picks_by_edge_bucket_carry_their_intervals() -> None:
    accuracy = _accuracy()
    summary = {row["system_id"]: row for row in report.summarize(accuracy)}
    b = summary["b"]
    # System b is always 4 points off the line: every pick is in the 4-6 bucket.
    assert [bucket["bucket"] for bucket in b["pick_buckets"]] == ["4-6"]
    (bucket,) = b["pick_buckets"]
    assert bucket["picks"] == b["picks"] == 58
    assert bucket["hit_rate_low"] < bucket["hit_rate"] < bucket["hit_rate_high"]
    assert bucket["roi_low"] < bucket["roi"] < bucket["roi_high"]
    assert b["hit_rate_ci"] == [round(bucket["hit_rate_low"], 4), round(bucket["hit_rate_high"], 4)]
    text = report.render_table(list(summary.values()))
    assert "picks by edge" in text and "4-6" in text
    json.dumps(list(summary.values()))


def test_over_probability_calibration_bins_played_player_games() -> None:
    accuracy = _accuracy().with_columns(
        over_probability=pl.when(pl.col("system_id") == "b").then(
            pl.when(pl.col("edge") > 0).then(0.6).otherwise(0.4)
        )
    )
    bins = report.over_calibration(accuracy)
    assert set(bins.get_column("system_id")) == {"b"}
    decided = accuracy.filter(
        pl.col("system_id") == "b",
        pl.col("line").is_not_null(),
        pl.col("actual_points") != pl.col("line"),
    )
    assert bins.get_column("n").sum() == decided.height
    high = bins.filter(pl.col("probability") == 0.6)
    expected = decided.filter(pl.col("edge") > 0).select(
        (pl.col("actual_points") > pl.col("line")).mean()
    )
    assert high.item(0, "over_rate") == pytest.approx(expected.item())
    assert report.render_plots(accuracy)["calibration.png"][:4] == b"\x89PNG"


def test_the_recommended_system_is_marked() -> None:
    from nba_assets.lib.predict import market_blend

    accuracy = _accuracy().with_columns(
        system_id=pl.when(pl.col("system_id") == "b")
        .then(pl.lit(market_blend.RECOMMENDED_SYSTEM))
        .otherwise(pl.col("system_id"))
    )
    summary = report.summarize(accuracy)
    assert [row["recommended"] for row in summary] == [False, True]
    text = report.render_table(summary)
    assert f"{market_blend.RECOMMENDED_SYSTEM} *" in text and "recommended system" in text
