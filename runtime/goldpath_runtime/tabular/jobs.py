"""The Databricks jobs of a tabular project (wheel tasks, its resources/*.job.yml): the
project's entry points hand its parts over (`train_job(PROJECT)`).

Each reads Unity Catalog tables through the active Spark session and reuses the same
functions as the local commands: `train`, `score_spark`, `detect_drift`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import ProjectError
from ..project import run_job
from .delta_history import delta_lineage, table_identifier, table_version
from .project import TabularProject


def _spark() -> object:
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()


def _configure(argv: Sequence[str] | None) -> list[str]:
    """Point settings at Databricks (MLflow tracking, Unity Catalog registry) and take the
    shared --model-name/--experiment options; returns the job's own arguments."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--model-name", required=True, help="catalog.schema.model")
    parser.add_argument("--experiment", help="workspace path of the MLflow experiment")
    known, rest = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    os.environ["MODEL_NAME"] = known.model_name
    if known.experiment:
        os.environ["EXPERIMENT_NAME"] = known.experiment
    os.environ.setdefault("MLFLOW_TRACKING_URI", "databricks")
    os.environ.setdefault("MLFLOW_REGISTRY_URI", "databricks-uc")
    return rest


def _train(project: TabularProject, argv: Sequence[str] | None) -> None:
    from .training import train

    parser = argparse.ArgumentParser(prog="train")
    parser.add_argument("--table", required=True, help="catalog.schema.table with labels")
    parser.add_argument("--trigger", help="why this run: recorded on the version")
    args = parser.parse_args(argv)
    if args.trigger:
        os.environ["TRAINING_TRIGGER"] = args.trigger
    settings = project.load_settings()
    spark: Any = _spark()
    table_identifier(args.table)  # a bad name is one line, before any work
    frame = spark.table(args.table).toPandas()
    # The dataset job wrote the raw tables' Delta versions into the table's history.
    result = train(project, settings, frame=frame, built_from=delta_lineage(spark, args.table))
    print(f"registered v{result.version}: gate {result.gate.summary()}")
    if not result.gate.passed:
        raise ProjectError(f"evaluation gate failed: {result.gate.summary()}")


def _batch(project: TabularProject, argv: Sequence[str] | None) -> None:
    from .registry import load_serving_model
    from .scoring import score_spark

    parser = argparse.ArgumentParser(prog="batch-score")
    parser.add_argument("--input-table", required=True)
    parser.add_argument("--output-table", required=True)
    args = parser.parse_args(argv)
    model = load_serving_model(project.load_settings())
    table = _spark().table(args.input_table)  # type: ignore[attr-defined]
    scored = score_spark(table, model, project.contract)
    scored.write.mode("append").saveAsTable(args.output_table)
    print(f"scored {args.input_table} into {args.output_table} with v{model.version}")


def _monitor(project: TabularProject, argv: Sequence[str] | None) -> None:
    from .drift import DRIFT_EXIT_CODE
    from .monitoring import monitor, said

    parser = argparse.ArgumentParser(prog="monitor")
    parser.add_argument("--reference-table", required=True)
    parser.add_argument("--current-table", required=True)
    parser.add_argument("--sample-rows", type=int, default=100_000)
    parser.add_argument("--retrain-job-id", help="the bundle's training job, started on a breach")
    args = parser.parse_args(argv)
    if args.retrain_job_id:
        os.environ.setdefault("RETRAIN_TRIGGER", "databricks")
        os.environ.setdefault("RETRAIN_PIPELINE", args.retrain_job_id)
    settings = project.load_settings()
    spark = _spark()
    reference = spark.table(args.reference_table).limit(args.sample_rows).toPandas()  # type: ignore[attr-defined]
    current = spark.table(args.current_table).limit(args.sample_rows).toPandas()  # type: ignore[attr-defined]
    result = monitor(project, settings, reference, current)
    print(result.report.to_json())
    for line in said(result):
        print(line)
    if result.report.drifted:
        raise SystemExit(DRIFT_EXIT_CODE)


def _dataset(project: TabularProject, argv: Sequence[str] | None) -> None:
    """Build the training table from the raw tables in Unity Catalog: each raw table held
    to its contract, only the request dates the table does not hold yet, appended with
    the raw tables' versions in the commit's metadata."""
    import json

    from pyspark.sql import functions as F

    from .pointintime_spark import build_spark

    parser = argparse.ArgumentParser(prog="dataset")
    parser.add_argument("--raw-schema", required=True, help="catalog.schema of the raw tables")
    parser.add_argument("--output-table", required=True, help="catalog.schema.table to build")
    parser.add_argument("--feature-table", action="store_true",
                        help="register the output as a Unity Catalog feature table")  # fmt: skip
    args = parser.parse_args(argv)
    if project.dataset is None:
        raise ProjectError("this project declares no dataset (project.py: dataset=...)")
    parts = project.dataset()
    definition = parts.definition
    spark: Any = _spark()
    names = sorted({definition.base, definition.label.table,
                    *(f.table for f in definition.features)})  # fmt: skip
    frames, versions = {}, {}
    for name in names:
        table = f"{args.raw_schema}.{name}"
        frame = spark.table(table)
        if name in parts.contracts:
            parts.contracts[name].validate_table(frame)
        frames[name], versions[name] = frame, table_version(spark, table)
    day = F.date_format(F.col(definition.time), "yyyy-MM-dd")
    built_days: set[str] = set()
    if spark.catalog.tableExists(args.output_table):
        done = spark.table(args.output_table).select(day.alias("day")).distinct().collect()
        built_days = {row["day"] for row in done}
    base = frames[definition.base]
    frames[definition.base] = base.where(~day.isin(sorted(built_days))) if built_days else base
    table = build_spark(definition, frames)
    new_days = sorted(r["day"] for r in table.select(day.alias("day")).distinct().collect())
    if new_days:
        (table.write.mode("append").option("userMetadata", json.dumps({"raw_inputs": versions}))
         .saveAsTable(args.output_table))  # fmt: skip
    print(f"built {len(new_days)} new date(s) into {args.output_table} "
          f"({len(built_days)} kept); raw inputs: {json.dumps(versions)}")  # fmt: skip
    if args.feature_table and (new_days or built_days):
        from .feature_table import register_feature_table

        keys = [definition.row_id]
        if register_feature_table(spark, args.output_table, keys, definition.time):
            print(f"registered {args.output_table} as a feature table: "
                  f"{definition.row_id} by {definition.time}")  # fmt: skip


def dataset_job(project: TabularProject, argv: Sequence[str] | None = None) -> None:
    run_job(_dataset, project, _configure(argv))


def train_job(project: TabularProject, argv: Sequence[str] | None = None) -> None:
    run_job(_train, project, _configure(argv))


def batch_job(project: TabularProject, argv: Sequence[str] | None = None) -> None:
    run_job(_batch, project, _configure(argv))


def monitor_job(project: TabularProject, argv: Sequence[str] | None = None) -> None:
    run_job(_monitor, project, _configure(argv))
