"""What every project's settings share: where the MLflow store is, and reading settings
from the environment (and `.env`) with one line per bad variable, never a traceback.

A project subclasses `ProjectSettings` with its own fields and defaults (a kind's base,
such as `goldpath_runtime.llm.settings.ExtractionSettings`, adds the platform's), and
reads it with `load(Settings)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ProjectError


def _local_store() -> Path:
    return Path.cwd() / ".mlflow"


class ProjectSettings(BaseSettings):
    """The store: MLflow on a SQLite file and an artifact folder under `.mlflow/` by default
    (git-ignored); MLFLOW_TRACKING_URI names a tracking server, `databricks` or
    `azureml://...` for a shared one."""

    # defer_build: only the class a project reads builds its validator, not each base too.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, defer_build=True
    )

    mlflow_tracking_uri: str = Field(
        default_factory=lambda: f"sqlite:///{_local_store() / 'mlflow.db'}",
        description="MLflow tracking store; a local SQLite file by default",
    )
    mlflow_registry_uri: str | None = Field(
        default=None, description="Model registry, when it differs from the tracking store"
    )
    mlflow_artifact_root: str = Field(
        default_factory=lambda: (_local_store() / "artifacts").as_uri(),
        description="Where new experiments store artifacts (local store only)",
    )
    experiment_name: str = Field(default="goldpath", min_length=1)
    serving_alias: str = Field(default="champion", pattern=r"^[A-Za-z][\w-]*$")
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")


class ServingSettings(ProjectSettings):
    """A project that serves: the serving shell's limits as well as the store."""

    client_timeout_s: float = Field(
        default=10,
        gt=0,
        le=300,
        description="How long a client may take to send a request's headers, and its body "
        "(408), before the server closes the connection (slow or stalled clients)",
    )
    access_log_flush_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Access lines are written in batches this often (0: each at once); a "
        "worker killed with SIGKILL loses at most this long of them",
    )


AnySettings = TypeVar("AnySettings", bound=BaseSettings)


def load(cls: type[AnySettings], **overrides: object) -> AnySettings:
    """`cls` from the environment, with one clear line per bad variable."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
            lines.append(f"{name}: {error['msg']}")
        raise ProjectError(
            "invalid setting(s): " + "; ".join(lines) + " (fix the environment variable or .env)"
        ) from None
