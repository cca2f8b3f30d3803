-- Generated from the table spec nba_predictions.player_prop_prediction_history by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_predictions.player_prop_prediction_history` (
  `game_date` DATE,
  `game_id` STRING,
  `player_id` INT64,
  `player_lookup` STRING,
  `team_abbr` STRING,
  `opponent_team_abbr` STRING,
  `system_id` STRING,
  `model_version` STRING,
  `predicted_points` FLOAT64,
  `confidence` FLOAT64 OPTIONS(description="0..1: how much history stands behind the prediction and how steady it is"),
  `line` FLOAT64 OPTIONS(description="median points line across books in the last lines snapshot taken before the game's tip-off (when the predictions were made)"),
  `line_books` INT64,
  `line_source` STRING,
  `line_snapshot_time` TIMESTAMP OPTIONS(description="when the snapshot the line comes from was taken (UTC)"),
  `commence_time` TIMESTAMP OPTIONS(description="tip-off of the game the line is for (UTC); null without a line"),
  `over_price` FLOAT64 OPTIONS(description="median over price across books, American odds"),
  `under_price` FLOAT64 OPTIONS(description="median under price across books, American odds"),
  `edge` FLOAT64 OPTIONS(description="predicted_points - line"),
  `over_probability` FLOAT64 OPTIONS(description="calibrated probability that the points go over the line (the market systems, which pick from its expected value at the recorded price); null for the others"),
  `recommendation` STRING,
  `bet_bookmaker` STRING OPTIONS(description="the book whose offer an OVER / UNDER pick takes (the market systems: the offer with the best expected value); null for the other systems' picks, which take the median line and price, and for PASS / NO_LINE"),
  `bet_line` FLOAT64 OPTIONS(description="the line the pick is graded against; null for PASS / NO_LINE"),
  `bet_price` FLOAT64 OPTIONS(description="the price of the pick's side, American odds; null for PASS / NO_LINE"),
  `bet_probability` FLOAT64 OPTIONS(description="calibrated probability that the pick wins at bet_line (the market systems, which pick when its expected value at bet_price clears the day's threshold); null for the others"),
  `prediction_snapshot_time` TIMESTAMP OPTIONS(description="the day's latest lines snapshot when the predictions were made (UTC; the day's first second, US/Eastern, when none had landed)"),
  `feature_set_version` STRING
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `system_id`, `game_date`
OPTIONS(description="Every predictions run of the day, kept: the rows of player_prop_predictions as each lines snapshot left them. Grading grades, per player-game, the last of them made from a snapshot taken before tip-off.");
