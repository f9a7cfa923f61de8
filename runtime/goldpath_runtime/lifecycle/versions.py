"""What the lifecycle needs of a registry, whatever it versions: the adapter protocol."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

T = TypeVar("T")
# What a SQL store says when two writers insert the same tag or alias at once.
_RACE = ("UNIQUE constraint failed", "duplicate key value", "IntegrityError")
_WRITE_ATTEMPTS = 6


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


def settled(write: Callable[[], T]) -> T:
    """`write` (setting a tag, an alias, a history), retried when it lost a race: MLflow's
    SQL store writes one as select-then-insert, so of two decisions writing the same key at
    once, the second fails on the unique constraint where a moment later it would have
    updated. The writes are idempotent; anything else is raised at once."""
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            return write()
        except Exception as exc:
            if attempt == _WRITE_ATTEMPTS or not any(sign in str(exc) for sign in _RACE):
                raise
            time.sleep(0.02 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
