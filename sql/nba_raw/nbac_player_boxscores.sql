-- Generated from the table spec nba_raw.nbac_player_boxscores by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_raw.nbac_player_boxscores` (
  `game_date` DATE,
  `game_id` STRING,
  `season` STRING,
  `season_type` STRING,
  `player_id` INT64,
  `player_name` STRING,
  `player_lookup` STRING,
  `team_id` INT64,
  `team_abbr` STRING,
  `opponent_team_abbr` STRING,
  `is_home` BOOL,
  `wl` STRING,
  `minutes` FLOAT64,
  `pts` INT64,
  `fgm` INT64 OPTIONS(description="null where the source season has no full shooting box (see the data README)"),
  `fga` INT64 OPTIONS(description="null where the source season has no full shooting box (see the data README)"),
  `fg3m` INT64 OPTIONS(description="null where the source season has no full shooting box (see the data README)"),
  `fg3a` INT64 OPTIONS(description="null where the source season has no full shooting box (see the data README)"),
  `ftm` INT64 OPTIONS(description="null where the source season has no full shooting box (see the data README)"),
  `fta` INT64 OPTIONS(description="null where the source season has no full shooting box (see the data README)"),
  `oreb` INT64,
  `dreb` INT64,
  `reb` INT64,
  `ast` INT64,
  `stl` INT64,
  `blk` INT64,
  `tov` INT64,
  `pf` INT64,
  `plus_minus` FLOAT64
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `game_id`
OPTIONS(description="Player box scores of the day's finished games (NBA.com league game log): one row per player per finished game.");
