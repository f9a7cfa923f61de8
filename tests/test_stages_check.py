"""The platform's required stages check (.github/workflows/stages-check.yml, #30), run as
GitHub runs it (its own script, in the project's checkout) on generated projects: every
one that calls the platform's deploy stage passes; a project that pins another commit,
calls its own copy, drops the stage or deploys on its own is refused with the file and
line; and no workflow text a team can write makes it crash instead of answer."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator._options import Combination
from generator._template import REPO_ROOT

from .conftest import Render, matrix, named
from .hostile import hostile_yaml
from .pipeline_checks import triggers, workflows

CHECK = workflows(REPO_ROOT)["stages-check.yml"]
STAGE = re.compile(r"uses: (\S+/goldpath/\.github/workflows/deploy\.yml@[0-9a-f]{40})")
BY_REFERENCE = [a for a in matrix(uses_github=True) if not a.get("github_enterprise")][:3]


def run_check(project: Path, stages: str) -> subprocess.CompletedProcess[str]:
    (step,) = [s for s in CHECK["jobs"]["stages"]["steps"] if "run" in s]
    assert step["env"] == {"GOLDPATH_DEPLOY_STAGES": "${{ vars.GOLDPATH_DEPLOY_STAGES }}"}
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=project, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "GOLDPATH_DEPLOY_STAGES": stages}, timeout=60,
    )  # fmt: skip


def project_copy(rendered: Render, answers: Combination, tmp_path: Path) -> tuple[Path, str]:
    project = tmp_path / "project"
    shutil.copytree(rendered(**answers) / ".github", project / ".github")
    (stage,) = set(STAGE.findall((project / ".github/workflows/cd.yml").read_text()))
    return project, stage


def test_the_check_runs_on_pull_requests_reading_only() -> None:
    assert set(triggers(CHECK)) == {"pull_request", "merge_group"}
    assert CHECK["permissions"] == {}
    assert CHECK["jobs"]["stages"]["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("answers", BY_REFERENCE, ids=named)
def test_a_generated_project_passes_with_its_stage_approved(
    rendered: Render, answers: Combination, tmp_path: Path
) -> None:
    project, stage = project_copy(rendered, answers, tmp_path)
    older = stage[:-40] + "0" * 40
    passed = run_check(project, f"{stage}\n{older}")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "2 workflow(s) deploy through an approved stage" in passed.stdout  # cd, rollback
    refused = run_check(project, older)
    assert refused.returncode == 1
    assert "cd.yml:" in refused.stdout
    assert "is not an approved stage" in refused.stdout
    assert "rollback.yml:" in refused.stdout
    empty = run_check(project, "")
    assert (empty.returncode, empty.stderr.strip()) == (
        1, "::error::GOLDPATH_DEPLOY_STAGES is empty: the platform stack publishes it"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("tamper", "names"),
    [
        (lambda t, s: t.replace(s, "./.github/workflows/deploy.yml"), "cd.yml:"),
        (lambda t, s: t.replace(s, s.replace("/goldpath/", "/goldpath-fork/")), "cd.yml:"),
        (lambda t, s: t + "\n# bash scripts/gcp/deploy-service.sh sha256:x\n", "deploys outside"),
        (lambda t, s: t + "\n#   pulumi  up --yes\n", "deploys outside"),
        (lambda t, s: re.sub(r"(?m)^.*deploy\.yml@.*$", "", t), "does not call an approved"),
    ],
    ids=["own-copy", "fork", "deploy-script", "pulumi-up", "stage-dropped"],
)
def test_a_project_deploying_around_the_stage_is_refused(
    rendered: Render, tamper: object, names: str, tmp_path: Path
) -> None:
    project, stage = project_copy(rendered, BY_REFERENCE[0], tmp_path)
    cd = project / ".github/workflows/cd.yml"
    cd.write_text(tamper(cd.read_text(), stage))  # type: ignore[operator]
    refused = run_check(project, stage)
    assert refused.returncode == 1, refused.stdout
    assert names in refused.stdout
    assert refused.stderr == ""


def test_a_workflow_that_links_outside_the_checkout_is_refused_unread(
    rendered: Render, tmp_path: Path
) -> None:
    project, stage = project_copy(rendered, BY_REFERENCE[0], tmp_path)
    outside = tmp_path / "outside.yml"
    outside.write_text(f"uses: {stage}\n")
    (project / ".github/workflows/linked.yml").symlink_to(outside)
    refused = run_check(project, stage)
    assert refused.returncode == 1
    assert "linked.yml: not a file of this repository" in refused.stdout
    assert "3 workflow(s)" not in refused.stdout


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_yaml, name=st.sampled_from(["cd.yml", "evil.yaml", "ci.yml"]))
def test_any_workflow_text_gets_an_answer_not_a_traceback(text: bytes, name: str) -> None:
    project = Path(__import__("tempfile").mkdtemp())
    try:
        (project / ".github/workflows").mkdir(parents=True)
        (project / ".github/workflows" / name).write_bytes(text)
        result = run_check(project, "acme/goldpath/.github/workflows/deploy.yml@" + "a" * 40)
        assert result.returncode == 1  # no cd.yml calling the stage
        assert "Traceback" not in result.stderr
        assert "does not call an approved deploy stage" in result.stdout
    finally:
        shutil.rmtree(project)
