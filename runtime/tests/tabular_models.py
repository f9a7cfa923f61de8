"""A small feature schema and a fitted pipeline of the template's layout (one-hot
categoricals first, numbers after, a histogram gradient-boosted classifier): what the
tabular tests compile, bake and validate, built in a second without MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from goldpath_runtime.tabular import Feature, FeatureSchema

SCHEMA = FeatureSchema(
    (
        Feature("amount", "Notional", gt=0, le=1e9),
        Feature("side", "Client side", categories=("buy", "sell")),
        Feature("spread", "Spread in bps", gt=-100, le=1_000),
        Feature("tier", "Client tier", categories=("gold", "silver", "bronze")),
    ),
    target="won",
    event_time="at",
)


def sample(rows: int, seed: int = 0, *, target: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": rng.uniform(1, 1e6, rows),
            "side": rng.choice(["buy", "sell"], rows),
            "spread": rng.uniform(-50, 500, rows),
            "tier": rng.choice(["gold", "silver", "bronze"], rows),
        }
    )
    if target:
        odds = frame["spread"] / 500 - (frame["tier"] == "bronze") + rng.normal(0, 0.5, rows)
        frame["won"] = (odds > 0).astype("int64")
    return frame


def fitted_pipeline(estimator: Any = None) -> Pipeline:
    categories = [list(SCHEMA.feature(name).categories) for name in SCHEMA.categorical]
    preprocess = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(categories=categories, handle_unknown="ignore",
                                          sparse_output=False), list(SCHEMA.categorical)),
            ("numeric", "passthrough", list(SCHEMA.numeric)),
        ],
        verbose_feature_names_out=False,
    )  # fmt: skip
    model = estimator or HistGradientBoostingClassifier(max_iter=30, random_state=1)
    pipeline = Pipeline([("preprocess", preprocess), ("model", model)])
    data = sample(600)
    return pipeline.fit(data[list(SCHEMA.names)], data["won"])


@dataclass(frozen=True)
class Version:
    """A registered model version as the export reads it."""

    pipeline: Any
    name: str = "rfq_model"
    version: str = "3"
    threshold: float = 0.4
    card_id: str = "card-3"
    uri: str = ""
