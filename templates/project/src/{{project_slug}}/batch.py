"""Batch scoring of a CSV or Parquet file with the serving model (pandas engine)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .data import check_output_path, read_table, write_table
from .registry import LoadedModel
from .scoring import OUTPUT_COLUMNS, score_pandas

__all__ = ["OUTPUT_COLUMNS", "BatchReport", "score_file"]


@dataclass(frozen=True)
class BatchReport:
    rows: int
    model_version: str
    output: Path


def score_file(source: Path, destination: Path, model: LoadedModel) -> BatchReport:
    check_output_path(destination)
    scored = score_pandas(read_table(source), model)
    write_table(scored, destination)
    return BatchReport(len(scored), model.version, destination)
