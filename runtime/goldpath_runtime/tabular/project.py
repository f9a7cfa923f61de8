"""A tabular model project, as the platform sees it: the parts its team owns, handed over
once (the project's `project.py`), for the platform's training, registry, batch scoring
and command line to use. The serving path never imports it (a lean worker loads neither
scikit-learn nor pandas)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..project import Project
from .features import FeatureSchema
from .settings import TabularSettings

if TYPE_CHECKING:
    import pandas as pd

    from .contract import Contract
    from .dataset import DatasetParts


@dataclass(frozen=True)
class TabularProject(Project):
    """`package`: the import name; `package_dir`: its folder (the governance record is found
    from it, and provenance read above it); `settings`: the project's TabularSettings;
    `schema`: its features; `review_segment`: the column the model card reports by;
    `pipeline`: a fresh scikit-learn pipeline for a seed; `search_space`: its
    hyperparameters for RandomizedSearchCV (both called when training, so a command
    that does not train never imports scikit-learn); `sample`: `sample(rows, seed)` generated rows
    with the target, standing in for the team's table."""

    settings: type[TabularSettings]
    schema: FeatureSchema
    review_segment: str
    pipeline: Callable[[int], Any]
    search_space: Callable[[], Mapping[str, Sequence[Any]]]
    sample: Callable[[int, int], pd.DataFrame]
    # `dataset()`: the definition of the training table built from raw tables, their
    # contracts and generator (goldpath_runtime.tabular.dataset.DatasetParts).
    dataset: Callable[[], DatasetParts] | None = None

    @cached_property
    def contract(self) -> Contract:
        from .contract import Contract

        return Contract(self.schema)
