-- Generated from the table spec nba_precompute.player_daily_cache by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_precompute.player_daily_cache` (
  `game_date` DATE,
  `game_id` STRING,
  `player_id` INT64,
  `player_lookup` STRING,
  `team_abbr` STRING,
  `opponent_team_abbr` STRING,
  `season` STRING,
  `last_game_date` DATE OPTIONS(description="the player's last game before game_date, any season"),
  `games_played_season` INT64 OPTIONS(description="games this season before the day"),
  `points_avg_last_5` FLOAT64 OPTIONS(description="mean points over the last 5 games before the day (any season)"),
  `points_avg_last_10` FLOAT64 OPTIONS(description="mean points over the last 10 games before the day (any season)"),
  `points_avg_season` FLOAT64 OPTIONS(description="mean points this season before the day; null before the first game"),
  `points_std_last_10` FLOAT64 OPTIONS(description="standard deviation of points over the last 10 games (needs 2)"),
  `points_avg_prev_season` FLOAT64 OPTIONS(description="mean points in the previous regular season; null if absent"),
  `minutes_avg_last_10` FLOAT64 OPTIONS(description="mean minutes over the last 10 games"),
  `minutes_change` FLOAT64 OPTIONS(description="mean minutes of the last 3 games minus the last-10 mean (needs 3)"),
  `points_per_minute_last_10` FLOAT64 OPTIONS(description="points per minute over the last 10 games"),
  `usage_last_10` FLOAT64 OPTIONS(description="mean usage proxy over the last 10 games with a shooting box"),
  `usage_trend` FLOAT64 OPTIONS(description="mean usage of the last 3 games minus usage_last_10 (needs 3)"),
  `recent_trend` FLOAT64 OPTIONS(description="mean points of the last 3 games minus points_avg_last_10 (needs 3)"),
  `three_pt_rate_last_10` FLOAT64 OPTIONS(description="3PA / FGA over the last 10 games with a shooting box"),
  `ft_rate_last_10` FLOAT64 OPTIONS(description="FTA / FGA over the last 10 games with a shooting box"),
  `ts_pct_last_10` FLOAT64 OPTIONS(description="true shooting over the last 10 games with a shooting box")
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `team_abbr`
OPTIONS(description="Each expected player's rolling form as of the day. Uses only games before game_date.");
