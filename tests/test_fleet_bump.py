"""A release that changes only what projects pin by version (here: goldpath-runtime) is
applied as a version bump, without rendering, and leaves exactly the files a render
would; a release that touches anything copier renders (the template, a root file it
includes) is rendered."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import copier
import pytest
import yaml

from generator._fleet import update_repo
from generator._platform import PlatformTemplate
from generator._releases import renders_between
from generator._template import REPO_ROOT, render
from tests.git_helpers import commit_all, git

pytestmark = pytest.mark.slow  # renders the real template three times

BRANCH = "goldpath/update-v1.1.0"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This template at v1.0.0; v1.1.0 changes goldpath-runtime only; v1.2.0 a template
    file; v1.3.0 the reusable deploy stage that projects without a GitHub org include."""
    root = tmp_path_factory.mktemp("bump") / "template"
    for name in (
        "copier.yml",
        "templates",
        ".github",
        ".azure-pipelines",
        "runtime/pyproject.toml",
    ):
        source, target = REPO_ROOT / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    git(root, "init", "--quiet", "-b", "main")
    commit_all(root, "v1.0.0")
    git(root, "tag", "v1.0.0")
    runtime = root / "runtime" / "pyproject.toml"
    runtime.write_text(runtime.read_text() + "\n# a fix in the runtime\n")
    commit_all(root, "goldpath-runtime: a fix")
    git(root, "tag", "v1.1.0")
    readme = root / "templates" / "project" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA new section.\n")
    commit_all(root, "template: a README section")
    git(root, "tag", "v1.2.0")
    stage = root / ".github" / "workflows" / "deploy.yml"
    stage.write_text(stage.read_text().replace("# ", "#  ", 1))
    commit_all(root, "deploy stage: wording")
    git(root, "tag", "v1.3.0")
    return root


def test_only_releases_that_reach_a_rendered_file_are_rendered(template: Path) -> None:
    source = str(template)
    assert renders_between(source, "v1.0.0", "v1.1.0") is False
    assert renders_between(source, "v1.1.0", "v1.2.0") is True
    assert renders_between(source, "v1.2.0", "v1.3.0") is True, "a root file templates include"
    assert renders_between(source, "v1.0.0", "v1.2.0") is True


def test_a_version_bump_leaves_exactly_what_a_render_would(template: Path, tmp_path: Path) -> None:
    project = render(tmp_path / "project", template=str(template), vcs_ref="v1.0.0",
                     data={"ci": "both"})  # fmt: skip
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nValidated against goldpath v1.0.0 by our desk.\n")
    git(project, "init", "--quiet", "-b", "main")
    commit_all(project, "generated at v1.0.0, with a team note")
    rendered = tmp_path / "rendered"
    subprocess.run(["git", "clone", "--quiet", str(project), str(rendered)], check=True)

    result = update_repo(str(project), platform=PlatformTemplate.of(str(template)), to="v1.1.0")
    assert (result.status, result.kind) == ("updated", "bump"), result
    assert "Goldpath-Update-Kind: bump" in git(project, "log", "-1", "--format=%B", BRANCH)

    copier.run_update(str(rendered), vcs_ref="v1.1.0", defaults=True, overwrite=True,
                      skip_answered=True, unsafe=True, quiet=True)  # fmt: skip
    bumped = tmp_path / "bumped"
    subprocess.run(["git", "clone", "--quiet", "--branch", BRANCH, str(project), str(bumped)],
                   check=True)  # fmt: skip
    files = {p.relative_to(bumped) for p in bumped.rglob("*") if ".git" not in p.parts}
    assert files == {p.relative_to(rendered) for p in rendered.rglob("*") if ".git" not in p.parts}
    differing = [str(f) for f in sorted(files) if (bumped / f).is_file()
                 and (bumped / f).read_bytes() != (rendered / f).read_bytes()]  # fmt: skip
    assert differing == []
    answers = yaml.safe_load((bumped / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v1.1.0"
    assert "Validated against goldpath v1.0.0 by our desk." in (bumped / "README.md").read_text()
    assert 'rev = "v1.1.0"' in (bumped / "pyproject.toml").read_text()


def test_a_release_that_changes_the_template_is_rendered(template: Path, tmp_path: Path) -> None:
    project = render(tmp_path / "project", template=str(template), vcs_ref="v1.1.0")
    git(project, "init", "--quiet", "-b", "main")
    commit_all(project, "generated at v1.1.0")
    result = update_repo(str(project), platform=PlatformTemplate.of(str(template)), to="v1.2.0")
    assert (result.status, result.kind) == ("updated", "render")
    assert "A new section." in git(project, "show", "goldpath/update-v1.2.0:README.md")
