"""Prompts as versioned artifacts, with the same lifecycle as models
(goldpath_runtime.lifecycle, through its prompt adapter).

The prompt under review is a file in the project's repository (`prompts/<name>.md`,
reviewed in pull requests). `make eval` runs the evaluation gate on it and, only when the
gate passes, registers it in the MLflow prompt registry as a new version holding `@challenger`, with
its scores as version tags. `make promote` moves `@champion` to the challenger,
`make rollback` moves it back to the champion before; the order of champions is kept in a
prompt tag, so a rollback needs no guessing. The service loads `@champion` at start-up, or
a prompt file exported by `make export-prompt` and baked into an image (PROMPT_FILE).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException

from ..errors import ModelNotFoundError, ProjectError
from ..governance import trainer_identity
from ..lifecycle import CHALLENGER, PromptVersions
from ..lifecycle.governed import Lifecycle
from ..store import connect, readable_store
from .settings import ExtractionSettings as Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


def working_prompt(settings: Settings) -> Prompt:
    """The prompt file under review, not yet registered."""
    # A Unity Catalog name (catalog.schema.name) is reviewed as prompts/<name>.md too.
    path = settings.prompts_dir / f"{settings.prompt_name.rsplit('.', 1)[-1]}.md"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ProjectError(f"no prompt file {path} (PROMPT_NAME={settings.prompt_name})") from None
    except UnicodeDecodeError:
        raise ProjectError(f"{path} is not UTF-8 text") from None
    if not text:
        raise ProjectError(f"{path} is empty: write the prompt's instructions in it")
    return Prompt(settings.prompt_name, "working", text)


def _alias_version(name: str, alias: str) -> Any | None:
    try:
        return mlflow.MlflowClient().get_prompt_version_by_alias(name, alias)
    except MlflowException:
        return None


def register(settings: Settings, prompt: Prompt, tags: dict[str, str]) -> str:
    """Register `prompt` as a new version with @challenger (called only when its gate passed)."""
    connect(settings)
    registered = mlflow.genai.register_prompt(
        name=prompt.name,
        template=prompt.text,
        commit_message=f"evaluation gate passed ({prompt.digest})",
        # trained_by: a high-risk promotion needs a validator other than this person.
        tags={**tags, "gate": "passed", "digest": prompt.digest, "trained_by": trainer_identity()},
    )
    version = str(registered.version)
    mlflow.genai.set_prompt_alias(prompt.name, alias=CHALLENGER, version=int(version))
    log.info("prompt registered", extra={"prompt": prompt.name, "version": version})
    return version


def version_tags(settings: Settings, alias: str) -> dict[str, str] | None:
    """The tags of the version holding `alias` (its gate scores), None when none does."""
    connect(settings)
    found = _alias_version(settings.prompt_name, alias)
    return None if found is None else dict(found.tags)


def load_serving_prompt(settings: Settings) -> Prompt:
    """The prompt to serve: a baked PROMPT_FILE if set, else the registry's serving alias,
    resolved once to a version number (the one every response reports)."""
    if settings.prompt_file is not None:
        try:
            baked = json.loads(settings.prompt_file.read_text(encoding="utf-8"))
            return Prompt(str(baked["name"]), str(baked["version"]), str(baked["text"]))
        except (ValueError, KeyError, TypeError):
            raise ProjectError(
                f"PROMPT_FILE={settings.prompt_file} is not an exported prompt "
                "(make export-prompt writes one)"
            ) from None
    readable_store(settings, "run `make eval` then `make promote`")
    connect(settings)
    found = _alias_version(settings.prompt_name, settings.serving_alias)
    if found is None:
        raise ModelNotFoundError(
            f"prompt {settings.prompt_name!r} has no version with alias "
            f"@{settings.serving_alias} in {settings.mlflow_tracking_uri}: "
            "run `make eval` then `make promote`"
        )
    return Prompt(settings.prompt_name, str(found.version), str(found.template))


# A project's prompt: the same lifecycle as models, through the prompt adapter.
PROMPTS = Lifecycle(
    attrgetter("prompt_name"),
    PromptVersions,
    register="run `make eval`",
    shown=("gate", "field_accuracy", "digest"),
)
promote = PROMPTS.promote
rollback = PROMPTS.rollback
documentation = PROMPTS.documentation
lifecycle_status = PROMPTS.status


def export_prompt(settings: Settings, destination: Path) -> Prompt:
    """Write the serving prompt to `destination` (JSON) to bake into an image (PROMPT_FILE)."""
    prompt = load_serving_prompt(settings)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(
        json.dumps({"name": prompt.name, "version": prompt.version, "text": prompt.text}) + "\n"
    )
    return prompt
