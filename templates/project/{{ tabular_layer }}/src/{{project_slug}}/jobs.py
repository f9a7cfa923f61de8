"""Entry points of the Databricks jobs (wheel tasks, see resources/*.job.yml): the dataset,
training, batch scoring and drift monitoring on Unity Catalog tables
(goldpath_runtime.tabular.jobs)."""

from __future__ import annotations

from collections.abc import Sequence

from goldpath_runtime.tabular import jobs

from .project import PROJECT


def dataset_job(argv: Sequence[str] | None = None) -> None:
    jobs.dataset_job(PROJECT, argv)


def train_job(argv: Sequence[str] | None = None) -> None:
    jobs.train_job(PROJECT, argv)


def batch_job(argv: Sequence[str] | None = None) -> None:
    jobs.batch_job(PROJECT, argv)


def monitor_job(argv: Sequence[str] | None = None) -> None:
    jobs.monitor_job(PROJECT, argv)
