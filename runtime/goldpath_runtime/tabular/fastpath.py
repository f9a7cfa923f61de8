"""The request hot path in numpy: validated rows become the fitted pipeline's encoded
matrix directly, and only the final estimator runs.

The pipeline's layout is the template's: a `preprocess` ColumnTransformer whose
`categorical` one-hot encoder comes first and numeric columns after it, then a `model`
step. A pipeline of another shape raises here, and the service scores with the full
pipeline instead.

Per request, the full Pipeline would build a DataFrame and run the ColumnTransformer and
OneHotEncoder, which costs far more than the trees themselves for one row. The encoding
here is derived from the fitted transformers (categories, column order), so it cannot
drift from training; `check_against` proves it on sample rows when the model loads, and
the service falls back to the full pipeline if it ever differs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

_SUM = np.add.reduce  # without np.sum's Python wrapper: microseconds per call here

if TYPE_CHECKING:
    import pandas as pd

    from .features import FeatureSchema

# CompiledForest's arrays, as saved in the lean serving artifact (lean.py).
FOREST_ARRAYS = ("feature", "threshold", "left", "right", "missing_left", "value")


class CompiledForest:
    """A fitted binary HistGradientBoostingClassifier evaluated for all trees at once.

    scikit-learn walks the trees one by one in Python (milliseconds per call, whatever the
    batch); here every tree advances one level per numpy step, so a call costs about
    depth x a few microseconds. Numeric splits only (categoricals are one-hot encoded
    upstream); anything else is refused and the estimator's own predict is used.
    """

    def __init__(self, estimator: Any) -> None:
        if getattr(estimator, "n_trees_per_iteration_", None) != 1:
            raise TypeError("only binary classifiers are compiled")
        if getattr(estimator, "is_categorical_", None) is not None and np.any(
            estimator.is_categorical_
        ):
            raise TypeError("native categorical splits are not compiled")
        trees = [predictor.nodes for iteration in estimator._predictors for predictor in iteration]
        width = max(len(nodes) for nodes in trees)
        shape = (len(trees), width)
        self.feature = np.zeros(shape, dtype=np.intp)
        self.threshold = np.zeros(shape, dtype=np.float64)
        self.left = np.zeros(shape, dtype=np.intp)
        self.right = np.zeros(shape, dtype=np.intp)
        self.missing_left = np.zeros(shape, dtype=bool)
        self.value = np.zeros(shape, dtype=np.float64)
        for t, nodes in enumerate(trees):
            count = len(nodes)
            leaf = nodes["is_leaf"].astype(bool)
            self.feature[t, :count] = nodes["feature_idx"]
            self.threshold[t, :count] = nodes["num_threshold"]
            self.missing_left[t, :count] = nodes["missing_go_to_left"].astype(bool)
            self.value[t, :count] = nodes["value"]
            own = np.arange(count)
            # A leaf points at itself, so extra steps keep every row where it landed.
            self.left[t, :count] = np.where(leaf, own, nodes["left"])
            self.right[t, :count] = np.where(leaf, own, nodes["right"])
        self.depth = int(max(nodes["depth"].max() for nodes in trees))
        self.baseline = float(np.ravel(estimator._baseline_prediction)[0])
        self._flatten()

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], depth: int, baseline: float
    ) -> CompiledForest:
        """A forest rebuilt from `arrays()` without scikit-learn (the lean artifact)."""
        forest = cls.__new__(cls)
        for name in FOREST_ARRAYS:
            setattr(forest, name, arrays[name])
        forest.depth, forest.baseline = depth, baseline
        forest._flatten()
        return forest

    def _flatten(self) -> None:
        """Every tree's nodes end to end in 1-D arrays, children as flat indices: `take` on
        those costs less than 2-D fancy indexing per step (measured on this model: 142 ->
        78-91 us for one row, 2.0 -> 0.9-1.0 ms for 50 rows).

        Each node is kept as 2n, the slot of its left child in `children2` (the right one
        at 2n + 1; children stored as 2n too), so a level adds the branch taken to the
        node: one numpy call fewer per level than multiplying by two first."""
        offsets = (np.arange(len(self.feature)) * self.feature.shape[1])[:, None]
        self.roots = offsets
        left, right = (self.left + offsets).ravel(), (self.right + offsets).ravel()
        self.children2 = 2 * np.stack([left, right], axis=1).ravel()
        self.feature2 = np.repeat(self.feature.ravel(), 2)
        self.threshold2 = np.repeat(self.threshold.ravel(), 2)
        self.missing_left2 = np.repeat(self.missing_left.ravel(), 2)
        # Leaf values negated, and exp(-baseline): the sigmoid 1 / (1 + exp(-baseline) *
        # exp(-sum)) is then four in-place calls on the per-row sums.
        self.negative_value2 = np.repeat(-self.value.ravel(), 2)
        self.baseline_odds = math.exp(-self.baseline)
        self._starts: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in FOREST_ARRAYS}

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        """Per numpy call this costs microseconds whatever the size, so the fewer calls the
        better: every tree moves one level per few calls, whatever the batch, over the
        nodes its rows reach (this beat taking every node's branch at once, even for one
        row: 21 against 24 us on the example project's 200 trees)."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float64)
        # One reduction tells whether any value is missing: NaN anywhere makes the sum NaN
        # (so do +inf and -inf together, which the missing-aware walk scores right too).
        if math.isnan(_SUM(matrix, axis=None)):
            leaves = self._leaves_with_missing(matrix)
        else:
            leaves = self._leaves(matrix)
        odds: np.ndarray = _SUM(self.negative_value2.take(leaves), axis=0)
        np.exp(odds, out=odds)
        odds *= self.baseline_odds
        odds += 1.0
        np.reciprocal(odds, out=odds)
        return odds

    def _leaves(self, matrix: np.ndarray) -> np.ndarray:
        """Each tree's leaf for each row, as 2n (trees, rows)."""
        values = matrix.ravel()
        row_start, node = self._start(*matrix.shape)
        feature, threshold, children = self.feature2, self.threshold2, self.children2
        for _ in range(self.depth):
            at = feature.take(node)
            at += row_start
            node = children.take(node + (values.take(at) > threshold.take(node)))
        return node

    def _leaves_with_missing(self, matrix: np.ndarray) -> np.ndarray:
        """As `_leaves`, a missing value taking each node's learned side."""
        values = matrix.ravel()
        row_start, node = self._start(*matrix.shape)
        for _ in range(self.depth):
            at = self.feature2.take(node)
            at += row_start
            x = values.take(at)
            below = x <= self.threshold2.take(node)
            go_left = np.where(np.isnan(x), self.missing_left2.take(node), below)
            node = self.children2.take(node + ~go_left)
        return node

    def _start(self, rows: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Where each row's values begin in the flattened matrix, and every tree's root
        (as 2n) for each row: the same for every batch of this shape, so built once
        (batches up to 64 rows) and read-only."""
        start = self._starts.get((rows, width))
        if start is None:
            start = (np.arange(rows)[None, :] * width, np.repeat(2 * self.roots, rows, axis=1))
            for array in start:
                array.flags.writeable = False
            if rows <= 64:
                self._starts[rows, width] = start
        return start


class FastScorer:
    """Encodes validated rows as the fitted pipeline's matrix and scores it."""

    names: tuple[str, ...]
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    forest: CompiledForest | None
    estimator: Any

    def __init__(self, pipeline: Any, schema: FeatureSchema) -> None:
        self.names, self.categorical, self.numeric = (
            schema.names,
            schema.categorical,
            schema.numeric,
        )
        preprocess = pipeline.named_steps["preprocess"]
        encoder = preprocess.named_transformers_["categorical"]
        self.estimator = pipeline.named_steps["model"]
        try:
            self.forest = CompiledForest(self.estimator)
        except (AttributeError, KeyError, TypeError, ValueError):
            self.forest = None
        self.lookups: list[dict[str, int]] = []
        offset = 0
        for categories in encoder.categories_:
            self.lookups.append({str(c): offset + i for i, c in enumerate(categories)})
            offset += len(categories)
        self.numeric_offset = offset
        self.width = offset + len(self.numeric)

    @classmethod
    def from_parts(
        cls, lookups: list[dict[str, int]], forest: CompiledForest, schema: FeatureSchema
    ) -> FastScorer:
        """A scorer from saved encodings and trees, without the pipeline (lean artifact)."""
        scorer = cls.__new__(cls)
        scorer.names, scorer.categorical, scorer.numeric = (
            schema.names,
            schema.categorical,
            schema.numeric,
        )
        scorer.estimator, scorer.forest, scorer.lookups = None, forest, lookups
        scorer.numeric_offset = sum(len(lookup) for lookup in lookups)
        scorer.width = scorer.numeric_offset + len(scorer.numeric)
        return scorer

    def encode(self, rows: Sequence[Mapping[Any, Any]]) -> np.ndarray:
        matrix = np.array([self.encode_row(row) for row in rows], dtype=np.float64)
        return matrix.reshape(len(rows), self.width)

    def encode_row(self, row: Mapping[Any, Any]) -> list[Any]:
        """One row of the pipeline's matrix as a list (None for a missing value, NaN once
        in an array): the micro-batcher makes one array of a whole batch's rows."""
        values: list[Any] = [0.0] * self.width
        for lookup, name in zip(self.lookups, self.categorical, strict=True):
            index = lookup.get(row[name])
            if index is not None:  # unknown categories encode as all zeros, as trained
                values[index] = 1.0
        offset = self.numeric_offset
        for c, name in enumerate(self.numeric):
            values[offset + c] = row[name]
        return values

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        if self.forest is not None:
            return self.forest.predict_proba(matrix)
        return self.estimator.predict_proba(matrix)[:, 1]  # type: ignore[no-any-return]

    def check_against(self, pipeline: Any, sample: pd.DataFrame) -> bool:
        columns = list(self.names)
        rows = sample[columns].to_dict("records")
        expected = pipeline.predict_proba(sample[columns])[:, 1]
        matrix = self.encode(rows)
        if self.forest is not None and not np.allclose(
            self.forest.predict_proba(matrix), expected, rtol=0, atol=1e-9
        ):
            self.forest = None  # fall back to the estimator's own tree walk
        return bool(np.allclose(self.predict_proba(matrix), expected, rtol=0, atol=1e-9))
