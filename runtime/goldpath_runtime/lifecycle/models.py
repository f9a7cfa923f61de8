"""The lifecycle adapter for registered models (MLflow's model registry)."""

from __future__ import annotations

from datetime import UTC, datetime

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .versions import Version, settled

HISTORY_TAG = "champion_history"
_ABSENT = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}


def _version(found: ModelVersion) -> Version:
    stamp = found.creation_timestamp
    registered = datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else None
    return Version(str(found.version), dict(found.tags or {}), registered)


class ModelVersions:
    kind = "model"

    def __init__(self, client: MlflowClient, name: str) -> None:
        self.client = client
        self.name = name

    def registered(self) -> bool:
        try:
            self.client.get_registered_model(self.name)
        except MlflowException as exc:
            if exc.error_code in _ABSENT:
                return False
            raise
        return True

    def at_alias(self, alias: str) -> Version | None:
        try:
            return _version(self.client.get_model_version_by_alias(self.name, alias))
        except MlflowException as exc:
            if exc.error_code in _ABSENT:
                return None
            raise

    def get(self, number: str) -> Version | None:
        try:
            return _version(self.client.get_model_version(self.name, number))
        except MlflowException as exc:
            if exc.error_code in _ABSENT:
                return None
            raise

    def set_alias(self, alias: str, number: str) -> None:
        settled(lambda: self.client.set_registered_model_alias(self.name, alias, number))

    def delete_alias(self, alias: str) -> None:
        settled(lambda: self.client.delete_registered_model_alias(self.name, alias))

    def set_tag(self, number: str, key: str, value: str) -> None:
        settled(lambda: self.client.set_model_version_tag(self.name, number, key, value))

    def history(self) -> list[str]:
        raw = self.client.get_registered_model(self.name).tags.get(HISTORY_TAG, "")
        return [v for v in raw.split(",") if v]

    def set_history(self, numbers: list[str]) -> None:
        joined = ",".join(numbers)
        settled(lambda: self.client.set_registered_model_tag(self.name, HISTORY_TAG, joined))
