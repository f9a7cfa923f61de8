"""`pointintime`'s definitions on Spark (Databricks, or PySpark's local mode in tests):
the same as-of rule (the last row known strictly before the base row's time, ties broken
by the larger value), the same trailing windows and the same label, so both engines build
the same table. An as-of or trailing feature is one window over the base and source rows
of each key, sorted by time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ProjectError
from .pointintime import AsOf, Definition, Trailing


def _as_of(definition: Definition, feature: AsOf, base: Any, table: Any) -> Any:
    """(row id, feature) for every base row: the base rows and the source rows in one
    sequence per key, ordered by time, each base row taking the last source row before
    it. A sort per key, not a join of every row with every earlier one."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    clock = definition.clock(feature)
    value_type = table.schema[feature.column].dataType
    sources = table.where(F.col(feature.key).isNotNull() & F.col(clock).isNotNull()).select(
        F.col(feature.key).alias("_key"), F.col(clock).cast("timestamp").alias("_t"),
        F.lit(1).alias("_side"), F.col(feature.column).alias("_value"),
        F.lit(None).cast(base.schema[definition.row_id].dataType).alias("_row"),
    )  # fmt: skip
    anchors = base.where(F.col(feature.key).isNotNull()).select(
        F.col(feature.key).alias("_key"), F.col(definition.time).cast("timestamp").alias("_t"),
        F.lit(0).alias("_side"), F.lit(None).cast(value_type).alias("_value"),
        F.col(definition.row_id).alias("_row"),
    )  # fmt: skip
    # At one instant a base row comes first (a source row of that instant is not before
    # it); source rows of one instant by value, so the last seen is the largest (pandas').
    ordered = (
        Window.partitionBy("_key")
        .orderBy("_t", "_side", F.col("_value").asc_nulls_first())
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    seen = F.when(F.col("_side") == 1, F.struct(F.col("_value").alias("v")))
    return (
        sources.unionByName(anchors)
        .withColumn("_last", F.last(seen, ignorenulls=True).over(ordered))
        .where(F.col("_side") == 0)
        .select(F.col("_row").alias(definition.row_id), F.col("_last.v").alias(feature.name))
    )


def _trailing(definition: Definition, feature: Trailing, base: Any, table: Any) -> Any:
    """(row id, feature) for every base row: running totals of the key's source rows read
    just before the row's time and just before the window's start, in one cumulative
    window (linear in the rows; a sliding range frame recomputes its whole frame per row,
    which cost 30x at a million RFQs), the window being their difference."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    clock = definition.clock(feature)
    sources = table.where(F.col(feature.key).isNotNull() & F.col(clock).isNotNull()).select(
        F.col(feature.key).alias("_key"),
        F.unix_micros(F.col(clock).cast("timestamp")).alias("_t"),
        F.col(feature.column).cast("double").alias("_value"), F.lit(1).alias("_side"),
        F.lit(None).cast(base.schema[definition.row_id].dataType).alias("_row"),
        F.lit(0).alias("_sign"),
    )  # fmt: skip
    micros = round(feature.window.total_seconds() * 1_000_000)
    now = F.unix_micros(F.col(definition.time).cast("timestamp"))
    # Each base row twice: at its time (+) and at its window's start (-). (A row without
    # a key gets the empty window's value, as on pandas.)
    anchors = base.select(
        F.col(feature.key).alias("_key"), F.explode(F.array(
            F.struct(now.alias("_t"), F.lit(1).alias("_sign")),
            F.struct((now - F.lit(micros)).alias("_t"), F.lit(-1).alias("_sign")),
        )).alias("_at"), F.col(definition.row_id).alias("_row"),
    ).select(
        "_key", F.col("_at._t").alias("_t"), F.lit(None).cast("double").alias("_value"),
        F.lit(0).alias("_side"), "_row", F.col("_at._sign").alias("_sign"),
    )  # fmt: skip
    # At one instant the anchors come first: a source row of that instant is not before.
    running = (
        Window.partitionBy("_key")
        .orderBy("_t", "_side")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    counted = F.when(F.col("_side") == 1, F.col("_value"))
    totals = (
        sources.unionByName(anchors)
        .withColumn("_sum", F.coalesce(F.sum(counted).over(running), F.lit(0.0)))
        .withColumn("_n", F.count(counted).over(running).cast("long"))
        .where(F.col("_side") == 0)
        .groupBy("_row")
        .agg(F.sum(F.col("_sum") * F.col("_sign")).alias("_sum"),
             F.sum(F.col("_n") * F.col("_sign")).cast("long").alias("_n"))
    )  # fmt: skip
    value = feature.combine(F.col("_sum"), F.col("_n"))
    return totals.select(F.col("_row").alias(definition.row_id), value.alias(feature.name))


def build_spark(definition: Definition, frames: Mapping[str, Any]) -> Any:
    """The training table as a Spark DataFrame, from Spark DataFrames of the raw tables."""
    from pyspark.sql import functions as F

    for name in {definition.base, definition.label.table, *(f.table for f in definition.features)}:
        if name not in frames:
            raise ProjectError(f"raw table {name!r} is missing: the dataset reads it")
    base = frames[definition.base]
    out = base.select(definition.row_id, definition.time, *definition.carried)
    for feature in definition.features:
        source = frames[feature.table]
        if isinstance(feature, Trailing):
            values = _trailing(definition, feature, base, source)
        else:
            values = _as_of(definition, feature, base, source)
        out = out.join(values, definition.row_id, "left")
    label = definition.label
    outcomes = frames[label.table].select(F.col(label.key).alias("_outcome")).distinct()
    # (The label's key may be the row id itself: both are taken under names of their own.)
    keyed = base.select(F.col(definition.row_id).alias("_id"), F.col(label.key).alias("_lk"))
    flagged = keyed.join(outcomes, keyed["_lk"] == outcomes["_outcome"], "left").select(
        F.col("_id").alias(definition.row_id),
        F.col("_outcome").isNotNull().cast("long").alias(label.name),
    )
    return out.join(flagged, definition.row_id).select(*definition.columns)
