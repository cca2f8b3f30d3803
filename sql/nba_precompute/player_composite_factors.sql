-- Generated from the table spec nba_precompute.player_composite_factors by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_precompute.player_composite_factors` (
  `game_date` DATE,
  `game_id` STRING,
  `player_id` INT64,
  `player_lookup` STRING,
  `team_abbr` STRING,
  `opponent_team_abbr` STRING,
  `fatigue_score` FLOAT64 OPTIONS(description="0-100 load score from back-to-backs, games in 7 days, minutes and rest"),
  `rest_advantage` FLOAT64 OPTIONS(description="team's rest days minus the opponent's, each capped at 3"),
  `pace_factor` FLOAT64 OPTIONS(description="mean of the team's and the opponent's pace over their last 10 games; null when either is unknown"),
  `usage_trend` FLOAT64,
  `recent_trend` FLOAT64
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `team_abbr`
OPTIONS(description="Each expected player's situational factors for the day: fatigue, rest against the opponent, expected pace, usage and scoring trends. Uses only games before game_date.");
