-- Generated from the table spec nba_analytics.upcoming_player_game_context by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_analytics.upcoming_player_game_context` (
  `game_date` DATE,
  `game_id` STRING,
  `season` STRING,
  `season_type` STRING,
  `player_id` INT64,
  `player_name` STRING,
  `player_lookup` STRING,
  `team_id` INT64,
  `team_abbr` STRING OPTIONS(description="team of the player's last box-score game this season, else the list's team"),
  `opponent_team_abbr` STRING,
  `is_home` BOOL,
  `days_rest` INT64 OPTIONS(description="full days off since the previous game, any season (0 = back-to-back); null before the first"),
  `back_to_back` BOOL,
  `games_last_7_days` INT64 OPTIONS(description="the player's games in the 7 days before game_date"),
  `points_line` FLOAT64 OPTIONS(description="median player_points line across books; null without a line"),
  `line_books` INT64,
  `on_player_list` BOOL OPTIONS(description="the player is on the latest player list fetched on or before the day"),
  `has_recent_activity` BOOL OPTIONS(description="the player played for this team in one of its last 5 games")
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `team_abbr`
OPTIONS(description="Each player expected to play on the day, built in the morning from the schedule, the player list and earlier box scores only: team, opponent, rest and the day's points line.");
