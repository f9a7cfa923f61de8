"""The request hot path in numpy: validated rows become the fitted pipeline's encoded
matrix directly, and only the final estimator runs.

Per request, the full Pipeline would build a DataFrame and run the ColumnTransformer and
OneHotEncoder, which costs far more than the trees themselves for one row. The encoding
here is derived from the fitted transformers (categories, column order), so it cannot
drift from training; `check_against` proves it on sample rows when the model loads, and
the service falls back to the full pipeline if it ever differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..schema import CATEGORICAL_FEATURES, FEATURE_NAMES, NUMERIC_FEATURES


class FastScorer:
    def __init__(self, pipeline: Any) -> None:
        preprocess = pipeline.named_steps["preprocess"]
        encoder = preprocess.named_transformers_["categorical"]
        self.estimator = pipeline.named_steps["model"]
        self.lookups: list[dict[str, int]] = []
        offset = 0
        for categories in encoder.categories_:
            self.lookups.append({str(c): offset + i for i, c in enumerate(categories)})
            offset += len(categories)
        self.numeric_offset = offset
        self.width = offset + len(NUMERIC_FEATURES)

    def encode(self, rows: Sequence[dict[str, Any]]) -> np.ndarray:
        matrix = np.zeros((len(rows), self.width), dtype=np.float64)
        for r, row in enumerate(rows):
            for lookup, name in zip(self.lookups, CATEGORICAL_FEATURES, strict=True):
                index = lookup.get(row[name])
                if index is not None:  # unknown categories encode as all zeros, as trained
                    matrix[r, index] = 1.0
            for c, name in enumerate(NUMERIC_FEATURES):
                matrix[r, self.numeric_offset + c] = row[name]
        return matrix

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        return self.estimator.predict_proba(matrix)[:, 1]  # type: ignore[no-any-return]

    def check_against(self, pipeline: Any, sample: pd.DataFrame) -> bool:
        rows = sample[list(FEATURE_NAMES)].to_dict("records")
        expected = pipeline.predict_proba(sample[list(FEATURE_NAMES)])[:, 1]
        fast = self.predict_proba(self.encode(rows))
        return bool(np.allclose(fast, expected, rtol=0, atol=1e-12))
