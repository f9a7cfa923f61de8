"""`pointintime`'s definitions on Spark (Databricks, or PySpark's local mode in tests):
the same as-of rule (the last row known strictly before the base row's time, ties broken
by the larger value) and the same label, so both engines build the same table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ProjectError
from .pointintime import Definition


def build_spark(definition: Definition, frames: Mapping[str, Any]) -> Any:
    """The training table as a Spark DataFrame, from Spark DataFrames of the raw tables."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    for name in {definition.base, definition.label.table, *(f.table for f in definition.features)}:
        if name not in frames:
            raise ProjectError(f"raw table {name!r} is missing: the dataset reads it")
    base = frames[definition.base]
    out = base.select(definition.row_id, definition.time, *definition.carried)
    for feature in definition.features:
        clock = definition.clock(feature)
        anchor = base.select(
            F.col(definition.row_id).alias("_row"), F.col(definition.time).alias("_time"),
            F.col(feature.key).alias("_key"),
        )  # fmt: skip
        source = frames[feature.table].select(
            F.col(feature.key).alias("_key"), F.col(clock).alias("_known"),
            F.col(feature.column).alias("_value"),
        ).where(F.col("_key").isNotNull() & F.col("_known").isNotNull())  # fmt: skip
        candidates = anchor.join(source, "_key").where(F.col("_known") < F.col("_time"))
        latest = Window.partitionBy("_row").orderBy(
            F.col("_known").desc(), F.col("_value").desc_nulls_last()
        )
        picked = (
            candidates.withColumn("_rank", F.row_number().over(latest))
            .where(F.col("_rank") == 1)
            .select(F.col("_row").alias(definition.row_id), F.col("_value").alias(feature.name))
        )
        out = out.join(picked, definition.row_id, "left")
    label = definition.label
    outcomes = frames[label.table].select(F.col(label.key).alias("_outcome")).distinct()
    flagged = base.select(definition.row_id, label.key).join(
        outcomes, base[label.key] == outcomes["_outcome"], "left"
    )
    flagged = flagged.select(
        definition.row_id, F.col("_outcome").isNotNull().cast("long").alias(label.name)
    )
    return out.join(flagged, definition.row_id).select(*definition.columns)
