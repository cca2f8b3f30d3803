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
  `line` FLOAT64 OPTIONS(description="the points line the prediction and its pick are judged against: the median across books in the last lines snapshot taken before the game's tip-off (when the predictions were made), or, for a market system's OVER / UNDER pick, the line of the book offer it takes"),
  `line_books` INT64,
  `line_source` STRING,
  `line_bookmaker` STRING OPTIONS(description="the book whose offer a market system's pick takes (the line and both prices are that book's); null: the median across books"),
  `line_snapshot_time` TIMESTAMP OPTIONS(description="when the snapshot the line comes from was taken (UTC)"),
  `commence_time` TIMESTAMP OPTIONS(description="tip-off of the game the line is for (UTC); null without a line"),
  `over_price` FLOAT64 OPTIONS(description="over price of the line, American odds (the median across books, or the book's, see line_bookmaker)"),
  `under_price` FLOAT64 OPTIONS(description="under price of the line, American odds (as over_price)"),
  `edge` FLOAT64 OPTIONS(description="predicted_points - line"),
  `over_probability` FLOAT64 OPTIONS(description="calibrated probability that the points go over the line (the market systems, which pick the book offer with the best expected value at its price); null for the others"),
  `recommendation` STRING,
  `prediction_snapshot_time` TIMESTAMP OPTIONS(description="the day's latest lines snapshot when the predictions were made (UTC; the day's first second, US/Eastern, when none had landed)"),
  `feature_set_version` STRING
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `system_id`, `game_date`
OPTIONS(description="Every predictions run of the day, kept: the rows of player_prop_predictions as each lines snapshot left them. Grading grades, per player-game, the last of them made from a snapshot taken before tip-off.");
