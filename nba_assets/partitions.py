"""The one partitioning of every table: the US/Eastern calendar day of the game."""

import dagster as dg

FIRST_GAME_DATE = "2017-10-17"
GAME_DATE_TIMEZONE = "America/New_York"

# end_offset=1 makes today's partition exist in the morning, before its games are played.
game_date_partitions = dg.DailyPartitionsDefinition(
    start_date=FIRST_GAME_DATE, timezone=GAME_DATE_TIMEZONE, end_offset=1
)


# Dagster's (public) tags that make one run materialize a range of partitions.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(start: str, end: str) -> dict[str, str]:
    """The tags of a single run over the partitions ``start..end`` (ISO dates)."""
    return {RANGE_START_TAG: start, RANGE_END_TAG: end}
