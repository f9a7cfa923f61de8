"""`goldpath check`: the option matrix from copier.yml, the pairwise cover, and the real
validators catching a broken template."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from generator._cli import main
from generator._options import (
    default_combination,
    full_matrix,
    options,
    pairwise,
    together,
    value_pairs,
)
from generator._template import REPO_ROOT, render

from .conftest import derived, template_copy


def test_full_matrix_honours_when_conditions() -> None:
    combos = full_matrix(REPO_ROOT)
    asked = options(REPO_ROOT)
    compute = len(asked["databricks_compute"].values)
    # github_enterprise is asked only when GitHub is one of the CI systems.
    cis = sum(2 if derived("uses_github", ci=ci) else 1 for ci in asked["ci"].values)
    tabular = cis
    for name in ("python_version", "serving", "cloud"):
        tabular *= len(asked[name].values)
    # The LLM kind is not asked `serving` (its service is always FastAPI).
    llm = len(asked["python_version"].values) * len(asked["cloud"].values) * cis
    # The compute is asked only with databricks; every project has a risk tier.
    tiers = len(asked["risk_tier"].values)
    assert len(combos) == (tabular + llm) * (1 + compute) * tiers
    for combo in combos:
        assert ("databricks_compute" in combo) is combo.get("databricks", False)
        assert ("serving" in combo) is (combo["project_kind"] == "tabular")
        assert ("github_enterprise" in combo) is (combo["ci"] in ("github", "both"))
    assert len({tuple(sorted(c.items())) for c in combos}) == len(combos)


def test_pairwise_covers_every_pair_with_far_fewer_renders() -> None:
    full, cover = full_matrix(REPO_ROOT), pairwise(REPO_ROOT)
    needed = set().union(*(value_pairs(c) for c in full))
    covered = set().union(*(value_pairs(c) for c in cover))
    assert needed == covered
    assert len(cover) < len(full) / 5
    # Every kind x CI x cloud, not only every pair: together they choose the pipelines.
    assert {together(c) for c in full} == {together(c) for c in cover}
    for question in ("project_kind", "serving", "cloud", "ci", "python_version"):
        assert {c.get(question) for c in cover} == {c.get(question) for c in full}
    # Spot check one cross-question pair explicitly.
    assert any(c["ci"] == "azure-devops" and c.get("serving") == "flask" for c in cover)
    assert list(itertools.islice(cover, 1))


def test_default_check_passes_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    assert main(["check", "--matrix", "default", "--jobs", "1", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    total = len(full_matrix(REPO_ROOT))
    assert f"default matrix: 1 combination(s) of {total} in the full matrix" in out
    assert "1 passed, 0 failed" in out
    document = json.loads(report.read_text())
    validators = {f["validator"] for f in document["results"][0]["findings"]}
    assert {"ruff", "ruff-format", "hadolint", "yamllint", "zizmor", "shellcheck"} <= validators


def test_broken_template_fails_with_the_validator_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = template_copy(tmp_path / "template")
    dockerfile = template / "templates" / "project" / "Dockerfile.jinja"
    dockerfile.write_text(dockerfile.read_text().replace("USER 10001:10001", "USER root"))
    report = tmp_path / "report.json"
    code = main(["check", "--matrix", "default", "--jobs", "1", "--template", str(template),
                 "--report", str(report)])  # fmt: skip
    assert code == 1
    out = capsys.readouterr().out
    assert "0 passed, 1 failed" in out
    assert "hadolint:" in out
    assert "DL3002" in out  # last USER should not be root
    failed = json.loads(report.read_text())["results"][0]
    assert failed["ok"] is False


def test_unknown_template_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check", "--template", str(tmp_path)]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_an_unwritable_report_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = tmp_path / "template"
    template.mkdir()
    (template / "copier.yml").write_text("project_name: [unclosed\n")
    assert main(["check", "--template", str(template), "--report", "/dev/full"]) == 1
    err = capsys.readouterr().err
    assert (
        err == "goldpath: error: --report /dev/full: cannot be written (No space left on device)\n"
    )


def test_pairwise_starts_with_the_combination_copier_renders_with_defaults(
    tmp_path: Path,
) -> None:
    """The defaults as copier answers them (`databricks_compute` is not asked when
    `databricks` is false): first in the cover, first in `goldpath check`'s plan."""
    project = render(tmp_path / "p", template=str(REPO_ROOT), vcs_ref="HEAD")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    asked = {k: v for k, v in answers.items() if k in options(REPO_ROOT)}
    cover = pairwise(REPO_ROOT)
    assert cover[0] == asked == default_combination(REPO_ROOT)
    assert "databricks_compute" not in cover[0]


def test_check_lists_its_plan_defaults_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = template_copy(tmp_path / "template")
    # Every render fails at once (no project folder to copy): the plan is what is tested.
    shutil.rmtree(template / "templates" / "project")
    main(["check", "--template", str(template), "--matrix", "pairwise", "--jobs", "2"])
    out = capsys.readouterr().out
    plan = [line for line in out.splitlines() if re.match(r"^\s+\d+\. ", line)]
    assert len(plan) == len(pairwise(REPO_ROOT))
    assert plan[0].strip().startswith("1. defaults (")
    assert all("defaults" not in line for line in plan[1:])
