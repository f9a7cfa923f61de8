"""The Databricks jobs of an extraction project (wheel tasks, its resources/*.job.yml): the
project's entry points hand its parts over (`extract_job(PROJECT)`).

Both point the settings at Databricks (MLflow tracking, the Unity Catalog prompt registry,
a model-serving endpoint as the provider) and reuse the local commands' functions:
`extract_spark` for batch extraction, `evaluate` for the evaluation gate.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..errors import GateFailedError, ProjectError
from ..project import run_job
from .budget import BUDGET_REACHED
from .project import ExtractionProject


def _configure(argv: Sequence[str] | None) -> list[str]:
    """The options every job shares; returns the job's own arguments."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--prompt-name", required=True, help="catalog.schema.prompt")
    parser.add_argument("--serving-endpoint", required=True, help="model-serving endpoint")
    parser.add_argument("--experiment", help="workspace path of the MLflow experiment")
    parser.add_argument("--token-budget", type=int, help="TOKEN_BUDGET for this run")
    known, rest = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    os.environ["PROMPT_NAME"] = known.prompt_name
    os.environ["PROVIDER_MODEL"] = known.serving_endpoint
    if known.experiment:
        os.environ["EXPERIMENT_NAME"] = known.experiment
    if known.token_budget is not None:
        os.environ["TOKEN_BUDGET"] = str(known.token_budget)
    os.environ.setdefault("PROVIDER", "databricks")
    os.environ.setdefault("MLFLOW_TRACKING_URI", "databricks")
    os.environ.setdefault("MLFLOW_REGISTRY_URI", "databricks-uc")
    return rest


def _extract(project: ExtractionProject, argv: list[str]) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import col, lit

    from .batch import Checkpoint, extract_spark
    from .prompts import load_serving_prompt

    parser = argparse.ArgumentParser(prog="extract")
    parser.add_argument("--input-table", required=True, help="messages: message_id, message")
    parser.add_argument("--output-table", required=True)
    parser.add_argument(
        "--checkpoint-dir", type=Path, default=None,
        help="a folder every task writes to (a Unity Catalog volume: /Volumes/...): rows are "
        "kept there as they arrive, and a rerun after a kill does not pay for them again",
    )  # fmt: skip
    args = parser.parse_args(argv)
    settings = project.load_settings()
    prompt = load_serving_prompt(settings)
    spark = SparkSession.builder.getOrCreate()
    at = datetime.now(UTC)
    checkpoint = Checkpoint(args.checkpoint_dir, prompt) if args.checkpoint_dir else None
    extracted = extract_spark(
        spark.table(args.input_table),
        settings,
        prompt,
        project.schema,
        extracted_at=at,
        checkpoint=checkpoint,
    )
    # Every row is written, those the cost guard stopped with their error: what was paid
    # for is kept. Counted from the written table, so nothing is extracted (paid) twice.
    extracted.write.mode("append").saveAsTable(args.output_table)
    written = spark.table(args.output_table).where(col("extracted_at") == lit(at))
    unpaid = written.where(col("error").startswith(BUDGET_REACHED)).count()
    print(f"extracted {args.input_table} into {args.output_table} with prompt v{prompt.version}")
    if checkpoint is not None and not unpaid:
        checkpoint.remove()  # every row is in the table: the next run starts afresh
    if unpaid:
        raise ProjectError(
            f"{unpaid} message(s) not extracted: token budget reached (their rows carry the "
            f"error); rerun them with a larger --token-budget"
        )


def _eval(project: ExtractionProject, argv: list[str]) -> None:
    from .gate import evaluate, render_report
    from .prompts import Prompt

    parser = argparse.ArgumentParser(prog="eval")
    parser.add_argument("--prompt-file", type=Path, required=True)
    parser.add_argument("--evaluation-set", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = project.load_settings(evaluation_set=args.evaluation_set)
    try:
        text = args.prompt_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ProjectError(f"--prompt-file {args.prompt_file}: {exc.strerror}") from None
    report = evaluate(project, settings, Prompt(settings.prompt_name, "working", text))
    print(render_report(report))
    if not report.passed:
        raise GateFailedError("evaluation gate failed")


def extract_job(project: ExtractionProject, argv: Sequence[str] | None = None) -> None:
    run_job(_extract, project, _configure(argv))


def eval_job(project: ExtractionProject, argv: Sequence[str] | None = None) -> None:
    run_job(_eval, project, _configure(argv))
