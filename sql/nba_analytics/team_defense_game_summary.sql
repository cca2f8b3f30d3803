-- Generated from the table spec nba_analytics.team_defense_game_summary by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_analytics.team_defense_game_summary` (
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
  `points_allowed` INT64,
  `opp_fgm` INT64,
  `opp_fga` INT64,
  `opp_fg3m` INT64,
  `opp_fg3a` INT64,
  `opp_fta` INT64,
  `opp_oreb` INT64,
  `opp_tov` INT64,
  `dreb` INT64,
  `stl` INT64,
  `blk` INT64,
  `opp_efg_pct` FLOAT64,
  `opp_ts_pct` FLOAT64,
  `opp_possessions` FLOAT64 OPTIONS(description="the opponent's fga + 0.44 * fta - oreb + tov; null where the season has no full shooting box"),
  `game_possessions` FLOAT64 OPTIONS(description="mean of both teams' possessions; null where the season has no full shooting box"),
  `pace` FLOAT64 OPTIONS(description="game possessions per 48 minutes; null where the season has no full shooting box or the team's minutes"),
  `def_rating` FLOAT64 OPTIONS(description="100 * points_allowed / game_possessions; null where the season has no full shooting box")
)
PARTITION BY `game_date`
CLUSTER BY `team_abbr`, `game_id`
OPTIONS(description="One row per team per game: points and efficiency allowed, possessions, pace.");
