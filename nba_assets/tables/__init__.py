"""Every warehouse table's spec, by dataset; the registry both backends and ``sql/`` use."""

from __future__ import annotations

import importlib

from nba_assets.tables.spec import TableSpec

# One module per dataset; each exposes TABLES.
_DATASET_MODULES = ("raw", "analytics", "precompute", "predictions")


def all_tables() -> tuple[TableSpec, ...]:
    """Every table spec of the platform, in dependency order of their datasets."""
    specs: list[TableSpec] = []
    for name in _DATASET_MODULES:
        try:
            module = importlib.import_module(f"nba_assets.tables.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"nba_assets.tables.{name}":
                raise
            continue
        specs.extend(module.TABLES)
    return tuple(specs)


def spec_for(dataset: str, name: str) -> TableSpec:
    """The spec of ``dataset.name``; raises KeyError naming the table when there is none."""
    for spec in all_tables():
        if spec.dataset == dataset and spec.name == name:
            return spec
    raise KeyError(f"no table spec for {dataset}.{name}")
