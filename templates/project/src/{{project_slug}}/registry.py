"""The MLflow model registry: connecting, loading the serving model, promotion and rollback.

Aliases carry the lifecycle: training registers a version as `challenger`; `promote`
moves `champion` to it only when its evaluation gate passed; `rollback` moves `champion`
back to the version that held it before. The order of champions is kept in a registered
model tag so a rollback needs no guessing.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .config import Settings
from .errors import GateFailedError, ModelNotFoundError, ProjectError
from .governance import approval, load_record, move_alias, resume
from .store import AliasMove, connect, ensure_experiment, readable_store

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
HISTORY_TAG = "champion_history"
VERSION_FILE = "registered_model_version"
CARD_FILE = "registered_model_card"
# Model version tag: the decision threshold the version was trained and evaluated with.
THRESHOLD_TAG = "decision_threshold"

# skops refuses to load types it does not know; these are the ones our Pipeline holds
# beyond scikit-learn's defaults. Add to this list when the pipeline gains a step.
SKOPS_TRUSTED_TYPES = [
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._encoders.OneHotEncoder",
]


def alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return None
        raise


@dataclass(frozen=True)
class LoadedModel:
    """A fitted Pipeline with the registry coordinates it came from."""

    pipeline: Any
    name: str
    version: str
    uri: str
    # The decision threshold the version was trained and evaluated with (its registry tag).
    threshold: float
    card_id: str = ""  # the version's model card: outputs carry it for lineage

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Class labels and hit probabilities for validated feature rows."""
        probability = self.pipeline.predict_proba(frame)[:, 1]
        return self.labels(probability), probability

    def labels(self, probability: np.ndarray) -> np.ndarray:
        return (probability >= self.threshold).astype("int64")


def load_model_version(settings: Settings, version: str) -> LoadedModel:
    client = connect(settings)
    uri = f"models:/{settings.model_name}/{version}"
    tags = client.get_model_version(settings.model_name, version).tags
    threshold = float(tags.get(THRESHOLD_TAG, settings.decision_threshold))
    pipeline = mlflow.sklearn.load_model(uri)
    return LoadedModel(
        pipeline, settings.model_name, version, uri, threshold, tags.get("card_id", "")
    )


def load_serving_model(settings: Settings) -> LoadedModel:
    """The model to serve: a baked MODEL_DIR if set, else the registry's serving alias.

    The alias is resolved to a version number once, so the version reported with every
    prediction is the one actually loaded even if the alias moves later.
    """
    if settings.model_dir is not None:
        version_file = settings.model_dir / VERSION_FILE
        version = version_file.read_text().strip() if version_file.exists() else "baked"
        card_file = settings.model_dir / CARD_FILE
        card_id = card_file.read_text().strip() if card_file.exists() else ""
        pipeline = mlflow.sklearn.load_model(str(settings.model_dir))
        threshold = settings.decision_threshold
        return LoadedModel(
            pipeline, settings.model_name, version, str(settings.model_dir), threshold, card_id
        )
    readable_store(settings, "run `make train` then `make promote`")
    client = connect(settings)
    found = alias_version(client, settings.model_name, settings.serving_alias)
    if found is None:
        raise ModelNotFoundError(
            f"model {settings.model_name!r} has no version with alias @{settings.serving_alias} "
            f"in {settings.mlflow_tracking_uri}: run `make train` then `make promote`"
        )
    return load_model_version(settings, str(found.version))


def _history(client: MlflowClient, name: str) -> list[str]:
    raw = client.get_registered_model(name).tags.get(HISTORY_TAG, "")
    return [v for v in raw.split(",") if v]


def promote(settings: Settings, version: str | None = None) -> AliasMove:
    """Move the serving alias to `version` (default: the challenger) if its gate passed."""
    client = connect(settings)
    name = settings.model_name
    if version is None:
        candidate = alias_version(client, name, CHALLENGER)
        if candidate is None:
            raise ModelNotFoundError(f"model {name!r} has no @{CHALLENGER}: run `make train` first")
    else:
        try:
            candidate = client.get_model_version(name, version)
        except MlflowException:
            raise ModelNotFoundError(f"model {name!r} has no version {version}") from None
    gate = candidate.tags.get("gate", "unknown")
    if gate != "passed":
        reason = candidate.tags.get("gate_reason", "no gate result recorded")
        raise GateFailedError(
            f"version {candidate.version} of {name!r} did not pass the evaluation gate "
            f"({reason}); @{settings.serving_alias} unchanged"
        )
    current = alias_version(client, name, settings.serving_alias)
    previous = None if current is None else str(current.version)
    target = str(candidate.version)
    experiment = ensure_experiment(client, settings)
    resumed = resume(client, experiment, name, previous, client.set_model_version_tag)
    if previous == target:
        if resumed is not None and resumed["action"] == "promoted":
            return AliasMove(name, settings.serving_alias, target, resumed["previous"] or None)
        return AliasMove(name, settings.serving_alias, target, previous)
    # Checked before anything moves: a refused promotion changes nothing.
    decision = approval("promoted", load_record().risk_tier, candidate.tags.get("trained_by"))

    def apply() -> None:
        history = _history(client, name)
        if previous is not None and (not history or history[-1] != previous):
            history.append(previous)
        history.append(target)
        client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history))
        client.set_registered_model_alias(name, settings.serving_alias, target)

    move_alias(
        client, experiment, name, target, decision, previous, client.set_model_version_tag, apply
    )
    log.info("promoted", extra={"model": name, "version": target, "previous": previous})
    return AliasMove(name, settings.serving_alias, target, previous)


def rollback(settings: Settings) -> AliasMove:
    """Move the serving alias back to the version that held it before the current one."""
    client = connect(settings)
    name = settings.model_name
    try:
        history = _history(client, name)
    except MlflowException:
        raise ModelNotFoundError(f"model {name!r} is not registered") from None
    current = alias_version(client, name, settings.serving_alias)
    previous = None if current is None else str(current.version)
    experiment = ensure_experiment(client, settings)
    resumed = resume(client, experiment, name, previous, client.set_model_version_tag)
    if resumed is not None and resumed["action"] == "rolled_back":
        # A killed rollback that had moved the alias: finish it rather than roll back again.
        undone = resumed["previous"] or None
        _retire(client, name, undone)
        return AliasMove(name, settings.serving_alias, str(previous), undone)
    while history and history[-1] == previous:
        history.pop()
    if not history:
        raise ProjectError(
            f"model {name!r} has no earlier @{settings.serving_alias} to roll back to"
        )
    target = history[-1]
    decision = approval("rolled_back", load_record().risk_tier, None)

    def apply() -> None:
        client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history))
        client.set_registered_model_alias(name, settings.serving_alias, target)

    move_alias(
        client, experiment, name, target, decision, previous, client.set_model_version_tag, apply
    )
    _retire(client, name, previous)
    log.info("rolled back", extra={"model": name, "version": target, "previous": previous})
    return AliasMove(name, settings.serving_alias, target, previous)


def _retire(client: MlflowClient, name: str, version: str | None) -> None:
    """The rolled-back version must not come back through the next `make promote`: it loses
    @challenger and says why on its tags; promoting it again takes its number."""
    if version is None:
        return
    client.set_model_version_tag(name, version, "rolled_back", "true")
    challenger = alias_version(client, name, CHALLENGER)
    if challenger is not None and str(challenger.version) == version:
        client.delete_registered_model_alias(name, CHALLENGER)


def lifecycle_status(settings: Settings) -> list[dict[str, str]]:
    """What is live: the versions holding @champion and @challenger, with their gate,
    test ROC AUC, threshold and registration time."""
    client = connect(settings)
    rows = []
    for alias in (settings.serving_alias, CHALLENGER):
        found = alias_version(client, settings.model_name, alias)
        if found is None:
            rows.append({"alias": alias, "version": "-"})
            continue
        created = datetime.fromtimestamp(found.creation_timestamp / 1000, tz=UTC)
        rows.append(
            {
                "alias": alias,
                "version": str(found.version),
                "registered": created.isoformat(timespec="seconds"),
                "gate": found.tags.get("gate", "-"),
                "test_roc_auc": found.tags.get("test_roc_auc", "-"),
                THRESHOLD_TAG: found.tags.get(THRESHOLD_TAG, "-"),
            }
        )
    return rows


def export_model(settings: Settings, destination: Path) -> tuple[LoadedModel, str]:
    """Copy the serving model out of the registry into `destination`, to bake into an image,
    with its lean serving artifact when the model compiles; the second value says which."""
    from .serving import lean

    if destination.exists() and any(destination.iterdir()):
        raise ProjectError(f"export destination {destination} is not empty")
    model = load_serving_model(settings)
    # Everything is written beside the destination, then renamed into place in one step:
    # an export killed half-way leaves no half-filled MODEL_DIR, and a rerun starts clean.
    destination.parent.mkdir(parents=True, exist_ok=True)
    for stale in destination.parent.glob(f".{destination.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        mlflow.artifacts.download_artifacts(artifact_uri=model.uri, dst_path=str(scratch))
        (scratch / VERSION_FILE).write_text(model.version + "\n")
        (scratch / CARD_FILE).write_text(model.card_id + "\n")
        try:
            lean.export(model, scratch)
            message = f"lean serving artifact {lean.LEAN_FILE}, checked against the pipeline"
        except ProjectError as exc:
            message = f"{exc}; MODEL_DIR serves the full MLflow model"
        if destination.exists():
            destination.rmdir()  # empty, checked above
        scratch.rename(destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return model, message
