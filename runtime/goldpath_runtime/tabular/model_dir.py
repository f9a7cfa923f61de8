"""A model version baked into a folder (MODEL_DIR) for an image: the MLflow model, the
version and model card it is, and the lean artifact when the model compiles.

Everything is written beside the destination, then renamed into place in one step: an
export killed half-way leaves no half-filled MODEL_DIR (an image baked from it would serve
whatever half arrived), and a rerun starts clean."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import ProjectError
from . import lean

if TYPE_CHECKING:
    import pandas as pd

    from .features import FeatureSchema

VERSION_FILE = "registered_model_version"
CARD_FILE = "registered_model_card"


class RegisteredModel(lean.ExportedModel, Protocol):
    @property
    def uri(self) -> str: ...


def bake(
    model: RegisteredModel, destination: Path, schema: FeatureSchema, sample: pd.DataFrame
) -> str:
    """Write `model` into `destination` (absent or empty); says which artifact serves it."""
    import mlflow

    if destination.exists() and any(destination.iterdir()):
        raise ProjectError(f"export destination {destination} is not empty")
    destination.parent.mkdir(parents=True, exist_ok=True)
    for stale in destination.parent.glob(f".{destination.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        mlflow.artifacts.download_artifacts(artifact_uri=model.uri, dst_path=str(scratch))
        (scratch / VERSION_FILE).write_text(model.version + "\n")
        (scratch / CARD_FILE).write_text(model.card_id + "\n")
        try:
            lean.export(model, scratch, schema, sample)
            message = f"lean serving artifact {lean.LEAN_FILE}, checked against the pipeline"
        except ProjectError as exc:
            message = f"{exc}; MODEL_DIR serves the full MLflow model"
        if destination.exists():
            destination.rmdir()  # empty, checked above
        scratch.rename(destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return message


def baked_identity(directory: Path) -> tuple[str, str]:
    """The version and model card id a baked folder says it holds."""
    version_file, card_file = directory / VERSION_FILE, directory / CARD_FILE
    version = version_file.read_text().strip() if version_file.exists() else "baked"
    card_id = card_file.read_text().strip() if card_file.exists() else ""
    return version, card_id
