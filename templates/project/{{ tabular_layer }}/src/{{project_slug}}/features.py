"""The feature pipeline and the model: one scikit-learn Pipeline, so the exact
preprocessing that was trained is the one that is registered and served."""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from .schema import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES

# Search space for RandomizedSearchCV; keys address the Pipeline's "model" step.
PARAM_DISTRIBUTIONS: dict[str, list[Any]] = {
    "model__learning_rate": [0.03, 0.06, 0.1, 0.2],
    "model__max_leaf_nodes": [15, 31, 63],
    "model__max_depth": [None, 4, 8],
    "model__l2_regularization": [0.0, 0.1, 1.0],
    "model__max_iter": [100, 200],
}


def build_pipeline(random_state: int = 7) -> Pipeline:
    categories = [list(f.categories) for f in FEATURES if f.is_categorical]
    preprocess = ColumnTransformer(
        [
            (
                "categorical",
                # Fixed categories keep the encoded width stable whatever a sample contains.
                OneHotEncoder(categories=categories, handle_unknown="ignore", sparse_output=False),
                list(CATEGORICAL_FEATURES),
            ),
            ("numeric", "passthrough", list(NUMERIC_FEATURES)),
        ],
        verbose_feature_names_out=False,
    )
    model = HistGradientBoostingClassifier(random_state=random_state, early_stopping=False)
    return Pipeline([("preprocess", preprocess), ("model", model)])
