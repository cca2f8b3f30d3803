-- Generated from the table spec nba_raw.nbac_team_boxscores by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_raw.nbac_team_boxscores` (
  `game_date` DATE,
  `game_id` STRING,
  `season` STRING,
  `season_type` STRING,
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
CLUSTER BY `team_abbr`, `game_id`
OPTIONS(description="Team box scores of the day's finished games (NBA.com league game log): one row per team per finished game.");
