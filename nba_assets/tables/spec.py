"""A table's single description, from which both warehouse backends and ``sql/`` are derived."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

PARTITION_COLUMN = "game_date"


@dataclass(frozen=True)
class TableSpec:
    """One warehouse table: where it lives, its columns, how it is partitioned and clustered.

    The null policy says which columns may be null in every row of a source payload (a raw
    table's parsed payload). By default a column is expected: present, and not null in all the
    rows of a payload, so a field the source renamed or stopped filling fails loudly instead of
    landing as a column of nulls. Single null values are a matter of the column's type and the
    parser, not of this policy.

    Attributes:
        nullable: columns that may be null in every row of any payload (scores of games not yet
            played, player ids of unmatched sportsbook names).
        null_in_seasons: columns that may be null in every row only of payloads of the listed
            seasons (``"2025-26"``), where the source has no such field; in other seasons they
            are expected.
    """

    dataset: str
    name: str
    columns: dict[str, pl.DataType]
    key: tuple[str, ...]
    clustering: tuple[str, ...]
    description: str
    column_descriptions: dict[str, str] = field(default_factory=dict)
    partition_column: str = PARTITION_COLUMN
    nullable: frozenset[str] = frozenset()
    null_in_seasons: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        named = (self.partition_column, *self.key, *self.clustering, *self.column_descriptions)
        for col in (*named, *self.nullable, *self.null_in_seasons):
            if col not in self.columns:
                raise ValueError(f"{self.dataset}.{self.name}: column {col!r} is not in the schema")
        for col in (self.partition_column, *self.key):
            if col in self.nullable or col in self.null_in_seasons:
                raise ValueError(f"{self.dataset}.{self.name}: key column {col!r} cannot be null")
        both = self.nullable & self.null_in_seasons.keys()
        if both:
            raise ValueError(
                f"{self.dataset}.{self.name}: {sorted(both)} are both nullable and null only in"
                " some seasons; declare each column once"
            )
        if len(self.clustering) > 4:
            raise ValueError(
                f"{self.dataset}.{self.name}: BigQuery allows at most 4 clustering columns"
            )

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema(self.columns)

    def dataset_name(self, prefix: str = "") -> str:
        return f"{prefix}{self.dataset}"

    def qualified_name(self, prefix: str = "") -> str:
        return f"{prefix}{self.dataset}.{self.name}"

    def may_be_all_null(self, column: str, season: str | None = None) -> bool:
        """Whether ``column`` may be null in every row of a payload of ``season``."""
        return column in self.nullable or season in self.null_in_seasons.get(column, ())

    def all_null_columns(self, df: pl.DataFrame) -> list[tuple[str, str | None, int]]:
        """The columns of ``df`` null in all rows of a season where the policy expects values.

        ``df`` is one payload's rows; its ``season`` column (when it has one) says which
        seasons they belong to. Returns ``(column, season, rows)`` for each offence, season None
        when ``df`` has no season column; an empty frame has none.
        """
        if df.is_empty():
            return []
        columns = [c for c in self.columns if c in df.columns]
        if "season" in df.columns:
            parts = df.partition_by("season", as_dict=True, maintain_order=True)
            by_season = [(None if k[0] is None else str(k[0]), part) for k, part in parts.items()]
        else:
            by_season = [(None, df)]
        offences = []
        for season, part in by_season:
            nulls = part.select(pl.col(columns).null_count()).row(0, named=True)
            for column in columns:
                if nulls[column] == part.height and not self.may_be_all_null(column, season):
                    offences.append((column, season, part.height))
        return offences

    def conform(self, df: pl.DataFrame) -> pl.DataFrame:
        """Return ``df`` with exactly the spec's columns, in order and type.

        Raises:
            ValueError: a column is missing or unexpected, or a value does not fit its type.
        """
        missing = [c for c in self.columns if c not in df.columns]
        extra = [c for c in df.columns if c not in self.columns]
        if missing or extra:
            raise ValueError(
                f"{self.qualified_name()}: frame does not match the table spec"
                f" (missing columns {missing}, unexpected columns {extra})"
            )
        try:
            return df.select(pl.col(c).cast(t, strict=True) for c, t in self.columns.items())
        except pl.exceptions.PolarsError as exc:  # the cast names the column that failed
            raise ValueError(
                f"{self.qualified_name()}: a column does not fit its type: {exc}"
            ) from exc

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)
