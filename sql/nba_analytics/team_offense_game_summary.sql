-- Generated from the table spec nba_analytics.team_offense_game_summary by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_analytics.team_offense_game_summary` (
  `game_date` DATE,
  `game_id` STRING,
  `season` STRING,
  `season_type` STRING,
  `team_id` INT64,
  `team_abbr` STRING,
  `opponent_team_id` INT64,
  `opponent_team_abbr` STRING,
  `is_home` BOOL,
  `wl` STRING,
  `minutes` FLOAT64,
  `pts` INT64,
  `fgm` INT64,
  `fga` INT64,
  `fg3m` INT64,
  `fg3a` INT64,
  `ftm` INT64,
  `fta` INT64,
  `oreb` INT64,
  `reb` INT64,
  `ast` INT64,
  `tov` INT64,
  `efg_pct` FLOAT64,
  `ts_pct` FLOAT64,
  `possessions` FLOAT64 OPTIONS(description="fga + 0.44 * fta - oreb + tov; null where the season has no full shooting box"),
  `game_possessions` FLOAT64 OPTIONS(description="mean of both teams' possessions; null where the season has no full shooting box"),
  `pace` FLOAT64 OPTIONS(description="game possessions per 48 minutes; null where the season has no full shooting box or the team's minutes"),
  `off_rating` FLOAT64 OPTIONS(description="100 * pts / game_possessions; null where the season has no full shooting box")
)
PARTITION BY `game_date`
CLUSTER BY `team_abbr`, `game_id`
OPTIONS(description="One row per team per game: points scored, shooting efficiency, possessions, pace.");
