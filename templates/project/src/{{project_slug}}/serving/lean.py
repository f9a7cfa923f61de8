"""The lean serving artifact: the champion's encodings and compiled trees in one .npz.

Serving it needs numpy and pydantic only. The full model needs MLflow, skops and
scikit-learn, which take most of a worker's start-up (seconds per worker, and every
scale-from-zero start is on a request's path) and most of the image. `make export-model`
writes it next to the MLflow model, after proving it scores sample rows exactly as the
full pipeline does; a baked image (MODEL_DIR) then serves it without importing any of them.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from goldpath_runtime.errors import ProjectError

from ..schema import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from .fastpath import FOREST_ARRAYS, CompiledForest, FastScorer

if TYPE_CHECKING:
    from ..registry import LoadedModel

LEAN_FILE = "serving-model.npz"
FORMAT = 1


@dataclass(frozen=True)
class LeanModel:
    """What the service needs of a model version: scorer, coordinates, decision threshold."""

    scorer: FastScorer
    name: str
    version: str
    uri: str
    threshold: float
    card_id: str = ""  # the model card of the version (lineage for what it answers)

    def labels(self, probability: np.ndarray) -> np.ndarray:
        return (probability >= self.threshold).astype("int64")


def _features() -> dict[str, list[str]]:
    return {"categorical": list(CATEGORICAL_FEATURES), "numeric": list(NUMERIC_FEATURES)}


def save(
    scorer: FastScorer, directory: Path, *, name: str, version: str, threshold: float,
    checked_rows: int, max_difference: float, card_id: str = "",
) -> Path:  # fmt: skip
    """Write the artifact; the caller has checked `scorer` against the full pipeline."""
    if scorer.forest is None:
        raise ProjectError("the model's trees could not be compiled: no lean artifact")
    meta = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "card_id": card_id,
        "threshold": threshold,
        "depth": scorer.forest.depth,
        "baseline": scorer.forest.baseline,
        "lookups": scorer.lookups,
        "features": _features(),
        "checked_rows": checked_rows,
        "max_difference": max_difference,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = directory / LEAN_FILE
    partial = path.with_suffix(".partial.npz")
    arrays = {"meta": np.array(json.dumps(meta)), **scorer.forest.arrays()}
    np.savez(partial, **arrays)  # type: ignore[arg-type]  # stubs read one as allow_pickle
    partial.replace(path)  # a killed export never leaves half an artifact to serve
    return path


def load(directory: Path) -> LeanModel:
    """The artifact in `directory`, refused with one line if it is damaged or stale."""
    path = directory / LEAN_FILE
    fix = "run `make export-model` again"
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta: dict[str, Any] = json.loads(str(saved["meta"]))
            arrays = {name: saved[name] for name in FOREST_ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ProjectError(f"{path} is not a readable serving model ({reason}): {fix}") from None
    if meta.get("format") != FORMAT:
        raise ProjectError(f"{path} has format {meta.get('format')!r}, not {FORMAT}: {fix}")
    if meta.get("features") != _features():
        raise ProjectError(f"{path} was exported for other features than this code's: {fix}")
    forest = CompiledForest.from_arrays(arrays, int(meta["depth"]), float(meta["baseline"]))
    scorer = FastScorer.from_parts(meta["lookups"], forest)
    return LeanModel(
        scorer, meta["name"], meta["version"], str(path), float(meta["threshold"]),
        str(meta.get("card_id", "")),
    )  # fmt: skip


def export(model: LoadedModel, directory: Path, rows: int = 512) -> Path:
    """Compile `model` and write its artifact into `directory`, after checking it scores
    `rows` generated rows exactly as the full pipeline does (no artifact otherwise)."""
    from ..data import make_rfq_sample
    from ..schema import FEATURE_NAMES, TARGET

    sample = make_rfq_sample(rows, seed=5).drop(columns=[TARGET])[list(FEATURE_NAMES)]
    try:
        scorer = FastScorer(model.pipeline)
    except (AttributeError, KeyError, TypeError) as exc:
        raise ProjectError(f"pipeline layout not recognised ({exc}): no lean artifact") from None
    if scorer.forest is None:
        raise ProjectError("the model's trees could not be compiled: no lean artifact")
    expected = model.pipeline.predict_proba(sample)[:, 1]
    got = scorer.predict_proba(scorer.encode(sample.to_dict("records")))
    difference = float(np.max(np.abs(got - expected)))
    if difference > 1e-9:
        raise ProjectError(
            f"the compiled model differs from the pipeline by {difference:.2e}: no lean artifact"
        )
    return save(
        scorer, directory, name=model.name, version=model.version, threshold=model.threshold,
        checked_rows=rows, max_difference=difference, card_id=model.card_id,
    )  # fmt: skip
