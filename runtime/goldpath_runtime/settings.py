"""What every project's settings share: where the MLflow store is, and reading settings
from the environment (and `.env`) with one line per bad variable, never a traceback.

A project subclasses `ProjectSettings` with its own fields and defaults (a kind's base,
such as `goldpath_runtime.llm.settings.ExtractionSettings`, adds the platform's), and
reads it with `load(Settings)`.

Values come, first to last: arguments, environment variables (named as the field, any
case), `.env` in the working directory, the field's default. A list, tuple, dict or
model field is given as JSON (PII_REGIONS='["GB","DE"]'). The same rules as
pydantic-settings, read here instead: importing it cost a serving worker 14 ms of its
start (issue 35's start-up goal).
"""

from __future__ import annotations

import json
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from .errors import ProjectError

ENV_FILE = Path(".env")
_JSON_ORIGINS = (list, tuple, dict, set, frozenset)


def _is_json(annotation: Any) -> bool:
    """Whether a field's value is written as JSON in the environment."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_is_json(arg) for arg in get_args(annotation) if arg is not type(None))
    if origin in _JSON_ORIGINS or annotation in _JSON_ORIGINS:
        return True
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _env_file_values(path: Path) -> dict[str, str | None]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values  # only where a .env exists: images have none

    try:
        return dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise ProjectError(
            f"invalid setting(s): {path} cannot be read ({reason}): fix or remove it"
        ) from None


def environment_values(
    fields: Mapping[str, FieldInfo], environ: Mapping[str, str], env_file: Path = ENV_FILE
) -> dict[str, Any]:
    """The fields set by `.env` and then the environment (which wins), by field name."""
    by_name = {name.upper(): name for name in fields}
    found: dict[str, tuple[str, str]] = {}
    for source in (_env_file_values(env_file), environ):
        for key, value in source.items():
            name = by_name.get(key.upper())
            if name is not None and value is not None:
                found[name] = (key, value)
    values: dict[str, Any] = {}
    for name, (key, value) in found.items():
        if _is_json(fields[name].annotation):
            try:
                values[name] = json.loads(value)
            except ValueError:
                raise ProjectError(
                    f"invalid setting(s): {key.upper()}: not JSON (a list is written "
                    '["a","b"], a table {"k":[1,2]}) (fix the environment variable or .env)'
                ) from None
            except RecursionError:
                raise ProjectError(
                    f"invalid setting(s): {key.upper()}: JSON nested too deeply "
                    "(fix the environment variable or .env)"
                ) from None
        else:
            values[name] = value
    return values


def _local_store() -> Path:
    return Path.cwd() / ".mlflow"


class ProjectSettings(BaseModel):
    """The store: MLflow on a SQLite file and an artifact folder under `.mlflow/` by default
    (git-ignored); MLFLOW_TRACKING_URI names a tracking server, `databricks` or
    `azureml://...` for a shared one."""

    # defer_build: only the class a project reads builds its validator, not each base too.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True, validate_default=True)

    def __init__(self, **values: Any) -> None:
        from_environment = environment_values(type(self).model_fields, os.environ)
        super().__init__(**{**from_environment, **values})

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


AnySettings = TypeVar("AnySettings", bound=ProjectSettings)


def load(cls: type[AnySettings], **overrides: object) -> AnySettings:
    """`cls` from the environment, with one clear line per bad variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
            lines.append(f"{name}: {error['msg']}")
        raise ProjectError(
            "invalid setting(s): " + "; ".join(lines) + " (fix the environment variable or .env)"
        ) from None
