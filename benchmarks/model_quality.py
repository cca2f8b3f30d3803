"""Prediction quality on the reported days, and the validation that chose the constants.

python benchmarks/model_quality.py [--json] [--archive DIR]
    Replays the shipped archive (or DIR) through the production parsers and the platform's
    own transforms (raw frames -> analytics -> feature store, ``nba_assets.pipeline``), runs
    the three systems walk-forward over 2025-10-21..2025-11-15 exactly as the assets do,
    grades them against the real points and the books' median lines, and prints MAE (with
    the season-to-date average and the line on the same player-games), hit rate, picks and
    ROI. Nothing is tuned here.

python benchmarks/model_quality.py --tune [--parts ma,lightgbm,availability,stacking,cadence,...]
    Re-runs the rolling-origin validation on 2022-23, 2023-24 and 2024-25 that chose the
    constants in nba_assets/lib/predict/. It never looks at a 2025-26 game. The market parts
    read real PRA lines, which the archive does not carry, from the data folder (``--data``).
    ``binning`` times the walk-forward training with the rows binned per boundary against
    once per season (PointsTrainer); ``curve`` is validation MAE against training time by
    cadence, training window and boosting rounds.

Each run writes what it printed into its own section of the results file
(benchmarks/results/model_quality.md, ``--results``), with the date, the machine, the commit
and the command: the report section for the default run, one section per ``--tune`` part.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import fcntl
import io
import itertools
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nba_assets.lib import grading, predict, report  # noqa: E402
from nba_assets.lib.features import FEATURES_V1  # noqa: E402
from nba_assets.lib.lines import daily_points_lines  # noqa: E402
from nba_assets.lib.names import apply_aliases, with_player_lookup  # noqa: E402
from nba_assets.pipeline import compute_phases, raw_frames  # noqa: E402
from nba_assets.player_aliases import load_aliases  # noqa: E402
from nba_assets.replay.archive import load_archive  # noqa: E402

# The project's data folder beside the checkout: the PRA lines the market parts of --tune read.
DATA_DIR = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "model_quality.md"

HISTORY_START = dt.date(2017, 10, 1)
REPORT_START, REPORT_END = dt.date(2025, 10, 21), dt.date(2025, 11, 15)
VALIDATION_SEASONS = ("2022-23", "2023-24", "2024-25")
WALK_FORWARD_SEASONS = ("2023-24", "2024-25")
SEASON_AVERAGE = "season_average"
ANCHORS = {"line_mae": 4.91, "season_average_mae": 5.35, "break_even_hit_rate": 0.524}


@dataclasses.dataclass
class Tables:
    store: pl.DataFrame  # ml_feature_store rows, every day from HISTORY_START
    actuals: pl.DataFrame  # player_game_summary: game_date, player_id, minutes, pts, reb, ...
    props: pl.DataFrame  # odds_player_props rows


def build_tables(archive_dir: Path | None, end: dt.date = REPORT_END) -> Tables:
    """The feature store and box scores replayed from the archive (None: the shipped one)
    through the production parsers and the platform's transforms."""
    archive = load_archive(archive_dir)
    frames = raw_frames(HISTORY_START, end, archive)
    props = frames["odds_player_props"]
    tables = compute_phases(frames, HISTORY_START, end)
    summary, store = tables["player_game_summary"], tables["ml_feature_store"]
    players = tables["upcoming_player_game_context"]
    seasons = players.select("game_date", "player_id", "season")
    store = predict.model_inputs(store.join(seasons, on=["game_date", "player_id"], how="left"))
    actuals = summary.select(
        "game_date", "player_id", "player_lookup", "team_abbr", "minutes", "pts", "reb", "ast",
        "season",
    )  # fmt: skip
    return Tables(store=store, actuals=actuals, props=props)


def _played(tables: Tables) -> pl.DataFrame:
    """Feature rows of players who played, with their points as ``target``."""
    played = tables.actuals.filter(pl.col("minutes") > 0).select(
        "game_date", "player_id", pl.col("pts").cast(pl.Float64).alias("target")
    )
    return tables.store.join(played, on=["game_date", "player_id"], how="inner")


def _mae(predicted: pl.Series | np.ndarray, actual: pl.Series | np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(predicted) - np.asarray(actual))))


def walk_forward(
    tables: Tables,
    days: pl.DataFrame,
    cadence: predict.Cadence | None,
    params: dict[str, Any] | None = None,
    rounds: int = predict.LIGHTGBM_ROUNDS,
    max_null_share: float = predict.MAX_NULL_SHARE,
    feature_names: tuple[str, ...] = predict.MODEL_FEATURES,
    window_days: int | None = predict.TRAINING_WINDOW_DAYS,
) -> pl.DataFrame:
    """``days`` (feature rows) plus ``lightgbm``: each day predicted by the model of its
    boundary (``cadence`` None: one model trained before the first day serves them all),
    trained as the points_model asset trains them (one PointsTrainer for every boundary).
    ``max_null_share`` above 1 keeps every feature however null the served rows are."""
    return timed_walk_forward(
        tables, days, cadence, params, rounds, max_null_share, feature_names, window_days
    ).predictions


@dataclasses.dataclass
class WalkForward:
    predictions: pl.DataFrame  # the days plus ``lightgbm`` (and ``lightgbm_<k>`` per curve k)
    seconds: float  # training CPU seconds, binning included
    seconds_to: dict[int, float]  # training CPU seconds had each model stopped after k rounds
    models: int


def _boundaries(days: pl.DataFrame, cadence: predict.Cadence | None) -> pl.DataFrame:
    first = days.get_column("game_date").min()
    last = days.get_column("game_date").max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    if cadence is None:
        return days.with_columns(_boundary=pl.lit(first))
    return days.with_columns(
        _boundary=pl.col("game_date").map_elements(
            lambda d: predict.cadence_boundary(d, cadence), return_dtype=pl.Date
        )
    )


def timed_walk_forward(
    tables: Tables,
    days: pl.DataFrame,
    cadence: predict.Cadence | None,
    params: dict[str, Any] | None = None,
    rounds: int = predict.LIGHTGBM_ROUNDS,
    max_null_share: float = predict.MAX_NULL_SHARE,
    feature_names: tuple[str, ...] = predict.MODEL_FEATURES,
    window_days: int | None = predict.TRAINING_WINDOW_DAYS,
    curve: tuple[int, ...] = (),
) -> WalkForward:
    """:func:`walk_forward`, timed. ``curve``: also predict with the first k rounds of each
    model (column ``lightgbm_<k>``) and time the training up to them."""
    days = _boundaries(days, cadence)
    bounds = days.get_column("_boundary").unique().sort().to_list()
    trainer = predict.PointsTrainer(
        predict.training_rows(tables.store, tables.actuals, bounds[-1]),
        params,
        rounds,
        window_days,
    )
    out, seconds, seconds_to = [], 0.0, dict.fromkeys(curve, 0.0)
    for boundary in bounds:
        part = days.filter(pl.col("_boundary") == boundary)
        stamps: list[float] = []
        began = time.process_time()  # one LightGBM thread: CPU time is its cost, busy or not
        rows = trainer.rows_before(boundary)
        names = predict.model_features(rows, list(feature_names), part, max_null_share)
        record = [lambda env, into=stamps: into.append(time.process_time())]
        model = trainer.train(boundary, names, validation_days=0, callbacks=record)
        assert model is not None, f"no model for {boundary}"
        booster = model.booster
        seconds += time.process_time() - began
        for k in curve:
            seconds_to[k] += stamps[k - 1] - began
        preds = [predict.predict_points(booster, part).alias("lightgbm")]
        preds += [predict.predict_points(booster, part, k).alias(f"lightgbm_{k}") for k in curve]
        out.append(part.with_columns(preds))
    return WalkForward(pl.concat(out).drop("_boundary"), seconds, seconds_to, len(bounds))


# --------------------------------------------------------------------------------------------
# measurement on the reported days
# --------------------------------------------------------------------------------------------


def measure(
    tables: Tables,
    start: dt.date = REPORT_START,
    end: dt.date = REPORT_END,
    threads: int = predict.TRAINING_THREADS,
) -> dict:
    """Every system over ``start..end`` with the committed constants, graded like the assets
    (``threads``: LightGBM fits trained side by side, see ``PointsTrainer.fit_all``)."""
    began = time.perf_counter()
    days = tables.store.filter(pl.col("game_date").is_between(start, end))
    bounds = predict.boundaries_between(start, end)
    boosters, serving = {}, []
    trainer = predict.PointsTrainer(predict.training_rows(tables.store, tables.actuals, bounds[-1]))
    names = list(predict.MODEL_FEATURES)
    served = {
        boundary: days.filter(
            pl.col("game_date") >= boundary, pl.col("game_date") < predict.next_boundary(boundary)
        )
        for boundary in bounds
    }
    # Every fit at once, side by side, as the points_model asset trains them.
    plans = [trainer.plan(b, names, validation_days=0, serving=rows) for b, rows in served.items()]
    trainer.fit_all([plan.model for plan in plans if plan is not None], threads)
    for boundary, served_rows in served.items():
        model = trainer.train(boundary, names, validation_days=0, serving=served_rows)
        assert model is not None and model.trained_through < boundary
        boosters[str(boundary)] = model.booster
    for day in days.get_column("game_date").unique().sort():
        serving.append({"game_date": day, "model_id": str(predict.cadence_boundary(day))})
    base = predict.base_predictions(days, pl.DataFrame(serving), boosters)
    history = predict.graded_history(base, tables.actuals)
    base = predict.ensemble_v1(base, history)
    lines = daily_points_lines(tables.props.filter(pl.col("game_date").is_between(start, end)))
    preds = predict.prediction_rows(base, lines)
    season_average = preds.filter(pl.col("system_id") == predict.SYSTEM_MOVING_AVERAGE).join(
        days.select(
            "game_date",
            "player_id",
            _sa=pl.coalesce("points_avg_season", "points_avg_prev_season"),
        ),
        on=["game_date", "player_id"],
    )
    season_average = season_average.filter(pl.col("_sa").is_not_null()).with_columns(
        system_id=pl.lit(SEASON_AVERAGE),
        model_version=pl.lit(SEASON_AVERAGE),
        predicted_points=pl.col("_sa"),
        edge=pl.col("_sa") - pl.col("line"),
    )
    season_average = season_average.drop("_sa").with_columns(
        recommendation=predict.recommendation_expr()
    )
    preds = pl.concat([preds, season_average.select(preds.columns)])
    accuracy = grading.grade(preds, tables.actuals)
    # Compare systems on the same player-games: those every system predicted.
    common = (
        accuracy.filter(pl.col("graded"))
        .group_by("game_date", "player_id")
        .agg(n=pl.col("system_id").n_unique())
        .filter(pl.col("n") == len(predict.SYSTEMS) + 1)
        .drop("n")
    )
    on_common = accuracy.join(common, on=["game_date", "player_id"], how="semi")
    unmatched = predict.unmatched_lines(lines, days)
    return {
        "window": f"{start}..{end}",
        "systems": report.summarize(on_common),
        "all_graded": report.summarize(accuracy),
        "lines": lines.height,
        "lines_without_feature_row": unmatched.height,
        "edge_buckets": report.edge_buckets(on_common).to_dicts(),
        "ensemble_weights": base.select("game_date", "lightgbm_weight")
        .unique()
        .sort("game_date")
        .get_column("lightgbm_weight")
        .round(3)
        .to_list(),
        "seconds": round(time.perf_counter() - began, 1),
        "anchors": ANCHORS,
    }


# --------------------------------------------------------------------------------------------
# --tune: the validation on earlier seasons
# --------------------------------------------------------------------------------------------


def tune_moving_average(tables: Tables) -> list[tuple]:
    played = _played(tables).filter(pl.col("season").is_in(VALIDATION_SEASONS))
    target = played.get_column("target")
    base = predict.MOVING_AVERAGE_PARAMS
    best: list[tuple] = []
    for w5, w10 in itertools.product(np.arange(0, 1.01, 0.1), repeat=2):
        if w5 + w10 > 1.0001:
            continue
        for prior in (0.0, 3.0, 6.0, 10.0):
            p = dataclasses.replace(
                base,
                weight_last_5=round(float(w5), 2),
                weight_last_10=round(float(w10), 2),
                weight_season=round(1 - float(w5) - float(w10), 2),
                prior_games=prior,
                back_to_back=0.0,
                home=0.0,
                opponent=0.0,
            )
            best.append((_mae(predict.moving_average_v1(played, p), target), p))
    best.sort(key=lambda r: r[0])
    chosen = best[0][1]
    grid = itertools.product(
        (0.0, -0.02, -0.04), (0.0, 0.01, 0.02), (0.0, 0.5, 1.0), (2.0, 4.0, 6.0)
    )
    adjusted = []
    for b2b, home, opponent, default in grid:
        p = dataclasses.replace(
            chosen, back_to_back=b2b, home=home, opponent=opponent, default_points=default
        )
        adjusted.append((_mae(predict.moving_average_v1(played, p), target), p))
    adjusted.sort(key=lambda r: r[0])
    print(f"moving_average_v1: blend {best[0][0]:.4f}, with adjustments {adjusted[0][0]:.4f}")
    print(f"  chosen: {adjusted[0][1]}")
    print(f"  committed: {_mae(predict.moving_average_v1(played), target):.4f}")
    return adjusted[:5]


def tune_lightgbm(tables: Tables) -> list[tuple]:
    played = _played(tables)
    grid = [
        {"num_leaves": leaves, "min_data_in_leaf": leaf_rows, "learning_rate": lr, "rounds": n}
        for leaves in (15, 31, 63)
        for leaf_rows in (100, 400)
        for lr, n in ((0.05, 300), (0.05, 600))
    ]
    # The loss, at the committed tree settings.
    grid += [
        {"objective": "regression", "rounds": predict.LIGHTGBM_ROUNDS},
        {"objective": "huber", "alpha": 4.0, "rounds": predict.LIGHTGBM_ROUNDS},
        {"objective": "regression_l1", "rounds": predict.LIGHTGBM_ROUNDS},
    ]
    results = []
    for config in grid:
        rounds = config.pop("rounds")
        maes = []
        for season in VALIDATION_SEASONS:
            valid = played.filter(pl.col("season") == season)
            first = valid.get_column("game_date").min()
            assert isinstance(first, dt.date)
            rows = predict.training_rows(tables.store, tables.actuals, first)
            model = predict.train_points_model(
                rows,
                first,
                list(predict.MODEL_FEATURES),
                params=config,
                rounds=rounds,
                validation_days=0,
                serving=valid,
            )
            assert model is not None
            maes.append(_mae(predict.predict_points(model.booster, valid), valid["target"]))
        results.append((float(np.mean(maes)), maes, {**config, "rounds": rounds}))
        print(f"  {np.mean(maes):.4f} {[round(m, 4) for m in maes]} {config} rounds={rounds}")
    results.sort(key=lambda r: r[0])
    print(f"lightgbm_v1 best: {results[0][0]:.4f} {results[0][2]}")
    return results


# Features null in every 2025-26 row while present in training seasons (team box scores, and the
# shooting ones where they exist); nulled in the validated season to simulate serving.
NULL_IN_2025_26 = (
    "team_pace",
    "team_off_rating",
    "opponent_def_rating",
    "opponent_pace",
    "usage_last_10",
    "usage_trend",
    "three_pt_rate_last_10",
    "ft_rate_last_10",
    "ts_pct_last_10",
)


def tune_availability(tables: Tables) -> None:
    """All features against only those present in the served rows, when the features missing
    in 2025-26 are nulled in the validated season's rows (training rows of it included)."""
    for cadence in (None, "monthly"):
        for season in WALK_FORWARD_SEASONS:
            nulled = pl.when(pl.col("season") == season).then(None)
            store = tables.store.with_columns(
                [nulled.otherwise(pl.col(f)).alias(f) for f in NULL_IN_2025_26]
            )
            masked = dataclasses.replace(tables, store=store)
            days = _played(masked).filter(pl.col("season") == season)
            maes = []
            for share in (2.0, predict.MAX_NULL_SHARE):
                preds = walk_forward(masked, days, cadence, max_null_share=share)  # type: ignore[arg-type]
                maes.append(_mae(preds["lightgbm"], preds["target"]))
            print(
                f"  {season} {cadence or 'once a season'}: all features {maes[0]:.4f},"
                f" present in the served rows {maes[1]:.4f}"
            )


SEASON_START_DAYS = 26  # as many days as the reported span, from each season's first game


def tune_stacking(tables: Tables) -> None:
    """LightGBM on the v1 features alone against v1 plus the moving average's prediction:
    weekly walk-forward on the validation seasons, whole season and its first weeks."""
    played = _played(tables)
    for season in WALK_FORWARD_SEASONS:
        days = played.filter(pl.col("season") == season)
        first = days.get_column("game_date").min()
        assert isinstance(first, dt.date)
        start = pl.col("game_date") < first + dt.timedelta(days=SEASON_START_DAYS)
        ma = days.with_columns(lightgbm=predict.moving_average_v1(days))
        for name, names in (
            ("moving average", None),
            ("v1 features", FEATURES_V1),
            ("v1 + moving average", predict.MODEL_FEATURES),
        ):
            preds = (
                ma if names is None else walk_forward(tables, days, "weekly", feature_names=names)
            )
            early = preds.filter(start)
            print(
                f"  {season} {name:20s} MAE {_mae(preds['lightgbm'], preds['target']):.4f},"
                f" first {SEASON_START_DAYS} days {_mae(early['lightgbm'], early['target']):.4f}",
                flush=True,
            )


def walk_forward_seasons(tables: Tables, cadence: predict.Cadence | None) -> pl.DataFrame:
    played = _played(tables)
    parts = []
    for season in WALK_FORWARD_SEASONS:
        days = played.filter(pl.col("season") == season)
        parts.append(walk_forward(tables, days, cadence).with_columns(cadence=pl.lit(str(cadence))))
    return pl.concat(parts)


DAILY_CHECK = (dt.date(2024, 11, 1), dt.date(2024, 11, 30))


def tune_cadence(tables: Tables) -> pl.DataFrame:
    weekly = None
    for cadence in (None, "monthly", "weekly"):
        began = time.perf_counter()
        preds = walk_forward_seasons(tables, cadence)  # type: ignore[arg-type]
        per_season = preds.group_by("season").agg(
            mae=(pl.col("lightgbm") - pl.col("target")).abs().mean()
        )
        mae = _mae(preds["lightgbm"], preds["target"])
        print(
            f"cadence {cadence or 'once a season'}: MAE {mae:.4f}"
            f" {dict(per_season.sort('season').iter_rows())} ({time.perf_counter() - began:.0f}s)"
        )
        if cadence == "weekly":
            weekly = preds
    assert weekly is not None
    # Daily retraining costs seven times weekly's training; compared on one month only.
    month = _played(tables).filter(pl.col("game_date").is_between(*DAILY_CHECK))
    daily = walk_forward(tables, month, "daily")
    same = weekly.filter(pl.col("game_date").is_between(*DAILY_CHECK))
    print(
        f"cadence daily on {DAILY_CHECK[0]}..{DAILY_CHECK[1]}:"
        f" MAE {_mae(daily['lightgbm'], daily['target']):.4f}"
        f" against weekly {_mae(same['lightgbm'], same['target']):.4f} on the same days"
    )
    return weekly


def _fit_per_boundary(tables: Tables, boundary: dt.date, part: pl.DataFrame) -> lgb.Booster:
    """The training before PointsTrainer: the boundary's rows from the tables, binned from
    scratch in a ``lightgbm.Dataset`` of their own."""
    rows = predict.training_rows(tables.store, tables.actuals, boundary)
    names = predict.model_features(rows, list(predict.MODEL_FEATURES), part)
    names = predict.model_features(rows, names)
    data = lgb.Dataset(
        rows.select(pl.col(names).cast(pl.Float64)).to_numpy(),
        label=rows.get_column("target").to_numpy(),
        feature_name=names,
        free_raw_data=True,
    )
    return lgb.train(predict.LIGHTGBM_PARAMS, data, num_boost_round=predict.LIGHTGBM_ROUNDS)


def tune_binning(tables: Tables) -> None:
    """Weekly walk-forward over the validation seasons trained as before PointsTrainer (every
    boundary binned from scratch) and with it (binned once per season, from the rows before
    it): CPU and wall time of the training, MAE, how far the predictions moved. The two run
    boundary by boundary, in alternating order, so a busy machine slows both alike."""
    played = _played(tables)
    modes = ("per boundary", "once per season")
    cpu, wall = dict.fromkeys(modes, 0.0), dict.fromkeys(modes, 0.0)
    preds: dict[str, list[pl.DataFrame]] = {m: [] for m in modes}
    checks, reused = 0, 0
    for season in WALK_FORWARD_SEASONS:
        days = _boundaries(played.filter(pl.col("season") == season), "weekly")
        bounds = days.get_column("_boundary").unique().sort().to_list()
        trainer = predict.PointsTrainer(
            predict.training_rows(tables.store, tables.actuals, bounds[-1])
        )
        kept: dict[dt.date, list[str]] = {}
        for i, boundary in enumerate(bounds):
            part = days.filter(pl.col("_boundary") == boundary).drop("_boundary")
            for mode in modes if i % 2 == 0 else modes[::-1]:
                began_cpu, began = time.process_time(), time.perf_counter()
                if mode == "per boundary":
                    booster = _fit_per_boundary(tables, boundary, part)
                else:
                    rows = trainer.rows_before(boundary)
                    names = predict.model_features(rows, list(predict.MODEL_FEATURES), part)
                    model = trainer.train(boundary, names, validation_days=0)
                    assert model is not None, f"no model for {boundary}"
                    booster, kept[boundary] = model.booster, model.feature_names
                cpu[mode] += time.process_time() - began_cpu
                wall[mode] += time.perf_counter() - began
                predicted = predict.predict_points(booster, part).alias("lightgbm")
                preds[mode].append(part.with_columns(predicted))
            # Progress, not a result: to stderr, out of the results file.
            print(f"  {boundary}: {cpu[modes[0]]:.0f} / {cpu[modes[1]]:.0f} CPU s", file=sys.stderr)
        # The asset's held-out check of a boundary (validation_mae) is the same fit as the
        # model of its held-out boundary, when the run has it: then it is reused.
        for boundary in bounds:
            early = predict.held_out_boundary(boundary)
            checks += 1
            reused += (
                early in kept
                and kept[early] == kept[boundary]
                and trainer.bins_from(early, kept[early])
                == trainer.bins_from(boundary, kept[boundary])
            )
    before, after = pl.concat(preds[modes[0]]), pl.concat(preds[modes[1]])
    moved = (before["lightgbm"] - after["lightgbm"]).abs()
    for mode, frame in zip(modes, (before, after), strict=True):
        by_season = frame.group_by("season").agg(
            mae=(pl.col("lightgbm") - pl.col("target")).abs().mean().round(4)
        )
        print(
            f"bins {mode}: MAE {_mae(frame['lightgbm'], frame['target']):.4f}"
            f" {dict(by_season.sort('season').iter_rows())}, training {cpu[mode]:.0f} CPU s"
            f" ({wall[mode]:.0f} s wall)"
        )
    print(
        f"once per season against per boundary: {cpu[modes[0]] / cpu[modes[1]]:.2f}x less CPU;"
        f" predictions moved by {moved.mean():.4f} points on average, at most {moved.max():.3f}"
    )
    print(
        f"the asset's held-out checks (validation_mae, {predict.VALIDATION_DAYS} days) that are"
        f" the fit of an earlier boundary of the same run: {reused} of {checks}"
        " (each was a second fit before)"
    )


CURVE_CADENCES: tuple[predict.Cadence, ...] = ("weekly", "fortnightly", "monthly")
CURVE_WINDOWS: tuple[tuple[str, int | None], ...] = (
    ("all history", None),
    ("3 seasons", 3 * 365),
    ("2 seasons", 2 * 365),
)
CURVE_ROUNDS = (100, 150, 200, 250, 300)
MAX_MAE_COST = 0.003  # what a cheaper choice may cost on the validation seasons


def tune_curve(tables: Tables, cadences: tuple[predict.Cadence, ...] = CURVE_CADENCES) -> None:
    """Validation MAE against training CPU time, walk-forward over 2023-24 and 2024-25, by
    cadence, training window and boosting rounds (one training per cadence and window up to
    the most rounds; fewer rounds are the first trees of the same models, timed by a callback).
    Compared with the committed constants when ``cadences`` holds the committed cadence.
    """
    windows = {days: name for name, days in CURVE_WINDOWS}
    committed = (predict.RETRAIN_CADENCE, windows.get(predict.TRAINING_WINDOW_DAYS))
    assert committed[0] in CURVE_CADENCES and committed[1] is not None
    assert set(cadences) <= set(CURVE_CADENCES)
    assert predict.LIGHTGBM_ROUNDS in CURVE_ROUNDS, "the committed constants are a curve point"
    played = _played(tables)
    points = []
    for cadence, (window, window_days) in itertools.product(cadences, CURVE_WINDOWS):
        runs = [
            timed_walk_forward(
                tables,
                played.filter(pl.col("season") == season),
                cadence,
                rounds=max(CURVE_ROUNDS),
                window_days=window_days,
                curve=CURVE_ROUNDS,
            )
            for season in WALK_FORWARD_SEASONS
        ]
        preds = pl.concat(r.predictions for r in runs)
        models = sum(r.models for r in runs)
        for k in CURVE_ROUNDS:
            seconds = sum(r.seconds_to[k] for r in runs)
            mae = _mae(preds[f"lightgbm_{k}"], preds["target"])
            points.append((cadence, window, k, models, seconds, mae))
        print(
            f"  {cadence} {window}: {models} models, {sum(r.seconds for r in runs):.0f} CPU s",
            flush=True,
        )
    print("| cadence | window | rounds | models | training CPU s | MAE |")
    print("|---|---|---|---|---|---|")
    for cadence, window, k, models, seconds, mae in sorted(points, key=lambda p: p[4]):
        print(f"| {cadence} | {window} | {k} | {models} | {seconds:.0f} | {mae:.4f} |")
    if committed[0] not in cadences:
        return
    reference = next(p for p in points if p[:3] == (*committed, predict.LIGHTGBM_ROUNDS))
    print(
        f"validation MAE against training time, walk-forward {' + '.join(WALK_FORWARD_SEASONS)},"
        f" {reference[5]:.4f} in {reference[4]:.0f} CPU s at the committed constants"
        f" ({committed[0]}, {committed[1]}, {predict.LIGHTGBM_ROUNDS} rounds)"
    )
    cheaper = [p for p in points if p[5] - reference[5] <= MAX_MAE_COST]
    cheapest = min(cheaper, key=lambda p: p[4])
    print(
        f"cheapest within {MAX_MAE_COST} MAE of the committed constants: {cheapest[0]},"
        f" {cheapest[1]}, {cheapest[2]} rounds: MAE {cheapest[5]:.4f} in {cheapest[4]:.0f} CPU s"
        f" ({reference[4] / cheapest[4]:.1f}x cheaper)"
    )


def _inverse_mae_weight(history: pl.DataFrame, day: dt.date, window: int) -> float:
    recent = history.filter(
        pl.col("game_date") < day, pl.col("game_date") >= day - dt.timedelta(days=window)
    )
    if recent.height < 300:
        return 0.5
    ma = _mae(recent["moving_average"], recent["actual"])
    lg = _mae(recent["lightgbm"], recent["actual"])
    return (1 / lg) / (1 / lg + 1 / ma)


def tune_ensemble(weekly: pl.DataFrame) -> None:
    base = weekly.with_columns(moving_average=predict.moving_average_v1(weekly))
    history = base.select(*predict.BASE_COLUMNS, actual=pl.col("target"))
    target = base.get_column("target")
    print(f"  moving_average {_mae(base['moving_average'], target):.4f}")
    print(f"  lightgbm       {_mae(base['lightgbm'], target):.4f}")
    fixed = 0.5 * base["lightgbm"] + 0.5 * base["moving_average"]
    print(f"  fixed 0.5      {_mae(fixed, target):.4f}")
    days = base.get_column("game_date").unique().sort().to_list()
    for window in (7, 14, 21, 28):
        weights = {d: _inverse_mae_weight(history, d, window) for d in days}
        w = base.get_column("game_date").replace_strict(weights, return_dtype=pl.Float64)
        blended = w * base["lightgbm"] + (1 - w) * base["moving_average"]
        print(f"  inverse MAE, {window:2d} days: {_mae(blended, target):.4f}")
    for window, shrink in itertools.product((7, 14, 21, 28), (0, 500, 2000)):
        params = predict.EnsembleParams(
            window_days=window, min_rows=300, prior_weight=0.5, shrink_rows=shrink
        )
        blended = predict.ensemble_v1(base, history, params)["ensemble"]
        mae = _mae(blended, target)
        print(f"  least absolute error, {window:2d} days, shrink {shrink:4d}: {mae:.4f}")


def proxy_line(df: pl.DataFrame) -> pl.Expr:
    """Season-to-date average (previous season's when none) as a book-style x.5 line."""
    average = pl.coalesce("points_avg_season", "points_avg_prev_season")
    return average.floor() + 0.5


def tune_thresholds(weekly: pl.DataFrame) -> None:
    base = weekly.with_columns(
        moving_average=predict.moving_average_v1(weekly), confidence=predict.confidence(weekly)
    )
    history = base.select(*predict.BASE_COLUMNS, actual=pl.col("target"))
    base = predict.ensemble_v1(base, history).with_columns(line=proxy_line(base))
    base = base.filter(pl.col("line").is_not_null(), pl.col("target") != pl.col("line"))
    days = base.get_column("game_date").n_unique()
    print(f"  {base.height} player-games with a proxy line over {days} days")
    for system in ("moving_average", "lightgbm", "ensemble"):
        edge = pl.col(system) - pl.col("line")
        hit = (edge > 0) == (pl.col("target") > pl.col("line"))
        print(f"  {system}: hit rate against the proxy line (picks per day)")
        print("    min_edge " + " ".join(f"conf>={c:<10}" for c in (0.0, 0.2, 0.3, 0.35, 0.45)))
        for min_edge in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0):
            cells = []
            for min_conf in (0.0, 0.2, 0.3, 0.35, 0.45):
                picks = base.filter(edge.abs() >= min_edge, pl.col("confidence") >= min_conf)
                rate = picks.select(hit.mean()).item() if picks.height else float("nan")
                cells.append(f"{100 * rate:5.1f}% ({picks.height / days:4.1f})")
            print(f"    {min_edge:8.1f} " + " ".join(cells))


PRA_LINES = "props_pra_2023-24_2024-25.parquet"
EDGE_UNITS = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.2, 1.4)
MIN_PICKS = 200


def _rolling_form(actuals: pl.DataFrame, stat: pl.Expr) -> pl.DataFrame:
    """Played games with moving_average_v1's inputs computed on ``stat`` from earlier games."""
    games = actuals.filter(pl.col("minutes") > 0).with_columns(stat=stat.cast(pl.Float64))
    games = games.sort("player_id", "game_date")
    season = ["player_id", "season"]
    before = pl.int_range(pl.len()).over(season)
    earlier = pl.col("stat").shift(1)
    return games.with_columns(
        points_avg_last_5=earlier.rolling_mean(5, min_samples=1).over("player_id"),
        points_avg_last_10=earlier.rolling_mean(10, min_samples=1).over("player_id"),
        points_avg_season=pl.when(before > 0).then(
            (pl.col("stat").cum_sum().over(season) - pl.col("stat")) / before
        ),
        points_std_last_10=earlier.rolling_std(10, min_samples=2).over("player_id"),
        points_avg_prev_season=pl.lit(None, pl.Float64),
        games_played_season=before.cast(pl.Float64),
        back_to_back=pl.lit(None, pl.Float64),
        is_home=pl.lit(None, pl.Float64),
        opponent_points_allowed_avg=pl.lit(None, pl.Float64),
    ).filter(pl.col("games_played_season") >= 5)


def _pra_lines(data_dir: Path) -> pl.DataFrame:
    """The books' median points+rebounds+assists line per player-game, 2023-24 and 2024-25."""
    props = pl.read_parquet(data_dir / PRA_LINES).unique()
    props = with_player_lookup(props, "player_name")
    props = props.with_columns(
        player_lookup=apply_aliases(pl.col("player_lookup"), load_aliases()),
        game_date=pl.col("event_date").str.slice(0, 10).str.to_date(),
    )
    return props.group_by("game_date", "player_lookup").agg(line=pl.col("line").median())


def tune_market_lightgbm(tables: Tables, data_dir: Path, weekly: pl.DataFrame) -> None:
    """Whether the LightGBM points model finds edges a real market leaves: its weekly
    walk-forward points plus the moving average of rebounds+assists, against the books' PRA
    lines, hit rate of the side the edge points to by |edge|."""
    form = _rolling_form(tables.actuals, pl.col("reb") + pl.col("ast"))
    rest = form.select(
        "game_date", "player_id", "player_lookup", rest=predict.moving_average_v1(form)
    )
    pra = tables.actuals.select(
        "game_date", "player_id", stat=(pl.col("pts") + pl.col("reb") + pl.col("ast")).cast(float)
    )
    df = (
        weekly.select("game_date", "player_id", "lightgbm")
        .join(rest, on=["game_date", "player_id"])
        .join(pra, on=["game_date", "player_id"])
        .join(_pra_lines(data_dir), on=["game_date", "player_lookup"])
        .with_columns(pred=pl.col("lightgbm") + pl.col("rest"))
    )
    edge = pl.col("pred") - pl.col("line")
    hit = (edge > 0) == (pl.col("stat") > pl.col("line"))
    decided = df.filter(pl.col("stat") != pl.col("line"))
    cells = []
    for min_edge in (1, 2, 3, 4, 6, 8):
        picks = decided.filter(edge.abs() >= min_edge)
        rate = picks.select(hit.mean()).item() if picks.height else float("nan")
        cells.append(f">= {min_edge}: {100 * rate:4.1f}% ({picks.height})")
    print(
        f"  LightGBM points + moving-average rebounds+assists, {df.height} PRA player-games:"
        f" MAE {_mae(df['pred'], df['stat']):.3f} (line {_mae(df['line'], df['stat']):.3f});"
        " against the line, |edge| " + ", ".join(cells)
    )


def tune_market_check(tables: Tables, data_dir: Path) -> float:
    """How edges of an average-based predictor against a real market turn into hits.

    Points lines exist only for the reported days, but real points+rebounds+assists lines exist
    for 2023-24 and 2024-25. The same moving-average method predicts PRA there; its hit rate by
    |edge| (in units of its MAE) against the books' median line is set beside the hit rate
    against the season-average proxy line. Returns the smallest edge unit whose picks beat
    break-even against the market on at least MIN_PICKS picks (or the largest unit tried).
    """
    lines = _pra_lines(data_dir)
    pra_form = _rolling_form(tables.actuals, pl.col("pts") + pl.col("reb") + pl.col("ast"))
    pra = pra_form.with_columns(pred=predict.moving_average_v1(pra_form)).join(
        lines, on=["game_date", "player_lookup"]
    )
    pts_form = _rolling_form(tables.actuals, pl.col("pts"))
    pts = pts_form.with_columns(pred=predict.moving_average_v1(pts_form)).join(
        pra.select("game_date", "player_id"), on=["game_date", "player_id"], how="semi"
    )
    mae_pra, mae_pts = _mae(pra["pred"], pra["stat"]), _mae(pts["pred"], pts["stat"])
    line_mae = _mae(pra["line"], pra["stat"])
    print(
        f"  {pra.height} PRA player-games with a line: MAE line {line_mae:.3f},"
        f" moving average {mae_pra:.3f}; the same player-games' points: MAE {mae_pts:.3f}"
    )
    proxy = pl.col("points_avg_season").floor() + 0.5
    chosen = EDGE_UNITS[-1]
    for name, line in (("market line", pl.col("line")), ("proxy line", proxy)):
        edge = pl.col("pred") - line
        decided = pra.filter(pl.col("stat") != line)
        hit = (edge > 0) == (pl.col("stat") > line)
        cells = []
        for unit in EDGE_UNITS:
            picks = decided.filter(edge.abs() >= unit * mae_pra)
            rate = picks.select(hit.mean()).item() if picks.height else float("nan")
            cells.append(f"{unit:.1f}: {100 * rate:4.1f}% ({picks.height})")
            beats = picks.height >= MIN_PICKS and rate >= ANCHORS["break_even_hit_rate"]
            if name == "market line" and beats and chosen == EDGE_UNITS[-1]:
                chosen = unit
        print(f"  against the {name}, |edge| >= unit x MAE: " + ", ".join(cells))
    edge = pl.col("pred") - pl.col("line")
    hit = (edge > 0) == (pl.col("stat") > pl.col("line"))
    rated = pra.with_columns(confidence=predict.confidence(pra)).filter(
        pl.col("stat") != pl.col("line"), edge.abs() >= 0.4 * mae_pra
    )
    by_confidence = [
        f">= {c}: {100 * part.select(hit.mean()).item():4.1f}% ({part.height})"
        for c in (0.0, 0.3, 0.45, 0.6)
        if (part := rated.filter(pl.col("confidence") >= c)).height
    ]
    print(
        "  against the market line, |edge| >= 0.4 x MAE, by confidence " + ", ".join(by_confidence)
    )
    print(
        f"  smallest unit beating break-even on >= {MIN_PICKS} market picks: {chosen}"
        f" -> points min_edge {chosen * mae_pts:.2f}"
    )
    return chosen * mae_pts


# --------------------------------------------------------------------------------------------
# the results file: each run writes its own section
# --------------------------------------------------------------------------------------------


def _machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}, LightGBM {lgb.__version__}, polars {pl.__version__}"
    )


def _commit() -> str:
    """The checkout's commit, marked when the code measured differs from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.strip()  # fmt: skip
        changed = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--",
             "nba_assets", "benchmarks/model_quality.py"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        return f"an unknown commit ({REPO} is not a git checkout git can read: {error})"
    return head + (" with uncommitted changes" if changed else "")


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- results: {name} -->", f"<!-- /results: {name} -->"


def write_results(path: Path, name: str, command: str, text: str, run: dict[str, Any]) -> None:
    """Replace ``name``'s section of the results file at ``path`` (appended when it has none)
    with ``text``, under the date, commit, machine, load and command it was measured with."""
    begin, end = _markers(name)
    block = (
        f"{begin}\n"
        f"Measured {run['started']:%Y-%m-%d %H:%M} UTC at {run['commit']} on {run['machine']}"
        f" (load average {run['load']:.1f} at the start), {run['seconds']:.0f} s:\n\n"
        f"    {command}\n\n```text\n{text.rstrip()}\n```\n{end}"
    )
    # Parts run in parallel processes write the same file: one read-modify-write at a time,
    # under a lock on its folder (a lock file beside it would be one more file in the tree).
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        doc = path.read_text() if path.exists() else "# Model quality\n"
        section = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
        if section.search(doc):
            doc = section.sub(lambda _: block, doc)
        else:
            doc = doc.rstrip("\n") + f"\n\n## `{name}`\n\n{block}\n"
        written = path.with_suffix(".md.tmp")
        written.write_text(doc)
        written.replace(path)  # never a half-written results file
    finally:
        os.close(folder)  # releases the lock


class _Tee(io.StringIO):
    """Keeps the text written to it, and passes it on to ``out`` unless that is None."""

    def __init__(self, out: Any):
        super().__init__()
        self.out = out

    def write(self, text: str) -> int:
        if self.out is not None:
            self.out.write(text)
        return super().write(text)

    def flush(self) -> None:
        if self.out is not None:
            self.out.flush()


@contextlib.contextmanager
def recorded(name: str, command: str, results: Path | None, echo: bool = True) -> Iterator[None]:
    """Prints as usual (unless not ``echo``); then, unless ``results`` is None, writes what was
    printed as ``name``'s section of the results file. A part that fails writes nothing."""
    run = {"started": dt.datetime.now(dt.UTC), "load": os.getloadavg()[0]}
    run |= {"commit": _commit(), "machine": _machine()}
    began = time.perf_counter()
    tee = _Tee(sys.stdout if echo else None)
    with contextlib.redirect_stdout(tee):
        yield
    run["seconds"] = time.perf_counter() - began
    if results is not None:
        write_results(results, name, command, tee.getvalue(), run)


TUNE_PARTS = (
    "ma", "lightgbm", "availability", "stacking", "binning", "curve", "curve_weekly",
    "curve_fortnightly", "curve_monthly", "cadence", "ensemble", "market", "market_lightgbm",
    "thresholds", "market_systems",
)  # fmt: skip


def tune(
    tables: Tables,
    parts: list[str],
    data_dir: Path,
    results: Path | None = RESULTS,
    options: str = "",
) -> None:
    """Runs the ``--tune`` parts named in ``parts``, each written to its results section."""
    unknown = sorted(set(parts) - set(TUNE_PARTS))
    if unknown:
        raise SystemExit(f"unknown --parts {','.join(unknown)}; known: {','.join(TUNE_PARTS)}")
    seasons = tables.actuals.get_column("season").unique().to_list()
    assert max(VALIDATION_SEASONS) < "2025-26" <= max(seasons)

    def part(name: str) -> contextlib.AbstractContextManager[None]:
        command = f"python benchmarks/model_quality.py --tune --parts {name}{options}"
        return recorded(name, command, results)

    if "market" in parts:
        with part("market"):
            tune_market_check(tables, data_dir)
    if "market_systems" in parts:
        # Not a tuning: the market systems on the reported days, walk-forward, as
        # benchmarks/market_quality.py measures them (nothing there is chosen on those days).
        import market_quality

        with part("market_systems"):
            market_quality.print_result(market_quality.run(tables))
    if "ma" in parts:
        with part("ma"):
            tune_moving_average(tables)
    if "lightgbm" in parts:
        with part("lightgbm"):
            tune_lightgbm(tables)
    if "availability" in parts:
        with part("availability"):
            tune_availability(tables)
    if "stacking" in parts:
        with part("stacking"):
            tune_stacking(tables)
    if "binning" in parts:
        with part("binning"):
            tune_binning(tables)
    if "curve" in parts:
        with part("curve"):
            tune_curve(tables)
    # One cadence of the curve each: its parts can run side by side, in parallel processes.
    for cadence in CURVE_CADENCES:
        if f"curve_{cadence}" in parts:
            with part(f"curve_{cadence}"):
                tune_curve(tables, (cadence,))
    weekly = None
    if "cadence" in parts:
        with part("cadence"):
            weekly = tune_cadence(tables)
    if {"ensemble", "thresholds", "market_lightgbm"} & set(parts):
        if weekly is None:
            weekly = walk_forward_seasons(tables, predict.RETRAIN_CADENCE)
        if "market_lightgbm" in parts:
            with part("market_lightgbm"):
                tune_market_lightgbm(tables, data_dir, weekly)
        if "ensemble" in parts:
            with part("ensemble"):
                tune_ensemble(weekly)
        if "thresholds" in parts:
            with part("thresholds"):
                tune_thresholds(weekly)


def _print_measurement(result: dict) -> None:
    print(f"Reported days {result['window']} (nothing tuned on them); same player-games for all")
    print(report.render_table(result["systems"]))
    line_mae = result["systems"][0]["line_mae"] if result["systems"] else None
    print(
        f"line MAE on these player-games: {line_mae} (anchor {ANCHORS['line_mae']});"
        f" season-average anchor {ANCHORS['season_average_mae']};"
        f" break-even hit rate {100 * ANCHORS['break_even_hit_rate']:.1f}% at -110"
    )
    print(
        f"lines: {result['lines']}, without a feature-store player that day:"
        f" {result['lines_without_feature_row']}; ensemble LightGBM weight by day:"
        f" {result['ensemble_weights']}"
    )
    print("hit rate of the side the edge points to, by |edge| (all graded rows, not only picks):")
    for row in result["edge_buckets"]:
        rate = 100 * row["hit_rate"]
        print(f"  {row['system_id']:<18} {row['bucket']:>4}  {rate:5.1f}%  n={row['n']}")
    print(f"({result['seconds']} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--archive",
        type=Path,
        default=None,
        help="replay archive or raw data folder the tables come from (default: the shipped one)",
    )
    parser.add_argument(
        "--data", type=Path, default=DATA_DIR, help="data folder with the PRA lines (--tune)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument(
        "--parts",
        default="ma,lightgbm,availability,stacking,cadence,ensemble,market,market_lightgbm,"
        "thresholds",
        help=f"--tune parts, comma-separated, of: {','.join(TUNE_PARTS)}",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="results file whose sections this run rewrites (default: %(default)s)",
    )
    parser.add_argument(
        "--no-results", action="store_true", help="print only; leave the results file alone"
    )
    args = parser.parse_args(argv)
    results = None if args.no_results else args.results
    options = f" --archive {args.archive}" if args.archive else ""
    began = time.perf_counter()
    tables = build_tables(args.archive)
    if args.tune:
        data = f" --data {args.data}" if args.data != DATA_DIR else ""
        tune(tables, args.parts.split(","), args.data, results, options + data)
        print(f"({time.perf_counter() - began:.0f} s)")
        return 0
    command = f"python benchmarks/model_quality.py{options}"
    # With --json the report section is written all the same, only not printed.
    with recorded("report", command, results, echo=not args.json):
        result = measure(tables)
        _print_measurement(result)
    if args.json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
