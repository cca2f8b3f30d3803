-- Generated from the table spec nba_raw.nbac_player_list by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_raw.nbac_player_list` (
  `game_date` DATE,
  `season` STRING,
  `player_id` INT64,
  `player_name` STRING,
  `player_lookup` STRING,
  `team_id` INT64,
  `team_abbr` STRING,
  `roster_status` INT64
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `team_abbr`
OPTIONS(description="The season's NBA.com player list (rosters) as fetched on each game day.");
