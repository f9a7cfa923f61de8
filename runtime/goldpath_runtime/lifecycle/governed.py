"""One governed artifact, as a project's commands act on it: its versions (a registered
model, a prompt) through their adapter, its audit trail, the alias that serves, and what a
team runs to make a version. Both kinds' registries build one; the decisions are core's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from ..governance import AuditTrail
from ..governance.audit import PUBLISHED_DOCUMENTATION, write_whole
from ..store import AliasMove, StoreSettings, connect, ensure_experiment
from . import core
from .versions import Versions


@dataclass(frozen=True)
class Governed:
    versions: Versions
    trail: AuditTrail
    alias: str
    register: str  # what makes a version, for the refusal when there is none
    shown: tuple[str, ...]  # the version tags `status` shows

    @classmethod
    def open(
        cls,
        settings: StoreSettings,
        record: Path,
        name: str,
        adapter: Callable[[MlflowClient, str], Versions],
        *,
        alias: str,
        register: str,
        shown: tuple[str, ...],
    ) -> Governed:
        """`name`'s versions in the settings' store through `adapter` (ModelVersions,
        PromptVersions), audited in the store's experiment under `record`'s rules."""
        client: MlflowClient = connect(settings)
        experiment = ensure_experiment(client, settings)
        versions = adapter(client, name)
        return cls(versions, AuditTrail(client, experiment, name, record), alias, register, shown)

    def promote(self, number: str | None = None) -> AliasMove:
        """Move the serving alias to `number` (default: the challenger) if its gate passed."""
        return core.promote(
            self.versions, self.trail, alias=self.alias, number=number, register=self.register
        )

    def rollback(self) -> AliasMove:
        """Move the serving alias back to the version that held it before the current one."""
        return core.rollback(self.versions, self.trail, alias=self.alias)

    def documentation(self, number: str | None = None) -> tuple[str, str]:
        """Version `number` (default: the serving one) and its technical documentation."""
        return core.documentation(self.versions, self.trail, number, alias=self.alias)

    def status(self) -> list[dict[str, str]]:
        """What is live: the versions holding the serving alias and @challenger."""
        return core.status(self.versions, alias=self.alias, tags=self.shown, trail=self.trail)

    def export(self, directory: Path) -> Path:
        """The audit chain and the serving alias's version, as CI publishes them, with the
        champion's technical documentation (its card id, evaluation and lineage) when the
        record is here to write it; the record's `latest:` block is first written from
        the last applied decision, so any checkout publishes the audit's record."""
        self.trail.note_recorded()  # the record says what the audit says
        current = self.versions.at_alias(self.alias)
        holds = None if current is None else current.number
        card = "" if current is None else current.tags.get("card_id", "")
        written = self.trail.export(directory, self.alias, holds, card_id=card)
        documented = written / PUBLISHED_DOCUMENTATION
        documented.unlink(missing_ok=True)  # never a previous champion's, beside this one
        if current is not None and self.trail.record is not None:
            write_whole(documented, self.documentation(current.number)[1])
        return written


@dataclass(frozen=True)
class Lifecycle:
    """A kind's decisions as a project's commands call them, `(settings, record, ...)`: where
    the kind's versions are (`name` of the settings, the `adapter`), what makes one, and the
    tags `status` shows. The tabular registry and the prompt registry are one each."""

    name: Callable[[Any], str]
    adapter: Callable[[MlflowClient, str], Versions]
    register: str
    shown: tuple[str, ...]

    def open(self, settings: Any, record: Path) -> Governed:
        """The project's artifact with its audit trail (`record`: its governance.yml)."""
        return Governed.open(
            settings, record, self.name(settings), self.adapter,
            alias=settings.serving_alias, register=self.register, shown=self.shown,
        )  # fmt: skip

    def promote(self, settings: Any, record: Path, version: str | None = None) -> AliasMove:
        """Move the serving alias to `version` (default: the challenger) if its gate passed."""
        return self.open(settings, record).promote(version)

    def rollback(self, settings: Any, record: Path) -> AliasMove:
        """Move the serving alias back to the version that held it before the current one."""
        return self.open(settings, record).rollback()

    def documentation(
        self, settings: Any, record: Path, version: str | None = None
    ) -> tuple[str, str]:
        """Version `version` (default: the serving one) and its technical documentation."""
        return self.open(settings, record).documentation(version)

    def status(self, settings: Any, record: Path) -> list[dict[str, str]]:
        """What is live: the versions holding the serving alias and @challenger."""
        return self.open(settings, record).status()

    def export(self, settings: Any, record: Path, directory: Path) -> Path:
        """The audit chain and the serving alias's version, as CI publishes them."""
        return self.open(settings, record).export(directory)
