"""``nba_predictions``: the points model registry, predictions per system, and their grading."""

import polars as pl

from nba_assets.tables.spec import TableSpec

DATASET = "nba_predictions"

_PLAYER_GAME = {
    "game_date": pl.Date(),
    "game_id": pl.String(),
    "player_id": pl.Int64(),
    "player_lookup": pl.String(),
    "team_abbr": pl.String(),
    "opponent_team_abbr": pl.String(),
}
_PREDICTION = {
    "system_id": pl.String(),
    "model_version": pl.String(),
    "predicted_points": pl.Float64(),
    "confidence": pl.Float64(),
    "line": pl.Float64(),
    "line_books": pl.Int64(),
    "line_source": pl.String(),
    "line_bookmaker": pl.String(),
    "line_snapshot_time": pl.Datetime("us", "UTC"),
    "commence_time": pl.Datetime("us", "UTC"),
    "over_price": pl.Float64(),
    "under_price": pl.Float64(),
    "edge": pl.Float64(),
    "over_probability": pl.Float64(),
    "recommendation": pl.String(),
    "prediction_snapshot_time": pl.Datetime("us", "UTC"),
}
# What the columns of every prediction row say beyond their names.
_PREDICTION_DESCRIPTIONS = {
    "confidence": "0..1: how much history stands behind the prediction and how steady it is",
    "line": "the points line the prediction and its pick are judged against: the median across "
    "books in the last lines snapshot taken before the game's tip-off (when the predictions were "
    "made), or, for a market system's OVER / UNDER pick, the line of the book offer it takes",
    "line_bookmaker": "the book whose offer a market system's pick takes (the line and both "
    "prices are that book's); null: the median across books",
    "line_snapshot_time": "when the snapshot the line comes from was taken (UTC)",
    "commence_time": "tip-off of the game the line is for (UTC); null without a line",
    "over_price": "over price of the line, American odds (the median across books, or the "
    "book's, see line_bookmaker)",
    "under_price": "under price of the line, American odds (as over_price)",
    "edge": "predicted_points - line",
    "over_probability": "calibrated probability that the points go over the line (the "
    "market systems, which pick the book offer with the best expected value at its price); "
    "null for the others",
    "prediction_snapshot_time": "the day's latest lines snapshot when the predictions were "
    "made (UTC; the day's first second, US/Eastern, when none had landed)",
}

points_model = TableSpec(
    dataset=DATASET,
    name="points_model",
    columns={
        "game_date": pl.Date(),
        "system_id": pl.String(),
        "model_id": pl.String(),
        "cadence": pl.String(),
        "boundary": pl.Date(),
        "train_start": pl.Date(),
        "trained_through": pl.Date(),
        "training_rows": pl.Int64(),
        "validation_mae": pl.Float64(),
        "feature_set_version": pl.String(),
        "artifact_uri": pl.String(),
    },
    key=("game_date", "system_id"),
    clustering=("system_id", "model_id"),
    description="The LightGBM points model serving each game day (a registry of stored models): "
    "the model for day D was trained only on player-games before its boundary (boundary <= D).",
    column_descriptions={
        "model_id": "null when there was not enough history before the boundary to train",
        "boundary": "first day the model serves; it was trained on rows with game_date < boundary",
        "trained_through": "last game_date among the training rows",
        "validation_mae": "MAE on the last days before the boundary of a refit without those days",
    },
)

player_prop_predictions = TableSpec(
    dataset=DATASET,
    name="player_prop_predictions",
    columns={**_PLAYER_GAME, **_PREDICTION, "feature_set_version": pl.String()},
    key=("game_id", "player_lookup", "system_id"),
    clustering=("player_lookup", "system_id", "game_date"),
    description="Points predicted for every expected player of the day by each prediction system, "
    "with the day's median sportsbook line and an OVER / UNDER / PASS / NO_LINE recommendation.",
    column_descriptions=_PREDICTION_DESCRIPTIONS,
)

player_prop_prediction_history = TableSpec(
    dataset=DATASET,
    name="player_prop_prediction_history",
    columns=player_prop_predictions.columns,
    key=("game_id", "player_lookup", "system_id", "prediction_snapshot_time"),
    clustering=("player_lookup", "system_id", "game_date"),
    description="Every predictions run of the day, kept: the rows of player_prop_predictions as "
    "each lines snapshot left them. Grading grades, per player-game, the last of them made "
    "from a snapshot taken before tip-off.",
    column_descriptions=_PREDICTION_DESCRIPTIONS,
)

prediction_accuracy = TableSpec(
    dataset=DATASET,
    name="prediction_accuracy",
    columns={
        **_PLAYER_GAME,
        **_PREDICTION,
        "actual_points": pl.Int64(),
        "minutes": pl.Float64(),
        "absolute_error": pl.Float64(),
        "signed_error": pl.Float64(),
        "line_absolute_error": pl.Float64(),
        "within_3": pl.Boolean(),
        "within_5": pl.Boolean(),
        "prediction_correct": pl.Boolean(),
        "is_push": pl.Boolean(),
        "is_void": pl.Boolean(),
        "graded": pl.Boolean(),
        "units": pl.Float64(),
    },
    key=("game_id", "player_lookup", "system_id"),
    clustering=("player_lookup", "system_id", "game_date"),
    description="Each prediction against the player's real points and the line: errors, hit or "
    "miss of OVER / UNDER picks, pushes, voids, and the payout at the recorded price.",
    column_descriptions={
        "signed_error": "predicted_points - actual_points (positive: predicted too high)",
        "prediction_correct": "hit / miss of an OVER or UNDER pick; null for PASS, NO_LINE, push, "
        "void and games without a result yet",
        "is_void": "the game has a result but the player did not play (no box row or 0 minutes)",
        "graded": "the player played and the prediction had a line: counts in MAE and line MAE",
        "units": "profit of a 1-unit bet on the pick at the recorded price (push 0); null: no bet",
    },
)

system_daily_performance = TableSpec(
    dataset=DATASET,
    name="system_daily_performance",
    columns={
        "game_date": pl.Date(),
        "system_id": pl.String(),
        "predictions": pl.Int64(),
        "voids": pl.Int64(),
        "graded": pl.Int64(),
        "mae": pl.Float64(),
        "line_mae": pl.Float64(),
        "bias": pl.Float64(),
        "picks": pl.Int64(),
        "hits": pl.Int64(),
        "misses": pl.Int64(),
        "pushes": pl.Int64(),
        "hit_rate": pl.Float64(),
        "units": pl.Float64(),
        "roi": pl.Float64(),
    },
    key=("game_date", "system_id"),
    clustering=("system_id",),
    description="Per prediction system and day: MAE against the line's MAE on the same "
    "player-games, OVER / UNDER hit rate and ROI at the recorded prices.",
    column_descriptions={
        "mae": "MAE over graded player-games (played, with a line)",
        "line_mae": "the line's MAE on the same player-games",
        "bias": "mean predicted - actual over graded player-games",
        "picks": "settled OVER / UNDER picks (hits + misses + pushes)",
        "hit_rate": "hits / (hits + misses); pushes excluded",
        "roi": "units won per unit staked on settled picks (pushes stake and return)",
    },
)

TABLES = (
    points_model,
    player_prop_predictions,
    player_prop_prediction_history,
    prediction_accuracy,
    system_daily_performance,
)
