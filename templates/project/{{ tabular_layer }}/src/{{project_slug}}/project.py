"""This project's parts, handed to the platform (goldpath_runtime.tabular): training, the
registry, batch scoring, the jobs and the command line take them from here. The serving
path does not import this module (a lean worker loads neither scikit-learn nor pandas)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goldpath_runtime.tabular.project import TabularProject

from . import __version__
from .config import PACKAGE, Settings
from .data import make_rfq_sample
from .schema import REVIEW_SEGMENT, SCHEMA


def _pipeline(seed: int) -> Any:
    from .features import build_pipeline

    return build_pipeline(seed)


def _search_space() -> dict[str, list[Any]]:
    from .features import PARAM_DISTRIBUTIONS

    return PARAM_DISTRIBUTIONS


def _dataset() -> Any:
    from .dataset import parts

    return parts()


PROJECT = TabularProject(
    package=PACKAGE,
    package_dir=Path(__file__).resolve().parent,
    version=__version__,
    settings=Settings,
    schema=SCHEMA,
    review_segment=REVIEW_SEGMENT,
    pipeline=_pipeline,
    search_space=_search_space,
    sample=make_rfq_sample,
    dataset=_dataset,
)
