"""What the lifecycle needs of a registry, whatever it versions: the adapter protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Version:
    """One registered version: its number, its tags, when it was registered."""

    number: str
    tags: dict[str, str] = field(default_factory=dict)
    registered_at: datetime | None = None


class Versions(Protocol):
    """A name in an MLflow registry whose versions carry aliases: a registered model
    (`ModelVersions`) or a prompt (`PromptVersions`). The lifecycle speaks only this."""

    kind: str  # "model" or "prompt": how messages name it
    name: str

    def registered(self) -> bool: ...
    def at_alias(self, alias: str) -> Version | None: ...
    def get(self, number: str) -> Version | None: ...
    def set_alias(self, alias: str, number: str) -> None: ...
    def delete_alias(self, alias: str) -> None: ...
    def set_tag(self, number: str, key: str, value: str) -> None: ...
    def history(self) -> list[str]: ...
    def set_history(self, numbers: list[str]) -> None: ...
