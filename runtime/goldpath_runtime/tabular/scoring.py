"""One scoring function, two engines with the same output schema.

`score_pandas` scores a DataFrame in process; `score_spark` scores a Spark DataFrame on
the cluster by shipping the fitted pipeline to executors and calling the very same
`score_pandas` on each Arrow batch (`mapInPandas`), so both engines cannot diverge. Both
check their input against the same data contract (`contract`) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from .registry import LoadedModel
from .tables import check_output_path, read_table, write_table

if TYPE_CHECKING:
    from .contract import Contract

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame as SparkDataFrame

OUTPUT_COLUMNS = ("prediction", "probability", "model_version", "model_card", "scored_at")


def score_pandas(
    frame: pd.DataFrame, model: LoadedModel, contract: Contract, scored_at: datetime | None = None
) -> pd.DataFrame:
    """The input rows with prediction, probability, model_version, model_card (the version's
    card id, for lineage) and scored_at appended."""
    features = contract.validate_frame(frame)[list(contract.schema.names)]
    labels, probability = model.predict(features)
    out = frame.copy()
    out["prediction"] = labels.astype("int64")
    out["probability"] = probability.astype("float64")
    out["model_version"] = str(model.version)
    out["model_card"] = model.card_id
    out["scored_at"] = pd.Timestamp(scored_at or datetime.now(UTC)).tz_convert("UTC")
    return out


def _output_schema(input_schema: Any) -> Any:
    from pyspark.sql.types import (
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampType,
    )

    return StructType(
        [
            *input_schema.fields,
            StructField("prediction", LongType(), False),
            StructField("probability", DoubleType(), False),
            StructField("model_version", StringType(), False),
            StructField("model_card", StringType(), False),
            StructField("scored_at", TimestampType(), False),
        ]
    )


def score_spark(frame: SparkDataFrame, model: LoadedModel, contract: Contract) -> SparkDataFrame:
    """Score a Spark DataFrame; every batch is scored by `score_pandas` on an executor.

    The whole table meets the data contract first (pandera on Spark), so a bad table stops
    the job with one line naming the column, the rule and the failing rows, before any
    executor scores a batch or a row is written."""
    frame = contract.validate_table(frame)
    scored_at = datetime.now(UTC)

    def score_batches(batches: Any) -> Any:
        for batch in batches:
            yield score_pandas(batch, model, contract, scored_at)

    return frame.mapInPandas(score_batches, schema=_output_schema(frame.schema))


@dataclass(frozen=True)
class BatchReport:
    rows: int
    model_version: str
    output: Path


def score_file(
    source: Path, destination: Path, model: LoadedModel, contract: Contract
) -> BatchReport:
    """Score a CSV or Parquet file into another (pandas engine)."""
    check_output_path(destination)
    scored = score_pandas(read_table(source), model, contract)
    write_table(scored, destination)
    return BatchReport(len(scored), model.version, destination)
