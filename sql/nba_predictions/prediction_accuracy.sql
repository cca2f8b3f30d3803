-- Generated from the table spec nba_predictions.prediction_accuracy by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_predictions.prediction_accuracy` (
  `game_date` DATE,
  `game_id` STRING,
  `player_id` INT64,
  `player_lookup` STRING,
  `team_abbr` STRING,
  `opponent_team_abbr` STRING,
  `system_id` STRING,
  `model_version` STRING,
  `predicted_points` FLOAT64,
  `confidence` FLOAT64,
  `line` FLOAT64,
  `line_books` INT64,
  `line_source` STRING,
  `line_bookmaker` STRING,
  `line_snapshot_time` TIMESTAMP,
  `commence_time` TIMESTAMP,
  `over_price` FLOAT64,
  `under_price` FLOAT64,
  `edge` FLOAT64,
  `over_probability` FLOAT64,
  `recommendation` STRING,
  `prediction_snapshot_time` TIMESTAMP,
  `actual_points` INT64,
  `minutes` FLOAT64,
  `absolute_error` FLOAT64,
  `signed_error` FLOAT64 OPTIONS(description="predicted_points - actual_points (positive: predicted too high)"),
  `line_absolute_error` FLOAT64,
  `within_3` BOOL,
  `within_5` BOOL,
  `prediction_correct` BOOL OPTIONS(description="hit / miss of an OVER or UNDER pick; null for PASS, NO_LINE, push, void and games without a result yet"),
  `is_push` BOOL,
  `is_void` BOOL OPTIONS(description="the game has a result but the player did not play (no box row or 0 minutes)"),
  `graded` BOOL OPTIONS(description="the player played and the prediction had a line: counts in MAE and line MAE"),
  `units` FLOAT64 OPTIONS(description="profit of a 1-unit bet on the pick at the recorded price (push 0); null: no bet")
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `system_id`, `game_date`
OPTIONS(description="Each prediction against the player's real points and the line: errors, hit or miss of OVER / UNDER picks, pushes, voids, and the payout at the recorded price.");
