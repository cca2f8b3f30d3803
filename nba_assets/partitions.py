"""The one partitioning of every table: the US/Eastern calendar day of the game."""

import dagster as dg

FIRST_GAME_DATE = "2017-10-17"
GAME_DATE_TIMEZONE = "America/New_York"

# end_offset=1 makes today's partition exist in the morning, before its games are played.
game_date_partitions = dg.DailyPartitionsDefinition(
    start_date=FIRST_GAME_DATE, timezone=GAME_DATE_TIMEZONE, end_offset=1
)
