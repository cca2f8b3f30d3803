"""The market systems on the shipped archive's real lines: walk-forward, calibrated picks.

The feature store, lines and box scores are those a replay of the archive writes
(``nba_assets.pipeline``); the moving average stands in for the ensemble, so no model is trained.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_assets.lib import market
from nba_assets.lib.lines import american_to_decimal, daily_points_lines, points_offers
from nba_assets.lib.predict import OVER, PASS, UNDER, market_blend, moving_average_v1, systems
from nba_assets.pipeline import compute_phases, raw_frames
from nba_assets.tables import predictions

HISTORY_START = dt.date(2024, 10, 1)
START, END = dt.date(2025, 10, 21), dt.date(2025, 11, 14)
DAY = dt.date(2025, 11, 5)


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    frames = raw_frames(HISTORY_START, END)
    return {**compute_phases(frames, START, END), "props": frames["odds_player_props"]}


def _inputs(tables: dict[str, pl.DataFrame], actuals: pl.DataFrame | None = None) -> pl.DataFrame:
    store = tables["ml_feature_store"]
    lines = daily_points_lines(market.pre_game_props(tables["props"]))
    ensemble = store.select("game_date", "player_id", ensemble=moving_average_v1(store))
    summary = tables["player_game_summary"] if actuals is None else actuals
    return market_blend.market_inputs(store, ensemble, lines, summary)


def _offers(props: pl.DataFrame) -> pl.DataFrame:
    offers, _ = points_offers(market.pre_game_props(props))
    return offers


@pytest.fixture(scope="module")
def served(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return market_blend.market_predictions(_inputs(tables), _offers(tables["props"]), START)


def test_a_day_learns_only_from_earlier_days(
    tables: dict[str, pl.DataFrame], served: pl.DataFrame
) -> None:
    summary = tables["player_game_summary"]
    later = pl.col("game_date") >= DAY
    poisoned = summary.with_columns(pts=pl.when(later).then(pl.col("pts") + 15).otherwise("pts"))
    changed = market_blend.market_predictions(
        _inputs(tables, poisoned), _offers(tables["props"]), START
    )
    systems_cols = [c for c in served.columns if c.startswith("market_")]
    upto = pl.col("game_date") <= DAY
    assert served.filter(upto).height > 1000
    assert (
        served.filter(upto).select(systems_cols).equals(changed.filter(upto).select(systems_cols))
    )
    # The poison does reach the days after: the test can see a leak.
    after = pl.col("game_date") > DAY
    moved = served.filter(after).get_column(market_blend.SYSTEM_MARKET_RESIDUAL) != changed.filter(
        after
    ).get_column(market_blend.SYSTEM_MARKET_RESIDUAL)
    assert moved.sum() > 100


def test_first_days_are_the_line_then_the_systems_learn(served: pl.DataFrame) -> None:
    first = served.filter(pl.col("game_date") == START)
    inputs_first = first.height
    assert inputs_first > 20  # two games on opening night
    for system in market_blend.MARKET_SYSTEMS:
        assert (first.get_column(f"{system}_recommendation") == PASS).all()
        assert first.get_column(f"{system}_p_over").is_null().all()
    last = served.filter(pl.col("game_date") == END)
    weight = last.item(0, "market_blend_weight")
    assert 0.0 < weight < 1.0
    # Later days have learned a probability of the over, inside 0..1, not all the same.
    p = last.get_column(f"{market_blend.RECOMMENDED_SYSTEM}_p_over")
    assert p.is_not_null().all() and p.min() > 0.0 and p.max() < 1.0 and p.n_unique() > 50  # type: ignore[operator]


def test_picks_clear_the_day_threshold_at_the_recorded_price(
    tables: dict[str, pl.DataFrame], served: pl.DataFrame
) -> None:
    store = tables["ml_feature_store"]
    lines = daily_points_lines(market.pre_game_props(tables["props"]))
    base = store.with_columns(confidence=pl.lit(0.5))
    rows = systems.market_rows(base, served, lines)
    spec = predictions.player_prop_predictions
    # Every column of the table but the run's version, which the asset adds to all rows.
    made = pl.lit(None, spec.columns["prediction_snapshot_time"]).alias("prediction_snapshot_time")
    spec.conform(rows.with_columns(made).select(list(spec.columns)))
    assert set(rows.get_column("system_id")) == set(market_blend.MARKET_SYSTEMS)
    picks = rows.filter(pl.col("recommendation").is_in([OVER, UNDER]))
    assert picks.height > 50
    offers = _offers(tables["props"])
    # Each pick takes one book's real offer: its line and both prices are that book's.
    taken = picks.join(
        offers,
        left_on=[
            "game_date",
            "player_lookup",
            "line_bookmaker",
            "line",
            "over_price",
            "under_price",
        ],
        right_on=["game_date", "player_lookup", "bookmaker", "line", "over_price", "under_price"],
        how="semi",
    )
    assert taken.height == picks.height
    for row in picks.iter_rows(named=True):
        threshold = float(row["model_version"].rsplit("ev>=", 1)[1])
        over = row["recommendation"] == OVER
        p = row["over_probability"] if over else 1 - row["over_probability"]
        price = row["over_price"] if over else row["under_price"]
        decimal = pl.select(american_to_decimal(pl.lit(price))).item()
        assert p * decimal - 1 >= threshold - 1e-9
    # Books disagree: some picks take a line other than the median.
    median = picks.join(lines, on=["game_date", "player_lookup"], suffix="_median")
    assert (median.get_column("line") != median.get_column("line_median")).sum() > 10
    others = rows.filter(~pl.col("recommendation").is_in([OVER, UNDER]))
    assert others.get_column("line_bookmaker").is_null().all()
    no_threshold = rows.filter(pl.col("model_version").str.ends_with("ev>=none"))
    assert (no_threshold.get_column("recommendation") == PASS).all()


def test_threshold_rule_takes_the_best_earlier_return_with_enough_picks() -> None:
    params = market_blend.MARKET_PARAMS
    n = 400
    # Over at +100 every time; the over wins when p_over >= 0.6 and loses below.
    p = [0.5 + 0.25 * i / n for i in range(n)]
    window = pl.DataFrame(
        {
            "game_date": [DAY] * n,
            "player_lookup": [f"player{i}" for i in range(n)],
            "bookmaker": ["book"] * n,
            "p_over": p,
            "over_price": [100.0] * n,
            "under_price": [-120.0] * n,
            "line": [10.5] * n,
            "actual": [12.0 if q >= 0.6 else 9.0 for q in p],
        }
    )
    threshold = market_blend._threshold(window, params)
    # EV at +100 is 2p - 1: 0.20 keeps only winners (p >= 0.6) and still has >= 100 picks.
    assert threshold == 0.20
    losing = window.with_columns(actual=pl.lit(9.0))
    assert market_blend._threshold(losing, params) is None
    assert market_blend._threshold(window.head(50), params) is None


def test_days_without_lines_give_an_empty_frame_of_the_output_schema(
    tables: dict[str, pl.DataFrame],
) -> None:
    inputs = _inputs(tables).filter(pl.col("game_date") < START)  # no line before the season
    assert inputs.is_empty()
    served = market_blend.market_predictions(inputs, _offers(tables["props"]), START)
    assert served.is_empty() and served.schema == market_blend.OUTPUT_SCHEMA
    store = tables["ml_feature_store"].with_columns(confidence=pl.lit(0.5))
    lines = daily_points_lines(market.pre_game_props(tables["props"]))
    assert systems.market_rows(store, served, lines).is_empty()


def test_the_bet_is_the_offer_with_the_best_expected_value() -> None:
    # One player, three books; p_over is the calibrated probability at each book's line.
    offers = pl.DataFrame(
        {
            "game_date": [DAY] * 3,
            "player_lookup": ["jalenbrunson"] * 3,
            "bookmaker": ["draftkings", "fanduel", "betmgm"],
            "line": [26.5, 25.5, 26.5],
            "over_price": [-110.0, -135.0, -105.0],
            "under_price": [-110.0, 105.0, -115.0],
            "p_over": [0.50, 0.56, 0.50],
        }
    )
    (best,) = market_blend._best_offer(offers, "p_over").iter_rows(named=True)
    # EVs: over 26.5 -110 -0.045, over 25.5 -135 -0.025, over 26.5 -105 -0.024 (the best
    # over); unders 26.5 -110 -0.045, 25.5 +105 -0.098, 26.5 -115 -0.065.
    assert (best["bookmaker"], best["side"]) == ("betmgm", OVER)
    assert best["ev"] == pytest.approx(0.5 * (1 + 100 / 105) - 1)


def test_offers_after_tip_off_or_on_later_days_do_not_move_a_day(
    tables: dict[str, pl.DataFrame], served: pl.DataFrame
) -> None:
    props = tables["props"]
    points = props.filter(pl.col("market") == "player_points")
    # The first day the recommended system picks on (a threshold chosen from earlier days).
    threshold = pl.col(f"{market_blend.RECOMMENDED_SYSTEM}_ev_threshold")
    day = served.filter(threshold.is_not_null()).get_column("game_date").min()
    assert isinstance(day, dt.date) and day < END
    # A ninth book at +300 both ways: an offer no one could refuse.
    generous = {"bookmaker": pl.lit("latebook"), "over_price": 300.0, "under_price": 300.0}
    on_day = points.filter(pl.col("game_date") == day).with_columns(**generous)
    after_tip = pl.concat(
        [
            # updated after tip-off, in the day's last snapshot before it
            on_day.with_columns(last_update=pl.col("commence_time") + dt.timedelta(minutes=5)),
            # a snapshot taken once the game had started
            on_day.with_columns(
                snapshot_time=pl.col("commence_time") + dt.timedelta(minutes=10),
                last_update=pl.col("commence_time") + dt.timedelta(minutes=9),
            ),
            # the next day's offers
            points.filter(pl.col("game_date") == day + dt.timedelta(days=1)).with_columns(
                **generous
            ),
        ]
    )
    changed = market_blend.market_predictions(
        _inputs(tables), _offers(pl.concat([props, after_tip])), START
    )
    upto = pl.col("game_date") <= day
    assert served.filter(upto).equals(changed.filter(upto))
    # The same offer before tip-off is taken: the test can see a leak.
    before_tip = on_day.with_columns(last_update=pl.col("snapshot_time"))
    taken = market_blend.market_predictions(
        _inputs(tables), _offers(pl.concat([props, before_tip])), START
    ).filter(pl.col("game_date") == day)
    books = taken.get_column(f"{market_blend.RECOMMENDED_SYSTEM}_bet_bookmaker")
    assert (books == "latebook").sum() > 10


def test_an_offer_far_from_the_other_books_at_its_line_is_a_quoting_error() -> None:
    # Four books quote 2.5 threes; betrivers' prices are swapped (a 2024-25 file's error).
    books = ["draftkings", "fanduel", "betmgm", "betrivers"]
    over, under = [-160.0, -138.0, -150.0, 165.0], [124.0, 108.0, 120.0, -230.0]
    rows = {
        "game_date": [DAY] * 6,
        "market": ["player_points"] * 6,
        "player_lookup": ["anthonyedwards"] * 4 + ["austinreaves"] * 2,
        "bookmaker": books + ["draftkings", "betrivers"],
        "line": [2.5] * 4 + [1.5, 1.5],
        # Two books only: no consensus to measure against, both kept.
        "over_price": over + [-166.0, 215.0],
        "under_price": under + [130.0, -305.0],
    }
    offers, suspect = points_offers(pl.DataFrame(rows))
    assert suspect.select("player_lookup", "bookmaker").rows() == [("anthonyedwards", "betrivers")]
    assert offers.height == 5


def test_the_residual_fit_reaches_the_least_absolute_deviation_optimum(
    tables: dict[str, pl.DataFrame],
) -> None:
    """The dual programme's coefficients score the primal objective that the primal programme
    itself reaches, on four weeks of real graded player-games."""
    import numpy as np
    from scipy import sparse
    from scipy.optimize import linprog

    params = market_blend.MARKET_PARAMS
    inputs = _inputs(tables)
    window = inputs.filter(pl.col("actual").is_not_null(), pl.col("game_date") < DAY)
    assert window.height >= params.min_rows
    coef = market_blend._residual_fit(window, params)

    x = window.select(**market_blend.RESIDUAL_INPUTS).to_numpy()
    y = window.get_column("actual").to_numpy() - window.get_column("line").to_numpy()
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    n, k = x.shape
    penalty = params.slope_penalty * n

    def objective(c: np.ndarray) -> float:
        return float(np.abs(y - c[0] - x @ c[1:]).sum() + penalty * np.abs(c[1:] * scale).sum())

    # The primal programme on the same standardised inputs: 2n + 2k + 1 variables.
    z = (x - x.mean(axis=0)) / scale
    primal = linprog(
        np.concatenate([[0.0], np.full(2 * k, penalty), np.ones(2 * n)]),
        A_eq=sparse.hstack(
            [sparse.csr_matrix(np.ones((n, 1))), z, -z, sparse.eye(n), -sparse.eye(n)]
        ),
        b_eq=y,
        bounds=[(None, None)] + [(0, None)] * (2 * k + 2 * n),
        method="highs",
    )
    assert primal.success
    assert objective(coef) == pytest.approx(primal.fun, rel=1e-9)
    # A coefficient moved off the optimum scores worse: the comparison can fail.
    assert objective(coef + np.r_[0.0, 0.05, np.zeros(k - 1)]) > primal.fun + 1e-6


def test_the_calibration_is_the_maximum_likelihood_fit() -> None:
    """At the fitted coefficients the log-loss's gradient vanishes (it is convex: the optimum)."""
    import numpy as np
    from scipy.special import expit

    rng = np.random.default_rng(7)
    x = np.column_stack([rng.normal(0, 3, 5000), rng.normal(0, 0.3, 5000)])
    over = (rng.random(5000) < expit(0.1 + 0.08 * x[:, 0] + 0.9 * x[:, 1])).astype(float)
    c = market_blend._platt(x, over)
    design = np.column_stack([np.ones(len(x)), x])
    gradient = design.T @ (expit(design @ c) - over)
    assert np.abs(gradient).max() < 1e-6 * len(x)
    assert c == pytest.approx([0.1, 0.08, 0.9], abs=0.1)
