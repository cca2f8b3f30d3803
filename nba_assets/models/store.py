"""Where trained points models live: a LightGBM booster as text plus a JSON sidecar of metadata."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

import lightgbm as lgb

_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclasses.dataclass(frozen=True)
class ModelMetadata:
    """What a stored model was trained on; ``trained_through < boundary`` always holds."""

    model_id: str
    system_id: str
    cadence: str
    boundary: dt.date
    train_start: dt.date
    trained_through: dt.date
    training_rows: int
    feature_set_version: str
    feature_names: list[str]
    validation_mae: float | None
    params: dict[str, Any]
    rounds: int
    trained_at: dt.datetime

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        for key in ("boundary", "train_start", "trained_through", "trained_at"):
            data[key] = data[key].isoformat()
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelMetadata:
        data = json.loads(text)
        for key in ("boundary", "train_start", "trained_through"):
            data[key] = dt.date.fromisoformat(data[key])
        data["trained_at"] = dt.datetime.fromisoformat(data["trained_at"])
        return cls(**data)


class ModelStore(Protocol):
    """Saves and loads boosters by model id: a local folder, or a GCS bucket (models_store_gcs)."""

    def save(self, booster: lgb.Booster, metadata: ModelMetadata) -> str:
        """Store the booster and its metadata under ``metadata.model_id``; returns its URI."""
        ...

    def load(self, model_id: str) -> lgb.Booster: ...

    def metadata(self, model_id: str) -> ModelMetadata: ...

    def exists(self, model_id: str) -> bool: ...

    def uri(self, model_id: str) -> str: ...


def check_id(model_id: str) -> str:
    if not _MODEL_ID.match(model_id):
        raise ValueError(f"invalid model id {model_id!r}: letters, digits, '_', '-', '.' only")
    return model_id


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalModelStore:
    """Models as ``<root>/<model_id>.txt`` (LightGBM text format) and ``<model_id>.json``.

    Each file is replaced atomically, and the booster is written before its sidecar, so a
    reader that finds the metadata finds the matching model.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def _paths(self, model_id: str) -> tuple[Path, Path]:
        name = check_id(model_id)
        return self.root / f"{name}.txt", self.root / f"{name}.json"

    def save(self, booster: lgb.Booster, metadata: ModelMetadata) -> str:
        model_path, meta_path = self._paths(metadata.model_id)
        _write_atomically(model_path, booster.model_to_string())
        _write_atomically(meta_path, metadata.to_json())
        return self.uri(metadata.model_id)

    def load(self, model_id: str) -> lgb.Booster:
        model_path, _ = self._paths(model_id)
        if not model_path.exists():
            raise FileNotFoundError(f"no model {model_id!r} in {self.root}")
        return lgb.Booster(model_str=model_path.read_text(encoding="utf-8"))

    def metadata(self, model_id: str) -> ModelMetadata:
        _, meta_path = self._paths(model_id)
        if not meta_path.exists():
            raise FileNotFoundError(f"no metadata for model {model_id!r} in {self.root}")
        return ModelMetadata.from_json(meta_path.read_text(encoding="utf-8"))

    def exists(self, model_id: str) -> bool:
        model_path, meta_path = self._paths(model_id)
        return model_path.exists() and meta_path.exists()

    def uri(self, model_id: str) -> str:
        return self._paths(model_id)[0].resolve().as_uri()
