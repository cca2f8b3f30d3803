-- Generated from the table spec nba_raw.odds_events by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_raw.odds_events` (
  `game_date` DATE,
  `event_id` STRING,
  `commence_time` TIMESTAMP,
  `home_team` STRING,
  `away_team` STRING
)
PARTITION BY `game_date`
CLUSTER BY `event_id`
OPTIONS(description="The day's NBA events as The Odds API lists them.");
