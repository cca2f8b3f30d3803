-- Generated from the table spec nba_analytics.player_game_summary by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_analytics.player_game_summary` (
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
  `starter` BOOL OPTIONS(description="always null: no source gives the starting five"),
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
  `dreb` INT64,
  `reb` INT64,
  `ast` INT64,
  `stl` INT64,
  `blk` INT64,
  `tov` INT64,
  `pf` INT64,
  `plus_minus` FLOAT64,
  `ts_pct` FLOAT64 OPTIONS(description="pts / (2 * (fga + 0.44 * fta)); null where the season has no full shooting box or without attempts"),
  `efg_pct` FLOAT64 OPTIONS(description="(fgm + 0.5 * fg3m) / fga; null where the season has no full shooting box or without field-goal attempts"),
  `usage_rate` FLOAT64 OPTIONS(description="usage proxy (fga + 0.44 * fta + tov) / the team's same; null where the season has no full shooting box"),
  `days_rest` INT64 OPTIONS(description="full days off since the previous game, any season (0 = back-to-back); null before the first"),
  `points_line` FLOAT64 OPTIONS(description="median player_points line across books that day; null without a line"),
  `line_books` INT64 OPTIONS(description="books quoting the line; null without a line"),
  `over_under_result` STRING OPTIONS(description="OVER / UNDER / PUSH of pts against points_line; null without a line")
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `game_id`
OPTIONS(description="One row per player per game: box score, efficiency, rest and the day's line.");
