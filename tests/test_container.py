"""The generated container as a reviewer sees it: workers sized by the container's CPU
quota (not the host's cores), and what the infra tells the container."""

from __future__ import annotations

import json
import os
import re
import runpy
import sys
from pathlib import Path

import pytest
import yaml

from generator import _validate as validate
from goldpath_infra._base import workers_for

from .conftest import Render, derived, option_values


def workers(conf: Path, monkeypatch: pytest.MonkeyPatch, cgroup: Path, **env: str) -> int:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setenv("CGROUP_ROOT", str(cgroup))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The platform's settings are read once per process, as gunicorn starts: a fresh import.
    monkeypatch.delitem(sys.modules, "goldpath_runtime.serving.gunicorn", raising=False)
    return int(runpy.run_path(str(conf))["workers"])


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "50000 100000\n"}, 1),  # 0.5 vCPU (Container Apps)
        ({"cpu.max": "200000 100000\n"}, 2),  # 2 vCPU
        ({"cpu.max": "150000 100000\n"}, 2),  # 1.5 vCPU rounds up
        ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # v1
    ],
)
def test_workers_follow_the_cgroup_quota(
    rendered: Render,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    expected: int,
) -> None:
    conf = rendered() / "gunicorn.conf.py"
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    cores = len(os.sched_getaffinity(0))
    assert workers(conf, monkeypatch, tmp_path) == min(expected, cores)


def test_unlimited_quota_uses_the_cores_and_web_concurrency_wins(
    rendered: Render, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = rendered() / "gunicorn.conf.py"
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert workers(conf, monkeypatch, tmp_path) == len(os.sched_getaffinity(0))
    assert workers(conf, monkeypatch, tmp_path / "missing") == len(os.sched_getaffinity(0))
    assert workers(conf, monkeypatch, tmp_path, WEB_CONCURRENCY="3") == 3
    assert workers(conf, monkeypatch, tmp_path, WEB_CONCURRENCY="0") == 1


def test_infra_sets_web_concurrency_from_the_cpu() -> None:
    assert [workers_for(c) for c in (0.25, 0.5, 1, "1", "2", 4.0)] == ["1", "1", "1", "1", "2", "4"]


def test_one_decision_threshold(rendered: Render) -> None:
    """The threshold lives in settings and travels with the model version; no module
    compares probabilities with a literal of its own."""
    package = rendered() / "src" / "project"
    literal = [
        f"{path.name}: {line.strip()}"
        for path in package.rglob("*.py")
        for line in path.read_text().splitlines()
        if ">= 0." in line or "> 0.5" in line
    ]
    assert literal == []
    assert "decision_threshold: float = Field(" in (package / "config.py").read_text()


@pytest.mark.parametrize("python_version", option_values("python_version"))
@pytest.mark.parametrize("serving", option_values("serving"))
def test_every_base_image_is_pinned_by_digest(
    rendered: Render, python_version: str, serving: str
) -> None:
    dockerfile = (
        rendered(python_version=python_version, serving=serving) / "Dockerfile"
    ).read_text()
    froms = [line.split() for line in dockerfile.splitlines() if line.startswith("FROM ")]
    stages: list[str] = []
    for line in froms:
        image, stage = line[1], line[3]
        if image not in stages:  # not an earlier stage: a registry image, pinned
            assert re.match(r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$", image), line
        stages.append(stage)
    # The pipelines build the default target, the last stage: the registry-loading runtime.
    assert stages[-1] == "runtime"
    # The slim target (baked lean model, serving dependencies only) wherever there is a
    # tabular service to bake.
    assert ("slim" in stages) is (serving != "none")
    assert not dockerfile.startswith("# syntax="), "no floating frontend image"
    assert "--require-hashes" in dockerfile
    if serving != "none":
        copy = next(
            line
            for line in dockerfile.splitlines()
            if "gunicorn.conf.py" in line and "COPY" in line
        )
        assert "--chown" not in copy, "server config must stay root-owned, read-only to the app"


def test_build_requirements_are_hash_pinned(rendered: Render) -> None:
    text = (rendered() / "requirements-build.txt").read_text()
    assert re.search(r"^uv==\d+\.\d+\.\d+ \\$", text, re.MULTILINE)
    assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}", text)) >= 2


@pytest.mark.parametrize("ci", option_values("ci"))
def test_dependency_updates_cover_images_python_and_ci(rendered: Render, ci: str) -> None:
    project = rendered(ci=ci)
    if derived("uses_github", ci=ci):
        config = yaml.safe_load((project / ".github" / "dependabot.yml").read_text())
        ecosystems = {u["package-ecosystem"] for u in config["updates"]}
        assert {"docker", "uv", "pip", "github-actions"} <= ecosystems
        assert all(u["cooldown"]["default-days"] >= 7 for u in config["updates"])
    else:
        assert not (project / ".github").exists()
        config = json.loads((project / "renovate.json").read_text())
        # The CI system's own files: Azure Pipelines' tasks, or GitLab's job images and includes.
        ci_managers = {
            "azure-devops": {"azure-pipelines"},
            "gitlab": {"gitlabci", "gitlabci-include"},
        }
        assert {"dockerfile", "pep621", "pip_requirements", *ci_managers[ci]} <= set(
            config["enabledManagers"]
        )
        assert "docker:pinDigests" in config["extends"]  # job images pinned by digest too
        assert config["minimumReleaseAge"] == "7 days"
        finding = validate.renovate_schema(project)
        assert finding.ok, finding.output


@pytest.mark.parametrize("project_kind", option_values("project_kind"))
def test_nothing_the_project_runs_reports_to_mlflows_maintainers(
    rendered: Render, project_kind: str
) -> None:
    """MLflow's usage telemetry (an installation id, sessions, events, to a third party) is
    off in every image the project ships and for every make command, the MLflow UI
    included: goldpath-runtime turns it off in code, these cover what does not import it."""
    project = rendered(project_kind=project_kind)
    env_of: dict[str, str] = {}
    parent: dict[str, str] = {}
    stage = ""
    for line in (project / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            words = line.split()
            stage, parent[words[3]] = words[3], words[1]
        elif stage:
            env_of[stage] = env_of.get(stage, "") + line + "\n"
    for final in [name for name in parent if name in ("runtime", "slim")]:
        seen, at = "", final
        while at in parent:
            seen, at = seen + env_of.get(at, ""), parent[at]
        assert re.search(r"^\s*(ENV\s+)?MLFLOW_DISABLE_TELEMETRY=true", seen, re.M), final
    makefile = (project / "Makefile").read_text()
    assert re.search(r"^export MLFLOW_DISABLE_TELEMETRY \?= true$", makefile, re.M)
