"""The data contract of training and batch input, enforced by pandera.

Declared once, from a project's FeatureSchema: the same checks (`pandera.Check`, which both
pandera backends run) validate pandas frames (training, the pandas batch engine,
monitoring) and Spark tables (the Spark batch job), and both report the same one-line
problems: the column, the rule, and how many rows break it. The serving path never imports
this module: a request is one row, checked by the pydantic model the schema derives.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd
import pandera.pandas as pa
from pandera.api.checks import Check
from pandera.errors import SchemaErrors

from ..errors import DataValidationError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

    from .features import Feature, FeatureSchema

CLASSES = (0, 1)
# Rules are named by their `error` text; the row count and examples are added per run.
NOT_NULL = "must have a value"
A_NUMBER = "must be a number"
BOTH_CLASSES = "both classes (0 and 1) must be present"


def _checks(feature: Feature) -> list[Check]:
    if feature.is_categorical:
        return [Check.isin(feature.categories, error=f"must be one of {list(feature.categories)}")]
    checks = []
    if feature.gt is not None:
        checks.append(Check.gt(feature.gt, error=f"must be greater than {feature.gt:g}"))
    if feature.le is not None:
        checks.append(Check.le(feature.le, error=f"must be at most {feature.le:g}"))
    return checks


def _target_checks() -> list[Check]:
    return [
        Check.isin([float(c) for c in CLASSES], error="must be 0 or 1"),
        Check(lambda s: s.nunique() == len(CLASSES), element_wise=False, error=BOTH_CLASSES),
    ]


class Contract:
    """A project's data contract: `validate_frame` for pandas, `validate_table` for Spark."""

    def __init__(self, schema: FeatureSchema) -> None:
        self.schema = schema

    def pandas_schema(self, *, require_target: bool) -> pa.DataFrameSchema:
        """The contract for a pandas frame; extra columns pass through (an id, a time)."""
        return self._pandas_schemas[require_target]

    @cached_property
    def _pandas_schemas(self) -> dict[bool, pa.DataFrameSchema]:
        columns = {
            f.name: pa.Column(
                None if f.is_categorical else "float64",
                _checks(f),
                nullable=False,
                coerce=not f.is_categorical,
            )
            for f in self.schema.features
        }
        target = {
            self.schema.target: pa.Column("float64", _target_checks(), nullable=False, coerce=True)
        }
        return {
            False: pa.DataFrameSchema(columns, name="feature contract"),
            True: pa.DataFrameSchema({**columns, **target}, name="feature contract"),
        }

    def validate_frame(self, frame: pd.DataFrame, *, require_target: bool = False) -> pd.DataFrame:
        """The feature columns (and target) of `frame` in canonical order and dtypes.

        Raises DataValidationError listing every problem, so one run shows the whole fix.
        """
        names, target = list(self.schema.names), self.schema.target
        if frame.empty:  # every rule holds on no rows, except "both classes": say what is wrong
            wanted = [*names, *([target] if require_target else [])]
            missing = [name for name in wanted if name not in frame.columns]
            raise DataValidationError(
                [f"missing column(s) {', '.join(missing)}" if missing else "no rows"]
            )
        try:
            checked = self.pandas_schema(require_target=require_target).validate(frame, lazy=True)
        except SchemaErrors as exc:
            raise DataValidationError(self._pandas_problems(exc.failure_cases)) from None
        out = checked[names].copy()
        for feature in self.schema.features:
            if feature.is_categorical:
                out[feature.name] = out[feature.name].astype(str)
        if require_target:
            out[target] = checked[target].astype("int64")
        return out

    def _pandas_problems(self, cases: pd.DataFrame) -> list[str]:
        missing = cases.loc[cases["check"] == "column_in_dataframe", "failure_case"]
        if len(missing):
            return [f"missing column(s) {', '.join(self._in_order(missing.astype(str)))}"]
        found: dict[str, dict[str, tuple[int, list[Any]]]] = {}
        for (column, check), rows in cases.groupby(["column", "check"], sort=False):
            failing = rows["index"].dropna()  # one case per failing row (an index may repeat)
            found.setdefault(str(column), {})[str(check)] = (
                len(failing),
                list(dict.fromkeys(rows.loc[failing.index, "failure_case"])),
            )
        problems = []
        for column in self._in_order(found):
            checks = found[column]
            coerced = next((v for c, v in checks.items() if c.startswith("coerce_dtype(")), None)
            if coerced is not None:
                # Range checks on text raise instead of counting: the one fix is the type.
                problems.append(_problem(column, A_NUMBER, *coerced))
                checks = {c: v for c, v in checks.items() if c == "not_nullable"}
            for check, (count, examples) in checks.items():
                if check.startswith("dtype("):
                    continue
                rule = NOT_NULL if check == "not_nullable" else check
                shown = examples if check.startswith("must be one of") else []
                problems.append(_problem(column, rule, count, shown))
        return problems

    def _in_order(self, columns: Any) -> list[str]:
        order = [*self.schema.names, self.schema.target]
        return sorted(set(columns), key=lambda c: order.index(c) if c in order else len(order))

    # Spark --------------------------------------------------------------------------------

    def spark_schema(self) -> Any:
        """The same contract for a Spark table: numbers as doubles, categories as strings."""
        import pandera.pyspark as ps
        from pyspark.sql import types as T

        return ps.DataFrameSchema(
            {
                f.name: ps.Column(
                    T.StringType() if f.is_categorical else T.DoubleType(),
                    _checks(f),
                    nullable=False,
                )
                for f in self.schema.features
            },
            name="feature contract",
        )

    def validate_table(self, table: SparkDataFrame) -> SparkDataFrame:
        """Check a Spark table against the contract before any row is scored.

        Integer columns are widened to double first (a table may store a count as a long);
        text where a number belongs is a type problem, named as such. The returned table is
        cached (the checks and the scoring read the input once). Raises
        DataValidationError with the pandas engine's wording and counts.
        """
        from pandera.config import config_context
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        missing = [name for name in self.schema.names if name not in table.columns]
        if missing:
            raise DataValidationError([f"missing column(s) {', '.join(missing)}"])
        types = dict(table.dtypes)
        for feature in self.schema.features:
            if not feature.is_categorical and isinstance(
                table.schema[feature.name].dataType, T.NumericType
            ):
                table = table.withColumn(feature.name, F.col(feature.name).cast("double"))
        # Each check is a Spark job over the table: cached, the input is read once for all
        # of them and for the scoring after (Spark spills what does not fit in memory).
        with config_context(cache_dataframe=True, keep_cached_dataframe=True):
            checked = self.spark_schema().validate(table)
        errors = checked.pandera.errors
        if not errors:
            if checked.limit(1).count() == 0:
                raise DataValidationError(["no rows"])
            return checked  # type: ignore[no-any-return]

        failures: list[tuple[str, str]] = []  # (column, rule), in the order pandera found them
        wrong_type: dict[str, str] = {}
        for scope in errors.values():
            for reason, items in scope.items():
                for item in items:
                    column = str(item["column"])
                    if reason == "WRONG_DATATYPE":
                        wrong_type[column] = types[column]
                    elif reason == "SERIES_CONTAINS_NULLS":
                        failures.append((column, NOT_NULL))
                    elif reason == "DATAFRAME_CHECK":
                        failures.append((column, str(item["check"])))
                    else:  # a reason this contract does not declare: say pandera's words
                        failures.append((column, " ".join(str(item["error"]).split())))
        counts = self._count_spark_failures(table, failures)
        problems = []
        for column in self._in_order([c for c, _ in failures] + list(wrong_type)):
            if column in wrong_type:
                kind = "text (string)" if self.schema.feature(column).is_categorical else "a number"
                problems.append(f"{column}: must be {kind}, the table has {wrong_type[column]}")
                continue
            for (failed, rule), (count, examples) in zip(failures, counts, strict=True):
                if failed == column:
                    problems.append(_problem(column, rule, count, examples))
        raise DataValidationError(problems)

    def _count_spark_failures(
        self, table: SparkDataFrame, failures: list[tuple[str, str]]
    ) -> list[tuple[int, list[Any]]]:
        """How many rows break each failed rule, in one pass over the table (pandera's Spark
        backend says whether a check failed, not how often), and a few offending categories."""
        from pyspark.sql import functions as F

        def broken(column: str, rule: str) -> Any:
            value = F.col(column)
            if rule == NOT_NULL:
                return value.isNull()
            found = _checks(self.schema.feature(column))
            check = next((c for c in found if c.error == rule), None)
            if check is None:
                return F.lit(False)
            stats = check.statistics or {}
            condition = {
                "greater_than": lambda: value > F.lit(stats["min_value"]),
                "less_than_or_equal_to": lambda: value <= F.lit(stats["max_value"]),
                "isin": lambda: value.isin(list(stats["allowed_values"])),
            }[str(check.name)]()
            return value.isNotNull() & ~condition

        if not failures:
            return []
        row = table.select(
            *(
                F.sum(F.when(broken(column, rule), 1).otherwise(0)).alias(f"c{i}")
                for i, (column, rule) in enumerate(failures)
            )
        ).first()
        counted = []
        for i, (column, rule) in enumerate(failures):
            examples: list[Any] = []
            if rule.startswith("must be one of"):
                picked = table.where(broken(column, rule)).select(column).distinct().limit(5)
                examples = [r[0] for r in picked.collect()]
            counted.append((int(row[f"c{i}"] or 0), examples))  # type: ignore[index]
        return counted


def _problem(column: str, rule: str, rows: int, examples: list[Any]) -> str:
    if rule == BOTH_CLASSES:
        return f"{column}: {rule}"
    found = f": {', '.join(repr(e) for e in sorted(examples, key=str)[:5])}" if examples else ""
    return f"{column}: {rule} ({rows} row(s) fail{found})"
