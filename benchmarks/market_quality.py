"""The systems that use what the market knows, on the reported days, walk-forward.

python benchmarks/market_quality.py [--json] [--archive DIR] [--start D] [--end D]
    Builds every table from the shipped archive through the production parsers
    (``model_quality.build_tables``: feature set v2, with the pre-game market), runs the three
    base systems as the assets do (monthly LightGBM models trained only on games before their
    boundary, the ensemble's weight learned on earlier days), then the market systems
    walk-forward (each day learns only from the graded days before it), grades all of them as
    the grading asset does, and prints, on the same player-games: each system's MAE against the
    line's, picks, hit rate with its 95% interval, ROI with its interval, the ROI by edge bucket,
    how often the listing and the last-game availability signals agree, and where the market
    systems still lose to the line and by how much. Nothing is tuned here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import sys
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from model_quality import REPORT_END, REPORT_START, Tables, build_tables  # noqa: E402

from nba_assets.lib import grading, market, predict, report  # noqa: E402
from nba_assets.lib.lines import (  # noqa: E402
    POINTS_MARKET,
    american_to_decimal,
    daily_points_lines,
    points_offers,
    pre_game_props,
)
from nba_assets.lib.predict import OVER, UNDER, market_blend, systems  # noqa: E402
from nba_assets.replay.archive import load_archive  # noqa: E402


def base_rows(tables: Tables, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The base systems' rows of ``history_start..end`` (ensemble included), as the assets
    make them: the model serving day D was trained on games before D's boundary."""
    days = tables.store.filter(pl.col("game_date").is_between(start, end))
    boosters, serving = {}, []
    for boundary in predict.boundaries_between(start, end):
        rows = predict.training_rows(tables.store, tables.actuals, boundary)
        served = days.filter(
            pl.col("game_date") >= boundary, pl.col("game_date") < predict.next_boundary(boundary)
        )
        if served.is_empty():
            continue
        model = predict.train_points_model(
            rows, boundary, list(predict.MODEL_FEATURES), validation_days=0, serving=served
        )
        assert model is not None and model.trained_through < boundary
        boosters[str(boundary)] = model.booster
    for day in days.get_column("game_date").unique().sort():
        boundary = str(predict.cadence_boundary(day))
        serving.append({"game_date": day, "model_id": boundary if boundary in boosters else None})
    base = predict.base_predictions(days, pl.DataFrame(serving), boosters)
    history = predict.graded_history(base, tables.actuals)
    return predict.ensemble_v1(base, history)


def availability_agreement(
    store: pl.DataFrame, actuals: pl.DataFrame, start: dt.date, end: dt.date
) -> dict:
    """Regular rotation players on days with listings: absent by the listing against absent by
    the last game (the proxy the models learn from in seasons without listings)."""
    days = store.filter(
        pl.col("game_date").is_between(start, end),
        pl.col("games_played_season") >= market.ROTATION_MIN_GAMES,
        pl.col("minutes_avg_last_10") >= market.ROTATION_MIN_MINUTES,
        pl.col("teammates_absent_listed").is_not_null(),
    )
    listed_out = days.get_column("points_line").is_null()
    # The player's own flags: absent by his last game when he missed his team's last game.
    missed = days.get_column("days_rest") > days.get_column("_team_rest")
    both = (listed_out & missed).sum()
    played_keys = actuals.filter(pl.col("minutes") > 0).select(
        "game_date", "player_id", _played=pl.lit(True)
    )
    played = (
        days.join(played_keys, on=["game_date", "player_id"], how="left")
        .get_column("_played")
        .fill_null(False)
    )
    return {
        "played_though_absent_by_listing": int((listed_out & played).sum()),
        "played_though_absent_by_last_game": int((missed & played).sum()),
        "out_though_listed_and_in_last_game": int((~listed_out & ~missed & ~played).sum()),
        "rotation_player_games": days.height,
        "absent_by_listing": int(listed_out.sum()),
        "absent_by_last_game": int(missed.sum()),
        "both": int(both),
        "agreement": round(float((listed_out == missed).mean()), 3),  # type: ignore[arg-type]
        "listing_absent_also_by_last_game": round(both / max(int(listed_out.sum()), 1), 3),
        "team_minutes_correlation": round(
            float(
                days.select(
                    pl.corr("teammates_absent_minutes_listed", "teammates_absent_minutes_last_game")
                ).item()
            ),
            3,
        ),
    }


def measure(tables: Tables, base: pl.DataFrame, start: dt.date, end: dt.date) -> dict:
    began = time.perf_counter()
    history_start = history_start_for(start)
    props = tables.props.filter(pl.col("game_date").is_between(history_start, end))
    pre_game = pre_game_props(props)
    lines = daily_points_lines(pre_game)
    inputs = market_blend.market_inputs(
        base, base.select("game_date", "player_id", "ensemble"), lines, tables.actuals
    )
    on_days = pl.col("game_date").is_between(start, end)
    market_rows = market_blend.market_predictions(inputs, points_offers(pre_game)[0], start)
    served = base.filter(on_days)
    preds = pl.concat(
        [
            systems.prediction_rows(served, lines),
            systems.market_rows(served, market_rows, lines),
        ],
        how="diagonal_relaxed",
    )
    accuracy = grading.grade(preds, tables.actuals)
    common = (
        accuracy.filter(pl.col("graded"))
        .group_by("game_date", "player_id")
        .agg(n=pl.col("system_id").n_unique())
        .filter(pl.col("n") == len(systems.ALL_SYSTEMS))
        .drop("n")
    )
    on_common = accuracy.join(common, on=["game_date", "player_id"], how="semi")
    by_day = (
        on_common.filter(pl.col("graded"))
        .group_by("game_date", "system_id")
        .agg(mae=pl.col("absolute_error").mean(), line_mae=pl.col("line_absolute_error").mean())
        .with_columns(gap=pl.col("mae") - pl.col("line_mae"))
    )
    losing = {
        system: by_day.filter(pl.col("system_id") == system, pl.col("gap") > 0)
        .sort("gap", descending=True)
        .select("game_date", pl.col("gap").round(3))
        .head(5)
        .to_dicts()
        for system in market_blend.MARKET_SYSTEMS
    }
    weights = market_rows.select("game_date", "market_blend_weight").unique().sort("game_date")
    thresholds = market_rows.select(
        "game_date", *(f"{s}_ev_threshold" for s in market_blend.MARKET_SYSTEMS)
    ).unique()
    return {
        "window": f"{start}..{end}",
        "recommended_system": market_blend.RECOMMENDED_SYSTEM,
        "systems": report.summarize(on_common),
        "all_graded": report.summarize(accuracy),
        "pick_buckets": report.pick_buckets(accuracy).to_dicts(),
        "edge_buckets": report.edge_buckets(accuracy).to_dicts(),
        "days_losing_to_the_line": losing,
        "market_blend_weight": dict(
            zip(
                [str(d) for d in weights.get_column("game_date")],
                weights.get_column("market_blend_weight").round(3).to_list(),
                strict=True,
            )
        ),
        "ev_thresholds": thresholds.sort("game_date")
        .with_columns(pl.col("game_date").cast(str))
        .to_dicts(),
        "availability": availability_agreement(
            _with_team_rest(tables.store), tables.actuals, start, end
        ),
        "threes_2024_25": threes_validation(tables, *THREES_SEASON),
        "seconds": round(time.perf_counter() - began, 1),
    }


THREES_SEASON = (dt.date(2024, 10, 22), dt.date(2025, 4, 13))


def threes_validation(tables: Tables, first: dt.date, last: dt.date) -> dict:
    """The market systems' method on a market of an earlier season: the threes lines of
    2024-25 (the only full season of real player lines before the reported days), with the
    player's last-10 average of threes made standing in for the model. Walk-forward as on the
    reported days; the first four weeks only feed the first fits."""
    archive = load_archive()
    made = (
        archive.player_games.select(
            game_date=pl.col("GAME_DATE").str.to_date(),
            player_id=pl.col("PLAYER_ID").cast(pl.Int64),
            minutes=pl.col("MIN").cast(pl.Float64),
            pts=pl.col("FG3M").cast(pl.Float64),  # the stat graded, in the column grading reads
        )
        .drop_nulls("pts")
        .sort("player_id", "game_date")
        .with_columns(
            form=pl.col("pts").rolling_mean(10, min_samples=3).over("player_id"),
        )
    )
    form = made.select(
        "player_id", pl.col("game_date").alias("_last"), pl.col("form").alias("ensemble")
    ).drop_nulls("ensemble")
    store = tables.store.filter(pl.col("game_date").is_between(first, last)).select(
        "game_date", "player_id", "player_lookup", "minutes_change"
    )
    store = (
        store.sort("game_date")
        .join_asof(
            form.sort("_last"),
            left_on="game_date",
            right_on="_last",
            by="player_id",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .drop("_last")
    )
    props = tables.props.filter(
        pl.col("market") == "player_threes", pl.col("game_date").is_between(first, last)
    ).with_columns(market=pl.lit(POINTS_MARKET))  # the same median-across-books rule
    pre_game = pre_game_props(props)
    lines = daily_points_lines(pre_game)
    # BetRivers' 2024-25 threes lines are recorded off the other books' while its prices are
    # not: where its line is below the others' its over is priced at 0.50 (de-vigged), above
    # at 0.51, where every other book prices 0.60-0.63 below and 0.38-0.39 above. Its offers
    # would be bets on a recording error, so they are not offered here (its 2025-26 lines agree).
    offers, _ = points_offers(pre_game.filter(pl.col("bookmaker") != "betrivers"))
    over = 1 / american_to_decimal(pl.col("over_price"))
    under = 1 / american_to_decimal(pl.col("under_price"))
    inputs = (
        store.drop_nulls("ensemble")
        .join(lines, on=["game_date", "player_lookup"])
        .join(
            made.filter(pl.col("minutes") > 0).select(
                "game_date", "player_id", actual=pl.col("pts")
            ),
            on=["game_date", "player_id"],
            how="left",
        )
        .with_columns(
            points_over_prob=over / (over + under),
            points_avg_last_10=pl.col("ensemble"),
            points_from_related=pl.lit(None, pl.Float64),
            pra_over_prob=pl.lit(None, pl.Float64),
            teammates_absent_minutes_listed=pl.lit(None, pl.Float64),
            teammates_absent_minutes_last_game=pl.lit(None, pl.Float64),
        )
        .select(market_blend.INPUT_COLUMNS)
        .sort("game_date", "player_id")
    )
    served = market_blend.market_predictions(
        inputs,
        offers,
        first + dt.timedelta(days=market_blend.MARKET_PARAMS.window_days),
    ).join(inputs, on=["game_date", "player_id"])
    out: dict[str, object] = {"window": f"{served['game_date'].min()}..{last}"}
    played = served.filter(pl.col("actual").is_not_null())
    out["player_games"] = played.height
    out["line_mae"] = round(float((played["line"] - played["actual"]).abs().mean()), 4)  # type: ignore[arg-type]
    for system in market_blend.MARKET_SYSTEMS:
        error = (played[system] - played["actual"]).abs().mean()
        picks = played.filter(pl.col(f"{system}_recommendation").is_in([OVER, UNDER]))
        # Settled against the offer the pick took: its book's line and price.
        side_over = pl.col(f"{system}_recommendation") == OVER
        line = pl.col(f"{system}_bet_line")
        price = pl.when(side_over).then(f"{system}_bet_over_price")
        price = price.otherwise(pl.col(f"{system}_bet_under_price"))
        won = pl.when(side_over).then(pl.col("actual") > line).otherwise(pl.col("actual") < line)
        settled = picks.with_columns(
            units=pl.when(pl.col("actual") == line)
            .then(0.0)
            .when(won)
            .then(american_to_decimal(price) - 1)
            .otherwise(-1.0),
            hit=pl.when(pl.col("actual") != line).then(won),
        )
        hits = int(settled["hit"].sum())
        decided = int(settled["hit"].is_not_null().sum())
        units = settled["units"].to_list()
        out[system] = {
            "mae": round(float(error), 4),  # type: ignore[arg-type]
            "picks": settled.height,
            "hit_rate": round(hits / decided, 4) if decided else None,
            "hit_rate_ci": report._interval(report.wilson_interval(hits, decided)),
            "roi": round(sum(units) / len(units), 4) if units else None,
            "roi_ci": report._interval(report.mean_interval(units)),
        }
    return out


def _with_team_rest(store: pl.DataFrame) -> pl.DataFrame:
    """``store`` plus ``_team_rest``: the full days since the team's last game, so a player
    whose own rest is longer missed that game."""
    return store.with_columns(
        _team_rest=pl.col("days_rest").min().over("game_date", "team_abbr"),
    )


def history_start_for(start: dt.date) -> dt.date:
    windows = market_blend.HISTORY_WINDOWS * market_blend.MARKET_PARAMS.window_days
    return start - dt.timedelta(days=windows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--archive", type=Path, default=None)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=REPORT_START)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=REPORT_END)
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="pickle of the built tables and base predictions: written when missing, else read"
        " (to re-measure without replaying and retraining)",
    )
    args = parser.parse_args(argv)
    if args.cache is not None and args.cache.is_file():
        tables, base = pickle.loads(args.cache.read_bytes())
    else:
        tables = build_tables(args.archive, args.end)
        base = base_rows(tables, history_start_for(args.start), args.end)
        if args.cache is not None:
            args.cache.write_bytes(pickle.dumps((tables, base)))
    result = measure(tables, base, args.start, args.end)
    if args.json:
        print(json.dumps(result, default=str))
        return 0
    print_result(result)
    return 0


def run(tables: Tables, start: dt.date = REPORT_START, end: dt.date = REPORT_END) -> dict:
    """:func:`measure` on tables already built (``model_quality.py --tune --parts
    market_systems``): the base systems are trained here."""
    return measure(tables, base_rows(tables, history_start_for(start), end), start, end)


def print_result(result: dict) -> None:
    print(f"market systems {result['window']} (recommended: {result['recommended_system']})")
    print(report.render_table(result["systems"]))
    print(f"\nside the edge points to, per |edge| bucket:\n{pl.DataFrame(result['edge_buckets'])}")
    for key in ("days_losing_to_the_line", "availability", "market_blend_weight"):
        print(f"\n{key}: {json.dumps(result[key], default=str)}")
    print(f"\nev thresholds: {pl.DataFrame(result['ev_thresholds'])}")
    print(f"\nthe same method on 2024-25 threes lines: {json.dumps(result['threes_2024_25'])}")
    print(f"\n{result['seconds']} s")


if __name__ == "__main__":
    raise SystemExit(main())
