"""The lock file in a rollout is re-resolved from the updated pyproject.toml, never merged:
a template that moves a pin leaves a fresh uv.lock on the update branch, the team's own
dependencies kept; a pin that cannot resolve is a lock failure, reported in uv's words."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from generator._fleet import update_repo
from generator._platform import PlatformTemplate
from generator._template import render
from tests.git_helpers import commit_all, git

pytestmark = pytest.mark.slow  # uv resolves against the package index
PINS = {1: "six==1.16.0", 2: "six==1.17.0", 3: "six==999.0.0"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("locktpl") / "template"
    root.mkdir()
    git(root, "init", "--quiet", "-b", "main")
    (root / "copier.yml").write_text(yaml.safe_dump({
        "_answers_file": ".copier-answers.yml", "_templates_suffix": ".jinja",
        "name": {"type": "str", "default": "model"},
    }))  # fmt: skip
    (root / "{{ _copier_conf.answers_file }}.jinja").write_text(
        "{{ _copier_answers | to_nice_yaml }}"
    )
    for version, pin in PINS.items():
        (root / "pyproject.toml.jinja").write_text(
            '[project]\nname = "{{ name }}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
            f'dependencies = [\n    "{pin}",\n]\n'
        )
        commit_all(root, f"v{version}: {pin}")
        git(root, "tag", f"v{version}.0.0")
    return root


def locked_project(template: Path, where: Path, *, team_edit: str = "") -> Path:
    repo = render(where / "model", template=str(template), vcs_ref="v1.0.0")
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + team_edit)
    uv = shutil.which("uv")
    assert uv
    subprocess.run([uv, "lock", "--quiet"], cwd=repo, check=True)
    git(repo, "init", "--quiet", "-b", "main")
    commit_all(repo, "generated at v1.0.0, locked")
    return repo


def locked_versions(repo: Path, ref: str) -> dict[str, str]:
    import tomllib

    lock = tomllib.loads(git(repo, "show", f"{ref}:uv.lock"))
    return {p["name"]: p["version"] for p in lock["package"] if "version" in p}


def test_a_moved_pin_is_a_fresh_lock_with_the_team_s_dependencies(
    template: Path, tmp_path: Path
) -> None:
    team = '\n[project.optional-dependencies]\ndev = ["idna>=3"]\n'
    repo = locked_project(template, tmp_path, team_edit=team)
    assert locked_versions(repo, "HEAD")["six"] == "1.16.0"
    result = update_repo(str(repo), platform=PlatformTemplate.of(str(template)), to="v2.0.0")
    assert result.status == "updated", result
    assert "re-resolved with `uv lock`" in result.lock
    branch = "goldpath/update-v2.0.0"
    versions = locked_versions(repo, branch)
    assert versions["six"] == "1.17.0"
    assert "idna" in versions, "the team's own dependency stays locked"
    assert "<<<<<<<" not in git(repo, "show", f"{branch}:uv.lock")
    trailer = git(repo, "log", "-1", "--format=%B", branch)
    assert "Goldpath-Update-Lock: uv.lock re-resolved" in trailer


def test_a_pin_that_cannot_resolve_is_a_lock_failure_in_uv_s_words(
    template: Path, tmp_path: Path
) -> None:
    repo = locked_project(template, tmp_path)
    platform = PlatformTemplate.of(str(template))
    result = update_repo(str(repo), platform=platform, to="v3.0.0")
    assert result.status == "lock-failed", result
    assert "six" in result.output
    assert "999" in result.output, "uv says which requirement cannot be met"
    assert locked_versions(repo, "goldpath/update-v3.0.0")["six"] == "1.16.0", "lock kept"
    again = update_repo(str(repo), platform=platform, to="v3.0.0")
    assert (again.status, again.output) == ("lock-failed", result.output), "read from the branch"


def test_a_conflicted_pyproject_keeps_the_lock_until_it_is_resolved(
    template: Path, tmp_path: Path
) -> None:
    repo = locked_project(template, tmp_path)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("six==1.16.0", "six==1.16.0  # ours"))
    commit_all(repo, "team pin comment")
    result = update_repo(str(repo), platform=PlatformTemplate.of(str(template)), to="v2.0.0")
    assert result.status == "conflicts"
    assert result.files == ["pyproject.toml"]
    assert "resolve pyproject.toml, then run `uv lock`" in result.lock
    assert locked_versions(repo, "goldpath/update-v2.0.0")["six"] == "1.16.0"
