-- Generated from the table spec nba_raw.odds_player_props by `python -m nba_assets.warehouse.ddl`.
-- Do not edit: change the spec and regenerate.
CREATE TABLE IF NOT EXISTS `nba_raw.odds_player_props` (
  `game_date` DATE,
  `event_id` STRING,
  `commence_time` TIMESTAMP,
  `home_team` STRING,
  `away_team` STRING,
  `bookmaker` STRING,
  `market` STRING,
  `player_name` STRING,
  `player_lookup` STRING,
  `player_id` INT64,
  `line` FLOAT64,
  `over_price` FLOAT64,
  `under_price` FLOAT64,
  `last_update` TIMESTAMP,
  `snapshot_time` TIMESTAMP
)
PARTITION BY `game_date`
CLUSTER BY `player_lookup`, `market`, `bookmaker`
OPTIONS(description="The Odds API player props, append-only: one row per lines snapshot, book, market and player, from each event's payloads that changed since its last snapshot; player_id is null when the book's name matched no NBA.com player.");
