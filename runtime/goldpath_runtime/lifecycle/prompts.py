"""The lifecycle adapter for prompts (MLflow's prompt registry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .versions import Version, settled

HISTORY_TAG = "champion_history"


def _version(found: Any) -> Version:
    stamp = getattr(found, "creation_timestamp", None)
    registered = datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else None
    return Version(str(found.version), dict(found.tags or {}), registered)


class PromptVersions:
    kind = "prompt"

    def __init__(self, client: MlflowClient, name: str) -> None:
        self.client = client
        self.name = name

    def registered(self) -> bool:
        try:
            return self.client.get_prompt(self.name) is not None
        except MlflowException:
            return False

    def at_alias(self, alias: str) -> Version | None:
        try:
            return _version(self.client.get_prompt_version_by_alias(self.name, alias))
        except MlflowException:
            return None

    def get(self, number: str) -> Version | None:
        try:
            found = self.client.get_prompt_version(self.name, number)
        except MlflowException:
            return None
        return None if found is None else _version(found)

    def set_alias(self, alias: str, number: str) -> None:
        settled(lambda: mlflow.genai.set_prompt_alias(self.name, alias=alias, version=int(number)))

    def delete_alias(self, alias: str) -> None:
        settled(lambda: mlflow.genai.delete_prompt_alias(self.name, alias=alias))

    def set_tag(self, number: str, key: str, value: str) -> None:
        settled(lambda: self.client.set_prompt_version_tag(self.name, number, key, value))

    def history(self) -> list[str]:
        prompt = self.client.get_prompt(self.name)
        raw = (prompt.tags or {}).get(HISTORY_TAG, "") if prompt is not None else ""
        return [v for v in raw.split(",") if v]

    def set_history(self, numbers: list[str]) -> None:
        settled(lambda: self.client.set_prompt_tag(self.name, HISTORY_TAG, ",".join(numbers)))
