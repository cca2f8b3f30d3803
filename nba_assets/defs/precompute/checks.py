"""Data-quality checks of phase 4, run on the partitions each run materializes.

Each check reads the partitions of the run it runs in (one day or a single-run backfill range,
``context.partition_key_range``); launched on its own, outside a partitioned run, it checks the
whole table. The feature store's key and coverage checks are
blocking: the prediction systems never see a feature store that fails them.
"""

import dagster as dg
import polars as pl

from nba_assets.defs.checks import checked_range, key_check, sample, table_check, where
from nba_assets.defs.table_asset import asset_key
from nba_assets.lib.features import FEATURE_SET_VERSION, FEATURES_V2
from nba_assets.tables import analytics, precompute
from nba_assets.warehouse.resource import WarehouseResource

ML_FEATURE_STORE_KEYS = "ml_feature_store_keys"
ML_FEATURE_STORE_COVERAGE = "ml_feature_store_covers_expected_players"
ML_FEATURE_STORE_VALUES = "ml_feature_store_values"

# Plausible bounds of features whose range is known; a value outside means a broken input.
_BOUNDS: dict[str, tuple[float, float]] = {
    "points_avg_last_5": (0, 100),
    "points_avg_last_10": (0, 100),
    "points_avg_season": (0, 100),
    "points_avg_prev_season": (0, 100),
    "minutes_avg_last_10": (0, 70),
    "games_last_7_days": (0, 7),
    "back_to_back": (0, 1),
    "fatigue_score": (0, 100),
    "rest_advantage": (-3, 3),
    "is_home": (0, 1),
    "is_playoffs": (0, 1),
    "team_win_rate": (0, 1),
    "feature_quality": (0, 100),
    "points_line": (0, 80),
    "points_over_prob": (0, 1),
    "pra_over_prob": (0, 1),
    "teammates_absent_minutes_last_game": (0, 240),
}


@table_check(
    asset=asset_key(precompute.ml_feature_store),
    name=ML_FEATURE_STORE_COVERAGE,
    blocking=True,
    additional_deps=[asset_key(analytics.upcoming_player_game_context)],
    description="Every player expected to play on the day has exactly one feature vector of "
    f"feature set {FEATURE_SET_VERSION}, and no vector belongs to an unexpected player.",
)
def ml_feature_store_covers_expected_players(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    wh = warehouse.get()
    key = ["game_date", "player_id"]
    with wh.reading("checking ml_feature_store covers the expected players"):
        expected = wh.read(
            analytics.upcoming_player_game_context, start, end, [*key, "player_name"]
        )
        store = wh.read(precompute.ml_feature_store, start, end, [*key, "feature_set_version"])
    missing = expected.join(store, on=key, how="anti")
    unexpected = store.join(expected, on=key, how="anti")
    other_version = store.filter(pl.col("feature_set_version") != FEATURE_SET_VERSION)
    return dg.AssetCheckResult(
        passed=missing.is_empty() and unexpected.is_empty() and other_version.is_empty(),
        metadata={
            "partitions": where(start, end),
            "expected_players": expected.height,
            "feature_rows": store.height,
            "missing": missing.height,
            "unexpected": unexpected.height,
            "other_feature_set_version": other_version.height,
            "sample_missing": sample(missing),
        },
    )


@table_check(
    asset=asset_key(precompute.ml_feature_store),
    name=ML_FEATURE_STORE_VALUES,
    description="Features with a known range stay in it: "
    + ", ".join(f"{c} {lo:g}..{hi:g}" for c, (lo, hi) in _BOUNDS.items())
    + ".",
)
def ml_feature_store_values(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    start, end = checked_range(context)
    df = warehouse.get().read(
        precompute.ml_feature_store,
        start,
        end,
        ["game_date", "player_id", "player_lookup", *_BOUNDS],
    )
    outside = {
        name: df.filter(~pl.col(name).is_between(lo, hi)).height
        for name, (lo, hi) in _BOUNDS.items()
    }
    bad = df.filter(
        pl.any_horizontal([~pl.col(n).is_between(lo, hi) for n, (lo, hi) in _BOUNDS.items()])
    )
    return dg.AssetCheckResult(
        passed=bad.is_empty(),
        metadata={
            "partitions": where(start, end),
            "rows": df.height,
            "features": len(FEATURES_V2),
            **{f"outside_{name}": n for name, n in outside.items() if n},
            "sample": sample(bad),
        },
    )


KEY_CHECKS = [
    key_check(precompute.ml_feature_store, ML_FEATURE_STORE_KEYS, blocking=True),
    *(
        key_check(spec, f"{spec.name}_keys", blocking=False)
        for spec in (
            precompute.player_daily_cache,
            precompute.player_composite_factors,
            precompute.team_defense_profile,
        )
    ),
]
