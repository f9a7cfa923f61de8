"""A tabular project's MLflow model registry: loading the serving model, promotion, rollback
and export (scikit-learn pipelines, stored with skops).

Aliases carry the lifecycle: training registers a version as `challenger`; `promote`
moves `champion` to it only when its evaluation gate passed; `rollback` moves `champion`
back to the version that held it before. The order of champions is kept in a registered
model tag so a rollback needs no guessing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..errors import ModelNotFoundError
from ..lifecycle import ModelVersions
from ..lifecycle.governed import Lifecycle
from ..store import connect, readable_store
from .model_dir import baked_identity
from .settings import TabularSettings as Settings

if TYPE_CHECKING:
    from .project import TabularProject

log = logging.getLogger(__name__)

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
        version, card_id = baked_identity(settings.model_dir)
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


# A project's registered model: the same lifecycle as prompts, through the model adapter.
MODELS = Lifecycle(
    attrgetter("model_name"),
    ModelVersions,
    register="run `make train` first",
    shown=("gate", "test_roc_auc", THRESHOLD_TAG, "shadow_requests", "shadow_agreement"),
)
promote = MODELS.promote
rollback = MODELS.rollback
documentation = MODELS.documentation
lifecycle_status = MODELS.status


def export_model(
    project: TabularProject, settings: Settings, destination: Path
) -> tuple[LoadedModel, str]:
    """Copy the serving model out of the registry into `destination`, to bake into an image,
    with its lean serving artifact when the model compiles; the second value says which."""
    from . import model_dir

    model = load_serving_model(settings)
    sample = project.sample(512, 5).drop(columns=[project.schema.target])
    return model, model_dir.bake(model, destination, project.schema, sample)
