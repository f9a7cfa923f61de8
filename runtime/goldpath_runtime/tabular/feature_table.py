"""The built training table as a Unity Catalog feature table: in Unity Catalog any Delta
table with a primary key is one, and a key with a TIMESERIES column is looked up point in
time (`FeatureLookup(table_name=..., lookup_key="rfq_id",
timestamp_lookup_key="requested_at")` in training sets and `score_batch`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ProjectError
from .delta_history import table_identifier


def primary_key_name(table: str) -> str:
    return f"{table.split('.')[-1]}_pk"


def has_primary_key(spark: Any, table: str) -> bool:
    catalog, schema, name = table.split(".")
    # The catalog is a quoted identifier; the other names are bound parameters.
    rows = spark.sql(
        f"SELECT constraint_name FROM {table_identifier(catalog)}.information_schema"  # noqa: S608
        ".table_constraints WHERE table_schema = :schema AND table_name = :name"
        " AND constraint_type = 'PRIMARY KEY'",
        args={"schema": schema, "name": name},
    ).collect()
    return bool(rows)


def register_feature_table(spark: Any, table: str, keys: Sequence[str], timeseries: str) -> bool:
    """Give `table` its primary key (`keys`, then `timeseries` as its TIMESERIES column),
    its key columns made NOT NULL first as Unity Catalog requires. False: it had one."""
    quoted = table_identifier(table)
    if len(table.split(".")) != 3:
        raise ProjectError(f"feature table {table!r}: Unity Catalog needs catalog.schema.table")
    columns = [*dict.fromkeys([*keys, timeseries])]
    for column in columns:
        table_identifier(column)  # a column name is one identifier too
    if has_primary_key(spark, table):
        return False
    for column in columns:
        spark.sql(f"ALTER TABLE {quoted} ALTER COLUMN `{column}` SET NOT NULL")
    key = ", ".join([*(f"`{c}`" for c in columns if c != timeseries), f"`{timeseries}` TIMESERIES"])
    spark.sql(
        f"ALTER TABLE {quoted} ADD CONSTRAINT `{primary_key_name(table)}` PRIMARY KEY ({key})"
    )
    return True
