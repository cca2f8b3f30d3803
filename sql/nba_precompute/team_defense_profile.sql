-- Generated from the table spec nba_precompute.team_defense_profile by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_precompute.team_defense_profile` (
  `game_date` DATE,
  `game_id` STRING,
  `team_id` INT64,
  `team_abbr` STRING,
  `opponent_team_abbr` STRING,
  `games_played_season` INT64,
  `points_allowed_avg_last_10` FLOAT64,
  `points_allowed_avg_season` FLOAT64,
  `def_rating_last_10` FLOAT64 OPTIONS(description="100 * points allowed / possessions over the last 10 games with a shooting box; null without one"),
  `def_rating_season` FLOAT64,
  `opp_efg_pct_last_10` FLOAT64,
  `pace_last_10` FLOAT64 OPTIONS(description="mean pace over the last 10 games with a shooting box; null without one")
)
PARTITION BY `game_date`
CLUSTER BY `team_abbr`, `game_id`
OPTIONS(description="Each team playing on the day: points and efficiency it allowed and its pace, over its last 10 games and the season so far. Uses only games before game_date.");
