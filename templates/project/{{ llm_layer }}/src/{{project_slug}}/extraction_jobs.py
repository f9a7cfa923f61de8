"""Entry points of the Databricks jobs (wheel tasks, see resources/*.job.yml): batch
extraction and the evaluation gate on Databricks (goldpath_runtime.llm.jobs)."""

from __future__ import annotations

from collections.abc import Sequence

from goldpath_runtime.llm import jobs

from .project import PROJECT


def extract_job(argv: Sequence[str] | None = None) -> None:
    jobs.extract_job(PROJECT, argv)


def eval_job(argv: Sequence[str] | None = None) -> None:
    jobs.eval_job(PROJECT, argv)
