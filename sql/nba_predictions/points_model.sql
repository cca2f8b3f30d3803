-- Generated from the table spec nba_predictions.points_model by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_predictions.points_model` (
  `game_date` DATE,
  `system_id` STRING,
  `model_id` STRING OPTIONS(description="null when there was not enough history before the boundary to train"),
  `cadence` STRING,
  `boundary` DATE OPTIONS(description="first day the model serves; it was trained on rows with game_date < boundary"),
  `train_start` DATE,
  `trained_through` DATE OPTIONS(description="last game_date among the training rows"),
  `training_rows` INT64,
  `validation_mae` FLOAT64 OPTIONS(description="MAE on the last days before the boundary of a refit without those days"),
  `feature_set_version` STRING,
  `artifact_uri` STRING
)
PARTITION BY `game_date`
CLUSTER BY `system_id`, `model_id`
OPTIONS(description="The LightGBM points model serving each game day (a registry of stored models): the model for day D was trained only on player-games before its boundary (boundary <= D).");
