"""The production model store: LightGBM boosters and their metadata as objects in a GCS bucket."""

from __future__ import annotations

import lightgbm as lgb
from google.api_core.exceptions import NotFound
from google.cloud import storage

from nba_assets.models.store import ModelMetadata, check_id


class GcsModelStore:
    """Models as ``gs://<bucket>/[prefix/]<model_id>.txt`` (LightGBM text) and ``.json``.

    Same layout and order as the local store: the booster is uploaded before its sidecar, and
    each upload is atomic, so a reader that finds the metadata finds the matching model.
    """

    def __init__(
        self, bucket: str, client: storage.Client, prefix: str = "", timeout_seconds: int = 60
    ):
        self.bucket_name = bucket
        self.client = client
        self.prefix = prefix.strip("/")
        self.timeout_seconds = timeout_seconds
        self._bucket = client.bucket(bucket)

    def _names(self, model_id: str) -> tuple[str, str]:
        stem = f"{self.prefix}/{check_id(model_id)}" if self.prefix else check_id(model_id)
        return f"{stem}.txt", f"{stem}.json"

    def _download(self, name: str, missing: str) -> str:
        try:
            return self._bucket.blob(name).download_as_text(timeout=self.timeout_seconds)
        except NotFound:
            raise FileNotFoundError(f"{missing} in gs://{self.bucket_name}/{name}") from None

    def save(self, booster: lgb.Booster, metadata: ModelMetadata) -> str:
        model_name, meta_name = self._names(metadata.model_id)
        self._bucket.blob(model_name).upload_from_string(
            booster.model_to_string(), content_type="text/plain", timeout=self.timeout_seconds
        )
        self._bucket.blob(meta_name).upload_from_string(
            metadata.to_json(), content_type="application/json", timeout=self.timeout_seconds
        )
        return self.uri(metadata.model_id)

    def load(self, model_id: str) -> lgb.Booster:
        model_name, _ = self._names(model_id)
        return lgb.Booster(model_str=self._download(model_name, f"no model {model_id!r}"))

    def metadata(self, model_id: str) -> ModelMetadata:
        _, meta_name = self._names(model_id)
        return ModelMetadata.from_json(
            self._download(meta_name, f"no metadata for model {model_id!r}")
        )

    def exists(self, model_id: str) -> bool:
        return all(
            self._bucket.blob(name).exists(timeout=self.timeout_seconds)
            for name in self._names(model_id)
        )

    def uri(self, model_id: str) -> str:
        return f"gs://{self.bucket_name}/{self._names(model_id)[0]}"
