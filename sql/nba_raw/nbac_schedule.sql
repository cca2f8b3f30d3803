-- Generated from the table spec nba_raw.nbac_schedule by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_raw.nbac_schedule` (
  `game_date` DATE,
  `game_id` STRING,
  `season` STRING,
  `season_type` STRING,
  `game_status` INT64,
  `home_team_id` INT64,
  `home_team_abbr` STRING,
  `away_team_id` INT64,
  `away_team_abbr` STRING,
  `home_pts` INT64,
  `away_pts` INT64
)
PARTITION BY `game_date`
CLUSTER BY `game_id`
OPTIONS(description="The day's games from the NBA.com scoreboard, with status (1 scheduled, 2 live, 3 final) and final scores.");
