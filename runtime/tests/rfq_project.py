"""The example tabular project the platform's tests drive: the template's own RFQ hit/miss
model (its features, pipeline, search space and sample, loaded as a package from
templates/project), bound the way a generated project binds it (`project.py`)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tempfile
from pathlib import Path

from pydantic import Field

from goldpath_runtime.tabular.project import TabularProject
from goldpath_runtime.tabular.settings import TabularSettings

TEMPLATE = Path(__file__).parents[2] / "templates" / "project"
# The package: what every project has, and the tabular kind's own modules from its folder
# of the template (copier.yml's tabular_layer), one package as a project renders them.
PACKAGE_SOURCE = TEMPLATE / "src" / "{{project_slug}}"
KIND_SOURCE = TEMPLATE / "{{ tabular_layer }}" / "src" / "{{project_slug}}"

RECORD = """\
model: rfq_desk
kind: tabular
owner: markets-ml
owner_email: markets-ml@bank.example
risk_tier: medium
purpose: Predicts whether an RFQ is won.
intended_use: Decision support.
limitations: Past requests only.
developer: markets-ml
materiality: medium
validity_months: 12
exceptions: []
latest: {}
"""

_spec = importlib.util.spec_from_file_location(
    "rfq_desk", PACKAGE_SOURCE / "__init__.py",
    submodule_search_locations=[str(PACKAGE_SOURCE), str(KIND_SOURCE)],
)  # fmt: skip
assert _spec is not None
assert _spec.loader is not None
_package = importlib.util.module_from_spec(_spec)
sys.modules["rfq_desk"] = _package
_spec.loader.exec_module(_package)
schema = importlib.import_module("rfq_desk.schema")
features = importlib.import_module("rfq_desk.features")
data = importlib.import_module("rfq_desk.data")


class Settings(TabularSettings):
    experiment_name: str = "rfq_desk"
    model_name: str = Field(default="rfq_desk", min_length=1)
    # Small and quick, yet a real search over a real pipeline.
    sample_rows: int = 1_500
    search_iterations: int = 2
    cv_folds: int = 2


# A wheel's layout: the package folder carries governance.yml (no checkout above it).
PACKAGE_DIR = Path(tempfile.mkdtemp(prefix="rfq_desk-")) / "rfq_desk"
PACKAGE_DIR.mkdir()
(PACKAGE_DIR / "governance.yml").write_text(RECORD)

PROJECT = TabularProject(
    package="rfq_desk",
    package_dir=PACKAGE_DIR,
    version="0.1.0",
    settings=Settings,
    schema=schema.SCHEMA,
    review_segment=schema.REVIEW_SEGMENT,
    pipeline=features.build_pipeline,
    search_space=lambda: features.PARAM_DISTRIBUTIONS,
    sample=data.make_rfq_sample,
)
