"""Phase 6: grade every prediction once the games are played, and each system's day."""

from pathlib import Path

import dagster as dg
import polars as pl

from nba_assets.defs.table_asset import table_asset
from nba_assets.defs.util import partition_dates
from nba_assets.lib import grading, report
from nba_assets.reports.store import ReportsResource
from nba_assets.tables import analytics, predictions
from nba_assets.warehouse.resource import WarehouseResource

GROUP = "grading"


@table_asset(
    predictions.prediction_accuracy,
    group=GROUP,
    deps=[predictions.player_prop_prediction_history, analytics.player_game_summary],
)
def prediction_accuracy(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output:
    """Each prediction of record against the real points and the line: errors, hits, pushes,
    voids, units. Of the day's predictions runs, each player-game is graded on the last one made
    from a lines snapshot taken before its tip-off (:func:`grading.predictions_of_record`)."""
    start, end = partition_dates(context)
    wh = warehouse.get()
    with wh.reading("reading the predictions and results to grade"):
        history = wh.read(predictions.player_prop_prediction_history, start, end)
        results = wh.read(
            analytics.player_game_summary, start, end, columns=list(grading.RESULT_COLUMNS)
        )
    preds, after_tip_off = grading.predictions_of_record(history)
    spec = predictions.prediction_accuracy
    df = spec.conform(grading.grade(preds, results).select(list(spec.columns)))
    pending = df.filter(~pl.col("is_void") & pl.col("actual_points").is_null()).height
    return dg.Output(
        df,
        metadata={
            "graded": df.filter(pl.col("graded")).height,
            "voids": df.filter(pl.col("is_void")).height,
            "without_result": pending,
            "settled_picks": df.filter(pl.col("units").is_not_null()).height,
            "runs_graded_from": preds.select("game_date", "prediction_snapshot_time")
            .unique()
            .height,
            "predicted_only_after_tip_off": after_tip_off,
        },
    )


@table_asset(
    predictions.system_daily_performance, group=GROUP, deps=[predictions.prediction_accuracy]
)
def system_daily_performance(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, reports: ReportsResource
) -> dg.Output:
    """Per system and day: MAE against the line's, hit rate and ROI; with pictures of the range."""
    start, end = partition_dates(context)
    accuracy = warehouse.get().read(predictions.prediction_accuracy, start, end)
    df = grading.daily_performance(accuracy)
    summary = report.summarize(accuracy)
    metadata: dict[str, dg.RawMetadataValue] = {
        "summary": dg.MetadataValue.md(f"```\n{report.render_table(summary)}\n```"),
    }
    if not accuracy.is_empty():
        # Linked, not inlined: the event log keeps where each chart is, not the picture.
        folder = f"grading_{start}_{end}"
        for name, body in report.render_plots(accuracy).items():
            where = reports.write(folder, name, body)
            metadata[Path(name).stem] = (
                dg.MetadataValue.url(where)
                if where.startswith("gs://")
                else dg.MetadataValue.path(where)
            )
    return dg.Output(df, metadata=metadata)
