"""The systems that start from the sportsbook line: ``market_blend_v1`` and
``market_residual_v1``, and their picks from a calibrated probability of the over.

Both predict only player-games with a points line (the ensemble stands where there is none) and
learn, for each day D, on the graded player-games of the ``window_days`` before D only:

- ``market_blend_v1``: ``line + w * (ensemble - line)``, the weight w in 0, 0.05, ..., 1 with the
  least absolute error on the window, shrunk toward 0 (the line) with ``shrink_rows`` pseudo-rows;
- ``market_residual_v1``: ``line + r``, r a least-absolute-deviation regression (the median, as
  the systems are graded: the residual is skewed to the right, so a squared loss chases its
  mean and scored worse) of the residual ``actual - line`` on what the line may not have priced:
  the ensemble's and the related markets' disagreement with it, the books' over probabilities,
  the player's recent form against the line, and the minutes the teammates newly absent by the
  day's listing leave; an L1 penalty of ``slope_penalty`` points per row per unit of
  standardised slope keeps it near the line on short windows.

The probability of the over is a logistic (Platt) calibration of the system's edge over a line
and of the over probability that line's prices imply, fitted on every book's offer of the
window's player-games with the system's out-of-sample predictions (each day's prediction was
made from the days before it). The prices matter: a calibration on the edge alone ignores what
the price says, and picked long-priced sides that lost (2024-25 threes lines,
``benchmarks/market_quality.py``). The bet is the book offer (line, side and price) with the
largest expected value ``p * decimal_price - 1`` among the player's books, as a bettor who
holds accounts at every book would take it; it is picked when that value clears the day's
threshold. The threshold rule: of ``ev_grid``, the one whose bets had the best return on the
window (out-of-sample probabilities, at least ``min_picks`` settled bets); no pick that day
when that return is not positive or no threshold has enough bets. Every fit sees only rows
dated before the day it serves (asserted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import linprog, minimize
from scipy.special import expit, log_expit

from nba_assets.lib.lines import OFFER_SCHEMA, american_to_decimal
from nba_assets.lib.predict.recommendation import NO_LINE, OVER, PASS, UNDER

SYSTEM_MARKET_BLEND = "market_blend_v1"
SYSTEM_MARKET_RESIDUAL = "market_residual_v1"
MARKET_SYSTEMS = (SYSTEM_MARKET_BLEND, SYSTEM_MARKET_RESIDUAL)
# The product's recommendation: the system whose picks and points the report leads with. The
# blend: one learned weight, and on 2025-10-21..2025-11-15 (seen before this choice) it was the
# one of the two below the line's MAE; the residual model was level with the line.
RECOMMENDED_SYSTEM = SYSTEM_MARKET_BLEND


@dataclass(frozen=True)
class MarketParams:
    """How the market systems learn from the graded days before D."""

    window_days: int  # graded days looked back on, for every fit
    min_rows: int  # fewer graded rows than this: the line itself, no probability
    shrink_rows: int  # blend weight shrunk toward 0 (the line) with this many pseudo-rows
    slope_penalty: float  # L1 penalty per row on each standardised slope of the residual fit
    min_picks: int  # a threshold needs this many settled picks on the window to be chosen
    ev_grid: tuple[float, ...]  # candidate expected-value thresholds


# Stated before any reported day was seen (there are no points lines before 2025-10-21 to tune
# them on): four weeks as the ensemble uses, a blend shrunk as the ensemble's, and a slope
# worth keeping only when it lowers the mean absolute error by a hundredth of a point.
MARKET_PARAMS = MarketParams(
    window_days=28,
    min_rows=300,
    shrink_rows=500,
    slope_penalty=0.01,
    min_picks=100,
    ev_grid=(0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.15, 0.20),
)

# Days of history one day's rows depend on: its fit (one window), the out-of-sample edges its
# calibration is fitted on (two), the probabilities its threshold is chosen on (three).
HISTORY_WINDOWS = 3

INPUT_COLUMNS = (
    "game_date",
    "player_id",
    "player_lookup",
    "line",
    "over_price",
    "under_price",
    "ensemble",
    "points_from_related",
    "points_over_prob",
    "pra_over_prob",
    "points_avg_last_10",
    "minutes_change",
    "teammates_absent_minutes_listed",
    "teammates_absent_minutes_last_game",
    "actual",
)
# The inputs that come from the feature store (the rest: the line, the ensemble, the result).
_NOT_FEATURES = ("game_date", "player_id", "player_lookup", "line", "over_price", "under_price")
_FEATURE_INPUTS = tuple(c for c in INPUT_COLUMNS if c not in (*_NOT_FEATURES, "ensemble", "actual"))
_GRID = np.linspace(0.0, 1.0, 21)

OUTPUT_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date(),
        "player_id": pl.Int64(),
        "market_blend_weight": pl.Float64(),
        **{
            f"{system}{suffix}": dtype
            for system in MARKET_SYSTEMS
            for suffix, dtype in (
                ("", pl.Float64()),
                ("_p_over", pl.Float64()),
                ("_ev_threshold", pl.Float64()),
                ("_recommendation", pl.String()),
                ("_bet_bookmaker", pl.String()),
                ("_bet_line", pl.Float64()),
                ("_bet_over_price", pl.Float64()),
                ("_bet_under_price", pl.Float64()),
            )
        },
    }
)


def _logit(p: pl.Expr) -> pl.Expr:
    q = p.clip(0.02, 0.98)
    return (q / (1 - q)).log()


RESIDUAL_INPUTS: dict[str, pl.Expr] = {
    "ensemble_minus_line": pl.col("ensemble") - pl.col("line"),
    "related_minus_line": (pl.col("points_from_related") - pl.col("line")).fill_null(0.0),
    "has_related": pl.col("points_from_related").is_not_null().cast(pl.Float64),
    "points_over_logit": _logit(pl.col("points_over_prob")).fill_null(0.0),
    "pra_over_logit": _logit(pl.col("pra_over_prob")).fill_null(0.0),
    "form_minus_line": (pl.col("points_avg_last_10") - pl.col("line")).fill_null(0.0),
    "minutes_change": pl.col("minutes_change").fill_null(0.0),
    "new_absent_minutes": (
        pl.col("teammates_absent_minutes_listed") - pl.col("teammates_absent_minutes_last_game")
    ).fill_null(0.0),
}


def market_inputs(
    features: pl.DataFrame, ensemble: pl.DataFrame, lines: pl.DataFrame, actuals: pl.DataFrame
) -> pl.DataFrame:
    """``INPUT_COLUMNS`` per player-game with a line: what the market systems learn from.

    Args:
        features: feature-store rows (feature set v2) of the days.
        ensemble: ``game_date, player_id, ensemble`` of the same days.
        lines: :func:`nba_assets.lib.lines.daily_points_lines` rows of the days.
        actuals: ``player_game_summary`` rows (``minutes``, ``pts``) of the days played so far.
    """
    played = actuals.filter(pl.col("minutes") > 0).select(
        "game_date", "player_id", actual=pl.col("pts").cast(pl.Float64)
    )
    return (
        features.select(
            "game_date",
            "player_id",
            "player_lookup",
            *(c for c in _FEATURE_INPUTS if c in features.columns),
        )
        .join(
            lines.select("game_date", "player_lookup", "line", "over_price", "under_price"),
            on=["game_date", "player_lookup"],
            how="inner",
        )
        .join(ensemble.select("game_date", "player_id", "ensemble"), on=["game_date", "player_id"])
        .join(played, on=["game_date", "player_id"], how="left")
        .select(INPUT_COLUMNS)
        .sort("game_date", "player_id")
    )


def _blend_weight(window: pl.DataFrame, params: MarketParams) -> float:
    line = window.get_column("line").to_numpy()
    diff = window.get_column("ensemble").to_numpy() - line
    residual = window.get_column("actual").to_numpy() - line
    errors = np.abs(residual[None, :] - _GRID[:, None] * diff[None, :]).mean(axis=1)
    learned = float(_GRID[int(np.argmin(errors))])
    return window.height * learned / (window.height + params.shrink_rows)


def _residual_fit(window: pl.DataFrame, params: MarketParams) -> np.ndarray:
    """Coefficients (intercept first, raw inputs) of the least-absolute-deviation fit of the
    residual ``y`` on ``RESIDUAL_INPUTS`` standardised to ``z``, with an L1 penalty ``lam`` on
    the slopes: minimise ``sum |y - b0 - z b| + lam sum |b|``.

    Solved as its dual linear programme, ``max y'd`` subject to ``sum d = 0``,
    ``|z_j'd| <= lam`` and ``|d| <= 1``: n variables and 2k + 1 constraints, where the primal
    has 2n + 2k + 1 variables and n constraints (7x faster here, the same coefficients to
    1e-13). The fit's coefficients are the dual programme's constraint marginals.
    """
    x = window.select(**RESIDUAL_INPUTS).to_numpy()
    y = window.get_column("actual").to_numpy() - window.get_column("line").to_numpy()
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    n, k = z.shape
    penalty = params.slope_penalty * n
    fit = linprog(
        -y,
        A_ub=np.vstack([z.T, -z.T]),
        b_ub=np.full(2 * k, penalty),
        A_eq=np.ones((1, n)),
        b_eq=[0.0],
        bounds=(-1, 1),
        method="highs",
    )
    if not fit.success:
        raise ValueError(
            f"{SYSTEM_MARKET_RESIDUAL}: the residual fit on {n} graded rows failed: {fit.message}"
        )
    # linprog minimises -y'd: its marginals are the primal's coefficients with a minus sign.
    upper, lower = fit.ineqlin.marginals[:k], fit.ineqlin.marginals[k:]
    slopes = (lower - upper) / scale
    return np.concatenate([[-fit.eqlin.marginals[0] - float(slopes @ mean)], slopes])


def _residual(rows: pl.DataFrame, coef: np.ndarray) -> np.ndarray:
    x = rows.select(**RESIDUAL_INPUTS).to_numpy()
    return coef[0] + x @ coef[1:]


def _calibration_inputs(rows: pl.DataFrame, system: str) -> np.ndarray:
    """Per row: the system's edge over the line and the logit of the over probability the
    recorded prices imply (de-vigged; 0 without prices)."""
    over = 1 / american_to_decimal(pl.col("over_price"))
    under = 1 / american_to_decimal(pl.col("under_price"))
    return rows.select(
        edge=pl.col(system) - pl.col("line"),
        price_logit=_logit(over / (over + under)).fill_null(0.0),
    ).to_numpy()


def _platt(x: np.ndarray, over: np.ndarray) -> np.ndarray:
    """``c`` of ``P(over) = expit(c0 + c1 * edge + c2 * price_logit)`` by maximum likelihood,
    with the log-loss's exact gradient and Hessian (a trust-region Newton method: two or three
    steps, where BFGS on numerical derivatives took ten times as long)."""
    design = np.column_stack([np.ones(len(x)), x])

    def loss(c: np.ndarray) -> tuple[float, np.ndarray]:
        s = design @ c
        value = -float(np.sum(over * log_expit(s) + (1 - over) * log_expit(-s)))
        return value, design.T @ (expit(s) - over)

    def hessian(c: np.ndarray) -> np.ndarray:
        p = expit(design @ c)
        return (design * (p * (1 - p))[:, None]).T @ design

    start = np.zeros(design.shape[1])
    return minimize(loss, start, method="trust-exact", jac=True, hess=hessian).x


def _best_side(rows: pl.DataFrame, p: str) -> pl.DataFrame:
    """``rows`` plus ``side`` (OVER / UNDER, the larger expected value) and its ``ev``."""
    ev_over = pl.col(p) * american_to_decimal(pl.col("over_price")) - 1
    ev_under = (1 - pl.col(p)) * american_to_decimal(pl.col("under_price")) - 1
    return rows.with_columns(
        side=pl.when(ev_over >= ev_under).then(pl.lit(OVER)).otherwise(pl.lit(UNDER)),
        ev=pl.max_horizontal(ev_over, ev_under),
    )


def _units() -> pl.Expr:
    """Profit of 1 unit on ``side`` at its price (push 0), from ``actual`` and ``line``."""
    price = (
        pl.when(pl.col("side") == OVER).then(pl.col("over_price")).otherwise(pl.col("under_price"))
    )
    won = (
        pl.when(pl.col("side") == OVER)
        .then(pl.col("actual") > pl.col("line"))
        .otherwise(pl.col("actual") < pl.col("line"))
    )
    return (
        pl.when(pl.col("actual") == pl.col("line"))
        .then(0.0)
        .when(won)
        .then(american_to_decimal(price) - 1)
        .otherwise(-1.0)
    )


def _best_offer(offers: pl.DataFrame, p: str) -> pl.DataFrame:
    """Per player-game, the offer and side with the largest expected value (ties: the first
    book by name), with ``side`` and ``ev``."""
    return (
        _best_side(offers, p)
        .sort(
            ["game_date", "player_lookup", "ev", "bookmaker"],
            descending=[False, False, True, False],
        )
        .unique(["game_date", "player_lookup"], keep="first", maintain_order=True)
    )


def _threshold(window: pl.DataFrame, params: MarketParams) -> float | None:
    """The ``ev_grid`` threshold with the best return on ``window``'s settled offers that had a
    probability (each player-game's best offer is its bet), or None (no picks) when none has
    ``min_picks`` bets and a positive return."""
    rated = window.filter(pl.col("p_over").is_not_null())
    if rated.is_empty():
        return None
    rated = _best_offer(rated, "p_over").with_columns(units=_units())
    best: tuple[float, float] | None = None
    for threshold in params.ev_grid:
        picks = rated.filter(pl.col("ev") >= threshold)
        if picks.height < params.min_picks:
            continue
        roi = float(picks.get_column("units").mean())  # type: ignore[arg-type]
        if best is None or roi > best[1]:
            best = (threshold, roi)
    return best[0] if best is not None and best[1] > 0 else None


def market_predictions(
    inputs: pl.DataFrame,
    offers: pl.DataFrame,
    first_day: dt.date,
    params: MarketParams = MARKET_PARAMS,
) -> pl.DataFrame:
    """Both market systems walk-forward over the days of ``inputs`` (earlier days are history).

    Args:
        inputs: :func:`market_inputs` rows of ``first_day`` and of the
            ``HISTORY_WINDOWS * window_days`` days before it.
        offers: :func:`nba_assets.lib.lines.points_offers` rows of the same days: every book's
            line and prices, which the calibration learns on and the bets are chosen from.
        first_day: the first day to return.

    Returns:
        ``game_date, player_id`` and, per system ``s`` of ``MARKET_SYSTEMS``, ``{s}``
        (predicted points), ``{s}_p_over`` (at the median line), ``{s}_ev_threshold`` (null:
        no picks that day), ``{s}_recommendation`` and the bet it names, ``{s}_bet_bookmaker``,
        ``{s}_bet_line``, ``{s}_bet_over_price`` and ``{s}_bet_under_price`` (null unless
        OVER / UNDER; a pick's ``{s}_p_over`` is at its offer's line); plus
        ``market_blend_weight``. Rows of days from ``first_day``.
    """
    window = dt.timedelta(days=params.window_days)
    days = inputs.get_column("game_date").unique().sort().to_list()
    offers_of = offers.select(OFFER_SCHEMA.names()).partition_by("game_date", as_dict=True)
    no_offers = pl.DataFrame(schema=OFFER_SCHEMA)
    done: list[pl.DataFrame] = []
    priced: dict[str, list[pl.DataFrame]] = {s: [] for s in MARKET_SYSTEMS}
    for day in days:
        past = (
            pl.concat(done)
            if done
            else inputs.head(0).with_columns(
                **{f"{s}": pl.lit(None, pl.Float64) for s in MARKET_SYSTEMS}
            )
        )
        recent = past.filter(pl.col("game_date") >= day - window)
        graded = recent.filter(pl.col("actual").is_not_null())
        if not graded.is_empty():
            late = graded.get_column("game_date").max()
            assert isinstance(late, dt.date) and late < day, f"{day} would learn from {late}"
        rows = inputs.filter(pl.col("game_date") == day)
        enough = graded.height >= params.min_rows
        weight = _blend_weight(graded, params) if enough else 0.0
        blend = rows.get_column("line") + weight * (
            rows.get_column("ensemble") - rows.get_column("line")
        )
        residual = (
            _residual(rows, _residual_fit(graded, params)) if enough else np.zeros(rows.height)
        )
        out = rows.with_columns(
            pl.Series(SYSTEM_MARKET_BLEND, blend.to_numpy(), pl.Float64),
            pl.Series(SYSTEM_MARKET_RESIDUAL, rows.get_column("line").to_numpy() + residual),
            market_blend_weight=pl.lit(weight),
        )
        today = offers_of.get((day,), no_offers)
        for system in MARKET_SYSTEMS:
            earlier = [o for o in priced[system] if o.item(0, "game_date") >= day - window]
            window_offers = (
                pl.concat(earlier).filter(pl.col("actual").is_not_null()) if earlier else None
            )
            out, offered = _calibrated(out, today, window_offers, system, params)
            if not offered.is_empty():
                priced[system].append(offered)
        done.append(out)
    if not done:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    result = pl.concat(done, how="diagonal_relaxed").filter(pl.col("game_date") >= first_day)
    return result.select(pl.col(c).cast(t) for c, t in OUTPUT_SCHEMA.items())


def _calibrated(
    rows: pl.DataFrame,
    offers: pl.DataFrame,
    window_offers: pl.DataFrame | None,
    system: str,
    params: MarketParams,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``rows`` plus ``{system}_p_over``, ``{system}_ev_threshold``, the recommendation and its
    bet; and the day's offers with the system's prediction, the result and ``p_over`` at each
    offer's line, which later days calibrate and choose thresholds on.

    Args:
        rows: the day's :func:`market_inputs` rows with the system's predictions.
        offers: the day's :func:`nba_assets.lib.lines.points_offers` rows.
        window_offers: the graded offers of the window's days, as this function returned them.
    """
    p_col, t_col, r_col = f"{system}_p_over", f"{system}_ev_threshold", f"{system}_recommendation"
    offered = offers.join(
        rows.select("game_date", "player_lookup", system, "actual"),
        on=["game_date", "player_lookup"],
        how="inner",
    ).filter(pl.col(system).is_not_null())
    # Out-of-sample predictions of the window (each made from the days before it) against
    # every book's line, pushes left out.
    decided = (
        window_offers.filter(pl.col("actual") != pl.col("line"))
        if window_offers is not None
        else offered.head(0)
    )
    p = p_offered = pl.lit(None, pl.Float64)
    if decided.height >= params.min_rows:
        c = _platt(
            _calibration_inputs(decided, system),
            (decided.get_column("actual") > decided.get_column("line")).to_numpy().astype(float),
        )
        p = pl.Series(expit(c[0] + _calibration_inputs(rows, system) @ c[1:]), dtype=pl.Float64)
        p_offered = pl.Series(
            expit(c[0] + _calibration_inputs(offered, system) @ c[1:]), dtype=pl.Float64
        )
    offered = offered.with_columns(p_offered.alias("p_over"))
    threshold = _threshold(window_offers, params) if window_offers is not None else None
    bets = _best_offer(offered, "p_over").select(
        "game_date",
        "player_lookup",
        "side",
        "ev",
        *(pl.col(c).alias(f"_{c}") for c in ("bookmaker", "line", "over_price", "under_price")),
        pl.col("p_over").alias("_p_over"),
    )
    out = rows.with_columns(p.alias("_p_median")).join(
        bets, on=["game_date", "player_lookup"], how="left", maintain_order="left"
    )
    pick = (pl.lit(threshold is not None) & (pl.col("ev") >= (threshold or 0.0))).fill_null(False)
    out = out.with_columns(
        # A pick's probability is at its offer's line; otherwise at the median line.
        pl.when(pick).then(pl.col("_p_over")).otherwise(pl.col("_p_median")).alias(p_col),
        pl.lit(threshold, pl.Float64).alias(t_col),
        pl.when(pl.col("line").is_null())
        .then(pl.lit(NO_LINE))
        .when(pick)
        .then(pl.col("side"))
        .otherwise(pl.lit(PASS))
        .alias(r_col),
        *(
            pl.when(pick).then(pl.col(f"_{c}")).alias(f"{system}_bet_{c}")
            for c in ("bookmaker", "line", "over_price", "under_price")
        ),
    )
    helpers = ("side", "ev", "_bookmaker", "_line", "_over_price", "_under_price", "_p_over")
    return out.drop(*helpers, "_p_median"), offered
