"""Entry points of the Databricks jobs (wheel tasks, see resources/*.job.yml): batch
extraction and the evaluation gate on Databricks (goldpath_runtime.llm.jobs)."""

from __future__ import annotations

from goldpath_runtime.llm import jobs

from .project import PROJECT


def extract_job() -> None:
    jobs.extract_job(PROJECT)


def eval_job() -> None:
    jobs.eval_job(PROJECT)
