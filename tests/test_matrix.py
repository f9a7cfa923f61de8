"""The one harness for option combinations: the combinations `goldpath check --matrix
pairwise` renders (every value pair, every kind x CI x cloud), each validated by the
validators `goldpath check` runs (ruff, formatting, hadolint, yamllint, zizmor, the GitHub
and Azure DevOps schemas, Renovate's, shellcheck, the Databricks bundle). The structural
tests (test_render, test_pipelines) take their combinations from the same list."""

from __future__ import annotations

import pytest

from generator._options import Combination, default_combination
from generator._template import REPO_ROOT
from generator._validate import validate_project

from .conftest import MATRIX, Render, derived, named

# Not in the quick subset (-m "not slow"): every linter on every combination.
pytestmark = pytest.mark.slow


def test_the_matrix_is_goldpath_checks_and_covers_every_kind_ci_and_cloud() -> None:
    joint = {(a["project_kind"], a["ci"], a["cloud"]) for a in MATRIX}
    kinds, cis, clouds = ({a[q] for a in MATRIX} for q in ("project_kind", "ci", "cloud"))
    assert len(joint) == len(kinds) * len(cis) * len(clouds)
    assert MATRIX[0] == default_combination(REPO_ROOT), "defaults first"


@pytest.mark.parametrize("answers", MATRIX, ids=named)
def test_every_validator_passes(rendered: Render, answers: Combination) -> None:
    findings = validate_project(rendered(**answers))
    failed = [f"{f.validator}:\n{f.output}" for f in findings if not f.ok]
    assert not failed, "\n\n".join(failed)
    ran = {f.validator for f in findings}
    expected = {"ruff", "ruff-format", "hadolint", "yamllint", "shellcheck"}
    if derived("uses_github", **answers):
        expected |= {"zizmor", "dependabot-schema"}  # after the workflows' schema passed
    if derived("uses_azure_devops", **answers):
        expected.add("azure-pipelines-schema")
    if derived("uses_gitlab", **answers):
        expected |= {"gitlab-ci-schema", "renovate-schema"}
    if answers.get("databricks"):
        expected.add("databricks-bundle")
    assert expected <= ran, f"not run: {sorted(expected - ran)}"
    [shellcheck] = [f for f in findings if f.validator == "shellcheck"]
    assert int(shellcheck.output.split()[0]) >= 3, "too few scripts found: the extraction broke"
