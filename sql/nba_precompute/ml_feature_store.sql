-- Generated from the table spec nba_precompute.ml_feature_store by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_precompute.ml_feature_store` (
  `game_date` DATE,
  `game_id` STRING,
  `player_id` INT64,
  `player_lookup` STRING,
  `team_abbr` STRING,
  `opponent_team_abbr` STRING,
  `feature_set_version` STRING,
  `points_avg_last_5` FLOAT64 OPTIONS(description="mean points over the last 5 games before the day (any season)"),
  `points_avg_last_10` FLOAT64 OPTIONS(description="mean points over the last 10 games before the day (any season)"),
  `points_avg_season` FLOAT64 OPTIONS(description="mean points this season before the day; null before the first game"),
  `points_std_last_10` FLOAT64 OPTIONS(description="standard deviation of points over the last 10 games (needs 2)"),
  `points_avg_prev_season` FLOAT64 OPTIONS(description="mean points in the previous regular season; null if absent"),
  `minutes_avg_last_10` FLOAT64 OPTIONS(description="mean minutes over the last 10 games"),
  `minutes_change` FLOAT64 OPTIONS(description="mean minutes of the last 3 games minus the last-10 mean (needs 3)"),
  `points_per_minute_last_10` FLOAT64 OPTIONS(description="points per minute over the last 10 games"),
  `games_played_season` FLOAT64 OPTIONS(description="games this season before the day"),
  `games_last_7_days` FLOAT64 OPTIONS(description="the player's games in the 7 days before the day"),
  `days_rest` FLOAT64 OPTIONS(description="full days off since the player's last game; null without one"),
  `back_to_back` FLOAT64 OPTIONS(description="1 when the player's last game was the day before"),
  `fatigue_score` FLOAT64 OPTIONS(description="0-100 load score from back-to-backs, games in 7 days, minutes and rest"),
  `rest_advantage` FLOAT64 OPTIONS(description="team's rest days minus the opponent's, each capped at 3"),
  `usage_last_10` FLOAT64 OPTIONS(description="mean usage proxy over the last 10 games with a shooting box"),
  `usage_trend` FLOAT64 OPTIONS(description="mean usage of the last 3 games minus usage_last_10 (needs 3)"),
  `recent_trend` FLOAT64 OPTIONS(description="mean points of the last 3 games minus points_avg_last_10 (needs 3)"),
  `is_home` FLOAT64 OPTIONS(description="1 at home, 0 away"),
  `is_playoffs` FLOAT64 OPTIONS(description="1 for play-in and playoff games"),
  `three_pt_rate_last_10` FLOAT64 OPTIONS(description="3PA / FGA over the last 10 games with a shooting box"),
  `ft_rate_last_10` FLOAT64 OPTIONS(description="FTA / FGA over the last 10 games with a shooting box"),
  `ts_pct_last_10` FLOAT64 OPTIONS(description="true shooting over the last 10 games with a shooting box"),
  `opponent_points_allowed_avg` FLOAT64 OPTIONS(description="points per game the opponent allowed, its last 10 games"),
  `opponent_def_rating` FLOAT64 OPTIONS(description="points per 100 possessions the opponent allowed, its last 10 games"),
  `opponent_pace` FLOAT64 OPTIONS(description="the opponent's mean pace over its last 10 games"),
  `team_pace` FLOAT64 OPTIONS(description="the team's mean pace over its last 10 games"),
  `team_off_rating` FLOAT64 OPTIONS(description="the team's points per 100 possessions over its last 10 games"),
  `team_win_rate` FLOAT64 OPTIONS(description="the team's share of wins this season; null before its first game"),
  `feature_quality` FLOAT64 OPTIONS(description="0-100: weighted share of the features that are not null"),
  `missing_inputs` STRING OPTIONS(description="comma-joined names of the null features (empty when none)")
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `team_abbr`, `game_id`
OPTIONS(description="One feature vector per expected player per game day (see feature_set_version). Uses only games before game_date.");
