"""This service's scoring: the platform's tabular predictor (goldpath_runtime.tabular:
request parsing, validation, the fast path) over the team's features."""

from __future__ import annotations

from typing import TYPE_CHECKING

from goldpath_runtime.tabular import lean
from goldpath_runtime.tabular.predictor import Predictor

from ..config import Settings
from ..schema import SCHEMA, TARGET

if TYPE_CHECKING:
    import pandas as pd

    # Imported where used: a worker serving the lean artifact never loads MLflow, skops,
    # scikit-learn or pandas (seconds of start-up each).
    from goldpath_runtime.tabular.registry import LoadedModel


def check_rows() -> pd.DataFrame:
    """Rows the fast path must score as the pipeline does before it serves."""
    from ..data import make_rfq_sample

    return make_rfq_sample(256, seed=3).drop(columns=[TARGET])


def load_predictor(settings: Settings) -> Predictor:
    """The serving model from MODEL_DIR or the registry, ready to score (slow: the shell
    runs it off the request path)."""
    model: LoadedModel | lean.LeanModel
    if settings.model_dir is not None and (settings.model_dir / lean.LEAN_FILE).exists():
        model = lean.load(settings.model_dir, SCHEMA)
    else:
        from goldpath_runtime.tabular.registry import load_serving_model

        model = load_serving_model(settings)
    return Predictor(model, settings.max_batch_size, SCHEMA, check_rows)
