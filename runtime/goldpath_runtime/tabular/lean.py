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
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..errors import ProjectError
from .fastpath import FOREST_ARRAYS, CompiledForest, FastScorer

if TYPE_CHECKING:
    import pandas as pd

    from .features import FeatureSchema

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


class ExportedModel(Protocol):
    """What an export reads of a registered model version loaded with its pipeline."""

    @property
    def pipeline(self) -> Any: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def card_id(self) -> str: ...


def save(
    scorer: FastScorer, directory: Path, *, schema: FeatureSchema, name: str, version: str,
    threshold: float,
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
        "features": schema.layout(),
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


def load(
    directory: Path, schema: FeatureSchema, fix: str = "run `make export-model` again"
) -> LeanModel:
    """The artifact in `directory`, refused with one line if it is damaged or stale."""
    path = directory / LEAN_FILE
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            arrays = {name: saved[name] for name in FOREST_ARRAYS}
        if not isinstance(meta, dict):
            raise ValueError("its metadata is not an object")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise _unreadable(path, exc, fix) from None
    if meta.get("format") != FORMAT:
        raise ProjectError(f"{path} has format {meta.get('format')!r}, not {FORMAT}: {fix}")
    if meta.get("features") != schema.layout():
        raise ProjectError(f"{path} was exported for other features than this code's: {fix}")
    try:
        forest = CompiledForest.from_arrays(arrays, int(meta["depth"]), float(meta["baseline"]))
        scorer = FastScorer.from_parts(meta["lookups"], forest, schema)
        return LeanModel(
            scorer, str(meta["name"]), str(meta["version"]), str(path),
            float(meta["threshold"]), str(meta.get("card_id", "")),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise _unreadable(path, exc, fix) from None


def _unreadable(path: Path, exc: Exception, fix: str) -> ProjectError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, KeyError):
        reason = f"no {reason}"
    return ProjectError(f"{path} is not a readable serving model ({reason}): {fix}")


def export(
    model: ExportedModel, directory: Path, schema: FeatureSchema, sample: pd.DataFrame
) -> Path:
    """Compile `model` and write its artifact into `directory`, after checking it scores
    every row of `sample` exactly as the full pipeline does (no artifact otherwise)."""
    sample = sample[list(schema.names)]
    try:
        scorer = FastScorer(model.pipeline, schema)
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
        scorer, directory, schema=schema, name=model.name, version=model.version,
        threshold=model.threshold, checked_rows=len(sample), max_difference=difference,
        card_id=model.card_id,
    )  # fmt: skip
