"""Batch scoring of a CSV or Parquet file with the serving model (pandas engine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .data import check_output_path, read_table, write_table
from .registry import LoadedModel
from .schema import FEATURE_NAMES, validate_frame

OUTPUT_COLUMNS = ("prediction", "probability", "model_version", "scored_at")


def score_frame(frame: pd.DataFrame, model: LoadedModel) -> pd.DataFrame:
    """The input rows with prediction, probability, model_version and scored_at appended."""
    features = validate_frame(frame)[list(FEATURE_NAMES)]
    labels, probability = model.predict(features)
    out = frame.copy()
    out["prediction"] = labels
    out["probability"] = probability
    out["model_version"] = model.version
    out["scored_at"] = pd.Timestamp(datetime.now(UTC))
    return out


@dataclass(frozen=True)
class BatchReport:
    rows: int
    model_version: str
    output: Path


def score_file(source: Path, destination: Path, model: LoadedModel) -> BatchReport:
    check_output_path(destination)
    scored = score_frame(read_table(source), model)
    write_table(scored, destination)
    return BatchReport(len(scored), model.version, destination)
