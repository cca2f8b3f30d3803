-- Generated from the table spec nba_predictions.system_daily_performance by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_predictions.system_daily_performance` (
  `game_date` DATE,
  `system_id` STRING,
  `predictions` INT64,
  `voids` INT64,
  `graded` INT64,
  `mae` FLOAT64 OPTIONS(description="MAE over graded player-games (played, with a line)"),
  `line_mae` FLOAT64 OPTIONS(description="the line's MAE on the same player-games"),
  `bias` FLOAT64 OPTIONS(description="mean predicted - actual over graded player-games"),
  `picks` INT64 OPTIONS(description="settled OVER / UNDER picks (hits + misses + pushes)"),
  `hits` INT64,
  `misses` INT64,
  `pushes` INT64,
  `hit_rate` FLOAT64 OPTIONS(description="hits / (hits + misses); pushes excluded"),
  `units` FLOAT64,
  `roi` FLOAT64 OPTIONS(description="units won per unit staked on settled picks (pushes stake and return)")
)
PARTITION BY `game_date`
CLUSTER BY `system_id`
OPTIONS(description="Per prediction system and day: MAE against the line's MAE on the same player-games, OVER / UNDER hit rate and ROI at the recorded prices.");
