"""Data-quality checks of the raw tables."""

import dagster as dg
import polars as pl

from nba_assets.resources import WarehouseResource
from nba_assets.tables import raw
from nba_assets.tables.spec import TableSpec

KEYS_UNIQUE = "keys_unique_and_not_null"
MINUTES_AND_POINTS_IN_RANGE = "minutes_and_points_in_range"


def _key_check(spec: TableSpec, blocking: bool) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([spec.dataset, spec.name]),
        name=KEYS_UNIQUE,
        blocking=blocking,
        description=f"Key {', '.join(spec.key)} is unique and never null.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        df = warehouse.get().read(spec, columns=list(dict.fromkeys(spec.key)))
        nulls = df.filter(pl.any_horizontal(pl.all().is_null())).height
        dupes = df.height - df.unique().height
        return dg.AssetCheckResult(
            passed=nulls == 0 and dupes == 0,
            metadata={"rows": df.height, "null_keys": nulls, "duplicate_keys": dupes},
        )

    return _check


@dg.asset_check(
    asset=dg.AssetKey([raw.DATASET, raw.nbac_player_boxscores.name]),
    name=MINUTES_AND_POINTS_IN_RANGE,
    blocking=True,
    description="Minutes within 0..70 and points within 0..100 on every player row.",
)
def player_box_ranges(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    df = warehouse.get().read(
        raw.nbac_player_boxscores, columns=["game_id", "player_id", "minutes", "pts"]
    )
    bad = df.filter(~pl.col("minutes").is_between(0, 70) | ~pl.col("pts").is_between(0, 100))
    return dg.AssetCheckResult(
        passed=bad.is_empty(),
        metadata={
            "rows": df.height,
            "out_of_range": bad.height,
            "examples": str(bad.head(5).to_dicts()),
        },
    )


CHECKS = [
    *(_key_check(spec, blocking=spec is raw.nbac_player_boxscores) for spec in raw.TABLES),
    player_box_ranges,
]
