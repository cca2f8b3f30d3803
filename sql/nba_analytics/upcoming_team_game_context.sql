-- Generated from the table spec nba_analytics.upcoming_team_game_context by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_analytics.upcoming_team_game_context` (
  `game_date` DATE,
  `game_id` STRING,
  `season` STRING,
  `season_type` STRING,
  `team_id` INT64,
  `team_abbr` STRING,
  `opponent_team_id` INT64,
  `opponent_team_abbr` STRING,
  `is_home` BOOL,
  `team_game_number` INT64 OPTIONS(description="the game's number in the team's season (scheduled games)"),
  `days_rest` INT64 OPTIONS(description="full days off since the previous game, any season (0 = back-to-back); null before the first"),
  `back_to_back` BOOL,
  `games_last_7_days` INT64 OPTIONS(description="the team's games in the 7 days before game_date"),
  `opponent_days_rest` INT64,
  `opponent_back_to_back` BOOL
)
PARTITION BY `game_date`
CLUSTER BY `team_abbr`, `game_id`
OPTIONS(description="Each team playing on the day, from the morning schedule: opponent, venue, rest.");
