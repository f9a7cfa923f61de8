"""Prompts as versioned artifacts, with the same lifecycle vocabulary as models.

The prompt under review is a file in the repository (`prompts/<name>.md`, reviewed in pull
requests). `make eval` runs the evaluation gate on it and, only when the gate passes,
registers it in the MLflow prompt registry as a new version holding `@challenger`, with
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException

from .config import Settings
from .errors import GateFailedError, ModelNotFoundError, ProjectError
from .governance import approval, load_record, move_alias, resume, trainer_identity
from .store import AliasMove, connect, ensure_experiment, readable_store

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
HISTORY_TAG = "champion_history"


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


def _history(settings: Settings) -> list[str]:
    try:
        tags = mlflow.MlflowClient().get_prompt(settings.prompt_name).tags
    except (MlflowException, AttributeError):
        return []
    return [v for v in (tags or {}).get(HISTORY_TAG, "").split(",") if v]


def promote(settings: Settings, version: str | None = None) -> AliasMove:
    """Move the serving alias to `version` (default: the challenger) if its gate passed."""
    connect(settings)
    client = mlflow.MlflowClient()
    name = settings.prompt_name
    if version is None:
        candidate = _alias_version(name, CHALLENGER)
        if candidate is None:
            raise ModelNotFoundError(f"prompt {name!r} has no @{CHALLENGER}: run `make eval`")
    else:
        try:
            candidate = client.get_prompt_version(name, version)
        except MlflowException:
            candidate = None
        if candidate is None:
            raise ModelNotFoundError(f"prompt {name!r} has no version {version}")
    if dict(candidate.tags).get("gate") != "passed":
        raise GateFailedError(
            f"version {candidate.version} of prompt {name!r} has no passed evaluation gate; "
            f"@{settings.serving_alias} unchanged"
        )
    current = _alias_version(name, settings.serving_alias)
    previous = None if current is None else str(current.version)
    target = str(candidate.version)
    experiment = ensure_experiment(client, settings)
    resumed = resume(client, experiment, name, previous, client.set_prompt_version_tag)
    if previous == target:
        if resumed is not None and resumed["action"] == "promoted":
            return AliasMove(name, settings.serving_alias, target, resumed["previous"] or None)
        return AliasMove(name, settings.serving_alias, target, previous)
    # Checked before anything moves: a refused promotion changes nothing.
    trainer = dict(candidate.tags).get("trained_by")
    decision = approval("promoted", load_record().risk_tier, trainer)

    def apply() -> None:
        history = _history(settings)
        if previous is not None and (not history or history[-1] != previous):
            history.append(previous)
        history.append(target)
        client.set_prompt_tag(name, HISTORY_TAG, ",".join(history))
        mlflow.genai.set_prompt_alias(name, alias=settings.serving_alias, version=int(target))

    move_alias(
        client, experiment, name, target, decision, previous, client.set_prompt_version_tag, apply
    )
    log.info("prompt promoted", extra={"prompt": name, "version": target, "previous": previous})
    return AliasMove(name, settings.serving_alias, target, previous)


def rollback(settings: Settings) -> AliasMove:
    """Move the serving alias back to the version that held it before the current one."""
    connect(settings)
    client = mlflow.MlflowClient()
    name = settings.prompt_name
    history = _history(settings)
    current = _alias_version(name, settings.serving_alias)
    previous = None if current is None else str(current.version)
    experiment = ensure_experiment(client, settings)
    resumed = resume(client, experiment, name, previous, client.set_prompt_version_tag)
    if resumed is not None and resumed["action"] == "rolled_back":
        # A killed rollback that had moved the alias: finish it rather than roll back again.
        undone = resumed["previous"] or None
        _retire(client, name, undone)
        return AliasMove(name, settings.serving_alias, str(previous), undone)
    while history and history[-1] == previous:
        history.pop()
    if not history:
        raise ProjectError(
            f"prompt {name!r} has no earlier @{settings.serving_alias} to roll back to"
        )
    target = history[-1]
    decision = approval("rolled_back", load_record().risk_tier, None)

    def apply() -> None:
        client.set_prompt_tag(name, HISTORY_TAG, ",".join(history))
        mlflow.genai.set_prompt_alias(name, alias=settings.serving_alias, version=int(target))

    move_alias(
        client, experiment, name, target, decision, previous, client.set_prompt_version_tag, apply
    )
    _retire(client, name, previous)
    log.info("prompt rolled back", extra={"prompt": name, "version": target, "previous": previous})
    return AliasMove(name, settings.serving_alias, target, previous)


def _retire(client: Any, name: str, version: str | None) -> None:
    """The rolled-back version must not come back through the next `make promote`."""
    if version is None:
        return
    client.set_prompt_version_tag(name, version, "rolled_back", "true")
    challenger = _alias_version(name, CHALLENGER)
    if challenger is not None and str(challenger.version) == version:
        mlflow.genai.delete_prompt_alias(name, alias=CHALLENGER)


def lifecycle_status(settings: Settings) -> list[dict[str, str]]:
    """What is live: the prompt versions holding @champion and @challenger, with scores."""
    connect(settings)
    rows = []
    for alias in (settings.serving_alias, CHALLENGER):
        found = _alias_version(settings.prompt_name, alias)
        if found is None:
            rows.append({"alias": alias, "version": "-"})
            continue
        tags = dict(found.tags)
        stamp = getattr(found, "creation_timestamp", None)
        registered = (
            datetime.fromtimestamp(stamp / 1000, tz=UTC).isoformat(timespec="seconds")
            if stamp
            else "-"
        )
        rows.append(
            {
                "alias": alias,
                "version": str(found.version),
                "registered": registered,
                "gate": tags.get("gate", "-"),
                "field_accuracy": tags.get("field_accuracy", "-"),
                "digest": tags.get("digest", "-"),
            }
        )
    return rows


def export_prompt(settings: Settings, destination: Path) -> Prompt:
    """Write the serving prompt to `destination` (JSON) to bake into an image (PROMPT_FILE)."""
    prompt = load_serving_prompt(settings)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(
        json.dumps({"name": prompt.name, "version": prompt.version, "text": prompt.text}) + "\n"
    )
    return prompt
