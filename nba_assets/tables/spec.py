"""A table's single description, from which both warehouse backends and ``sql/`` are derived."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

PARTITION_COLUMN = "game_date"


@dataclass(frozen=True)
class TableSpec:
    """One warehouse table: where it lives, its columns, how it is partitioned and clustered."""

    dataset: str
    name: str
    columns: dict[str, pl.DataType]
    key: tuple[str, ...]
    clustering: tuple[str, ...]
    description: str
    column_descriptions: dict[str, str] = field(default_factory=dict)
    partition_column: str = PARTITION_COLUMN

    def __post_init__(self) -> None:
        for col in (self.partition_column, *self.key, *self.clustering, *self.column_descriptions):
            if col not in self.columns:
                raise ValueError(f"{self.dataset}.{self.name}: column {col!r} is not in the schema")
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
