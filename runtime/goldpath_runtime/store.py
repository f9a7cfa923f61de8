"""The MLflow store both tracking and the registry live in: connecting to it, the
experiment a project logs to, and the guard that keeps a serving process from writing
into a store it should only read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import mlflow
from mlflow.tracking import MlflowClient

from .errors import ModelNotFoundError


class StoreSettings(Protocol):
    """What the runtime reads of a project's settings to reach its store."""

    @property
    def mlflow_tracking_uri(self) -> str: ...
    @property
    def mlflow_registry_uri(self) -> str | None: ...
    @property
    def mlflow_artifact_root(self) -> str: ...
    @property
    def experiment_name(self) -> str: ...


@dataclass(frozen=True)
class StoreConfig:
    """StoreSettings as plain values, for scripts and jobs without a project's settings."""

    mlflow_tracking_uri: str
    mlflow_artifact_root: str
    experiment_name: str
    mlflow_registry_uri: str | None = None


@dataclass(frozen=True)
class AliasMove:
    """What a promotion or rollback did to an alias: `previous` None when it had none."""

    name: str
    alias: str
    version: str
    previous: str | None

    @property
    def changed(self) -> bool:
        return self.version != self.previous


def sqlite_file(uri: str) -> Path | None:
    """The database file of a local SQLite store URI, None for any other store."""
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def connect(settings: StoreSettings) -> MlflowClient:
    """Point MLflow at the configured stores (creating the local folder) and return a client."""
    uri = settings.mlflow_tracking_uri
    database = sqlite_file(uri)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    # Always set: the registry URI is process-wide, and one left by an earlier connection
    # to another store would receive this store's versions. "" means "the tracking store"
    # (the store's own URI would also be exported as MLFLOW_REGISTRY_URI, which the next
    # settings would read as if the user had set it).
    mlflow.set_registry_uri(settings.mlflow_registry_uri or "")
    return MlflowClient()


def ensure_experiment(client: MlflowClient, settings: StoreSettings) -> str:
    experiment = client.get_experiment_by_name(settings.experiment_name)
    if experiment is not None:
        return str(experiment.experiment_id)
    # Only a local store takes our artifact folder; a server or Databricks chooses its own.
    if not settings.mlflow_tracking_uri.startswith(("sqlite:", "file:")):
        return str(client.create_experiment(settings.experiment_name))
    artifact_root = settings.mlflow_artifact_root
    if urlparse(artifact_root).scheme == "file":
        Path(urlparse(artifact_root).path).mkdir(parents=True, exist_ok=True)
    return str(client.create_experiment(settings.experiment_name, artifact_location=artifact_root))


def readable_store(settings: StoreSettings, fix: str) -> None:
    """Refuse, with one line saying `fix`, a local store that is missing, empty or damaged:
    MLflow would silently create or migrate one, and serving must only ever read."""
    database = sqlite_file(settings.mlflow_tracking_uri)
    if database is not None and not database.is_file():
        raise ModelNotFoundError(
            f"no MLflow store at {settings.mlflow_tracking_uri}: {fix}, "
            "or point MLFLOW_TRACKING_URI at the registry"
        )
    if database is not None and not is_sqlite(database):
        raise ModelNotFoundError(
            f"{database} is not an MLflow SQLite store (empty or damaged); serving will not "
            f"write to it: restore it, or remove it and {fix}"
        )
