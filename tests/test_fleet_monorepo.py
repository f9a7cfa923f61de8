"""Several projects in one repository (a monorepo): updated project by project on one
branch, in one pull request; a project of another template in the same repository is
left alone, and a fleet entry can name the projects to update."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from generator._fleet import FleetEntry, repo_status, update_fleet, update_repo
from generator._forge import ForgeRepo
from generator._platform import PlatformTemplate
from generator._template import render
from tests.fake_pulls import FakePullForge
from tests.fleet_template import BRANCH, small_template
from tests.git_helpers import commit_all, git

pytestmark = pytest.mark.slow  # real copier updates of several projects


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_template(tmp_path_factory)


@pytest.fixture(scope="module")
def other_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("other") / "template"
    root.mkdir()
    (root / "copier.yml").write_text("_answers_file: .copier-answers.yml\n")
    (root / "{{ _copier_conf.answers_file }}.jinja").write_text(
        "{{ _copier_answers | to_nice_yaml }}"
    )
    (root / "shared.txt").write_text("another template's file\n")
    git(root, "init", "--quiet", "-b", "main")
    commit_all(root, "v1")
    git(root, "tag", "v1.0.0")
    return root


def monorepo(template: Path, other: Path, where: Path) -> Path:
    repo = where / "monorepo"
    for name in ("a", "b"):
        render(repo / "services" / name, template=str(template), vcs_ref="v1.0.0",
               data={"name": name})  # fmt: skip
    render(repo / "tools" / "other", template=str(other), vcs_ref="v1.0.0")
    (repo / "README.md").write_text("# Our desk's services\n")
    git(repo, "init", "--quiet", "-b", "main")
    commit_all(repo, "two services and a tool")
    return repo


def released(repo: Path, ref: str, folder: str) -> str:
    return str(yaml.safe_load(git(repo, "show", f"{ref}:{folder}/.copier-answers.yml"))["_commit"])


def test_every_project_is_updated_on_one_branch_and_another_template_s_is_left_alone(
    template: Path, other_template: Path, tmp_path: Path
) -> None:
    repo = monorepo(template, other_template, tmp_path)
    platform = PlatformTemplate.of(str(template))
    status = repo_status(str(repo), platform)
    assert (status.state, status.projects) == ("behind", ["services/a", "services/b"])
    before = git(repo, "rev-parse", "HEAD")
    result = update_repo(str(repo), platform=platform)
    assert result.status == "updated", result
    assert result.projects == ["services/a", "services/b"]
    assert git(repo, "rev-parse", "HEAD") == before
    assert git(repo, "rev-list", "--count", f"{before}..{BRANCH}") == "1", "one update commit"
    for folder in ("services/a", "services/b"):
        assert released(repo, BRANCH, folder) == "v2.0.0"
        assert git(repo, "show", f"{BRANCH}:{folder}/ADDED.md") == "added in v2"
        assert git(repo, "show", f"{BRANCH}:{folder}/shared.txt").startswith("line one (v2)")
    assert git(repo, "show", f"{BRANCH}:tools/other/shared.txt") == "another template's file"
    assert released(repo, BRANCH, "tools/other") == "v1.0.0"
    assert "Goldpath-Update-Projects: services/a services/b" in git(
        repo, "log", "-1", "--format=%B", BRANCH)  # fmt: skip
    again = update_repo(str(repo), platform=platform)
    assert (again.status, again.projects) == ("current", ["services/a", "services/b"])


def test_a_fleet_entry_names_the_projects_to_update(
    template: Path, other_template: Path, tmp_path: Path
) -> None:
    repo = monorepo(template, other_template, tmp_path)
    platform = PlatformTemplate.of(str(template))
    [result] = update_fleet([FleetEntry(str(repo), projects=("services/b",))], platform=platform)
    assert (result.status, result.projects) == ("updated", ["services/b"])
    assert released(repo, BRANCH, "services/b") == "v2.0.0"
    assert released(repo, BRANCH, "services/a") == "v1.0.0"
    [named_other] = update_fleet([FleetEntry(str(repo), projects=("tools/other",))],
                                 platform=platform)  # fmt: skip
    assert named_other.status == "foreign-template"


def test_one_pull_request_for_the_whole_repository(
    forge: FakePullForge, template: Path, other_template: Path, tmp_path: Path
) -> None:
    repo = monorepo(template, other_template, tmp_path)
    bare = tmp_path / "monorepo.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(bare)], check=True)
    forge.add("github", "bank/monorepo", bare)
    entry = FleetEntry(f"file://{bare}", ForgeRepo("github", forge.github_api, "bank/monorepo"))
    [result] = update_fleet([entry], platform=PlatformTemplate.of(str(template)), open_pr=True)
    assert result.pull_request_action == "opened"
    [pull] = forge.open_pulls("github", "bank/monorepo")
    assert "- Projects: services/a, services/b" in pull["body"]
