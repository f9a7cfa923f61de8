"""`goldpath fleet` on real git repositories: the template at two tags (v2 changes a shared
file, adds a file, removes a file and renames an answer with a migration), projects
generated at v1 with local edits, then status, update, a rerun, and bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from generator._cli import main
from generator._fleet import repo_status, update_fleet
from generator._platform import PlatformTemplate
from generator._template import REPO_ROOT, render
from tests.git_helpers import commit_all, git

# Not in the quick subset (-m "not slow"): real fleets of generated repositories at two template tags.
pytestmark = pytest.mark.slow

# A real migration: projects answered `owner_email` before v2.0.0, `team_email` after.
RENAME_MIGRATION = {
    "version": "v2.0.0",
    "when": "{{ _stage == 'before' }}",
    "command": [
        "{{ _copier_python }}",
        "-c",
        "import pathlib, re; p = pathlib.Path('.copier-answers.yml'); "
        "p.write_text(re.sub(r'^owner_email:', 'team_email:', p.read_text(), flags=re.M))",
    ],
}


def make_template(root: Path) -> Path:
    """This template at v1.0.0, then a v2.0.0 with the four kinds of change."""
    template = root / "template"
    template.mkdir()
    shutil.copy(REPO_ROOT / "copier.yml", template / "copier.yml")
    shutil.copytree(
        REPO_ROOT / "templates",
        template / "templates",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    git(template, "init", "--quiet", "-b", "main")
    commit_all(template, "v1")
    git(template, "tag", "v1.0.0")

    project = template / "templates" / "project"
    dockerignore = project / ".dockerignore"
    lines = dockerignore.read_text().splitlines(keepends=True)
    lines[0] = "# Build context: only what the image needs (v2 wording).\n"
    dockerignore.write_text("".join(lines))  # changed shared file
    (project / "SECURITY.md.jinja").write_text("# Security\n\nReport to {{ team_email }}.\n")
    (project / ".pre-commit-config.yaml").unlink()  # removed file
    config = (template / "copier.yml").read_text()
    config = config.replace("owner_email:", "team_email:").replace("owner_email ", "team_email ")
    config = config.replace("{{ owner_email }}", "{{ team_email }}")
    document = yaml.safe_load(config)
    assert "team_email" in document
    config += "\n_migrations:\n" + yaml.safe_dump([RENAME_MIGRATION], default_flow_style=False)
    (template / "copier.yml").write_text(config)
    for path in project.rglob("*.jinja"):
        text = path.read_text()
        if "owner_email" in text:
            path.write_text(text.replace("owner_email", "team_email"))
    for path in (template / "templates" / "includes").rglob("*"):
        if path.is_file() and "owner_email" in path.read_text():
            path.write_text(path.read_text().replace("owner_email", "team_email"))
    commit_all(template, "v2")
    git(template, "tag", "v2.0.0")
    return template


@dataclass
class Fleet:
    template: Path
    clean: Path
    conflicting: Path
    edited: Path
    dirty: Path

    @property
    def platform(self) -> PlatformTemplate:
        return PlatformTemplate.of(str(self.template))

    @property
    def flag(self) -> list[str]:
        return ["--template", str(self.template)]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    root = tmp_path_factory.mktemp("fleet")
    template = make_template(root)
    projects = {}
    for name in ("clean", "conflicting", "edited", "dirty"):
        project = render(
            root / name, template=str(template), vcs_ref="v1.0.0",
            data={"owner_email": f"{name}@bank.example"},
        )  # fmt: skip
        git(project, "init", "--quiet", "-b", "main")
        commit_all(project, "generated at v1.0.0")
        projects[name] = project
    # A team edit on the very line v2 changes: must conflict, both sides kept.
    dockerignore = projects["conflicting"] / ".dockerignore"
    lines = dockerignore.read_text().splitlines(keepends=True)
    lines[0] = "# Our team's build context notes.\n"
    dockerignore.write_text("".join(lines))
    # And an edit to a file v2 removes: copier deletes it, edit and all; goldpath keeps it.
    hooks = projects["conflicting"] / ".pre-commit-config.yaml"
    hooks.write_text(hooks.read_text() + "# our desk's extra hook settings\n")
    commit_all(projects["conflicting"], "team edit")
    # Team edits elsewhere: must survive untouched.
    readme = projects["edited"] / "README.md"
    readme.write_text(readme.read_text() + "\n## Team notes\n\nOur desk-specific runbook.\n")
    (projects["edited"] / "NOTES.md").write_text("kept\n")
    commit_all(projects["edited"], "team notes")
    (projects["dirty"] / "README.md").write_text("work in progress\n")
    return Fleet(template, **projects)


def test_status_before_update(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    statuses = {Path(s.repo).name: s for s in (repo_status(str(p), fleet.platform) for p in
                [fleet.clean, fleet.conflicting, fleet.edited, fleet.dirty])}  # fmt: skip
    for status in statuses.values():
        assert (status.current, status.latest, status.behind) == ("v1.0.0", "v2.0.0", True)
    assert statuses["dirty"].dirty is True
    assert statuses["clean"].dirty is False
    assert main(["fleet", "status", "--json", *fleet.flag, str(fleet.clean), str(fleet.dirty)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["behind"] for r in report] == [True, True]


def test_update_lands_changes_keeps_edits_and_reports(fleet: Fleet) -> None:
    before = {p.name: git(p, "rev-parse", "HEAD") for p in (fleet.clean, fleet.edited)}
    results = update_fleet(
        [str(fleet.clean), str(fleet.conflicting), str(fleet.edited), str(fleet.dirty)],
        platform=fleet.platform,
        jobs=2,
    )
    by_name = {Path(r.repo).name: r for r in results}
    assert by_name["clean"].status == "updated"
    assert by_name["edited"].status == "updated"
    assert by_name["conflicting"].status == "conflicts"
    assert by_name["conflicting"].files == [".dockerignore", ".pre-commit-config.yaml"]
    assert by_name["dirty"].status == "error"
    assert "uncommitted changes" in by_name["dirty"].detail
    # The team's checked-out branch is untouched; the update waits on its own branch.
    for project in (fleet.clean, fleet.edited):
        assert git(project, "rev-parse", "--abbrev-ref", "HEAD") == "main"
        assert git(project, "rev-parse", "HEAD") == before[project.name]
    branch = "goldpath/update-v2.0.0"
    for project in (fleet.clean, fleet.edited, fleet.conflicting):
        files = git(project, "ls-tree", "-r", "--name-only", branch).splitlines()
        assert "SECURITY.md" in files, "added file lands"
        removed = ".pre-commit-config.yaml" not in files
        assert removed is (project != fleet.conflicting), "removed unless the team edited it"
        answers = yaml.safe_load(git(project, "show", f"{branch}:.copier-answers.yml"))
        assert answers["_commit"] == "v2.0.0"
        assert answers["team_email"] == f"{project.name}@bank.example", "answer migrated"
        assert "owner_email" not in answers
        security = git(project, "show", f"{branch}:SECURITY.md")
        assert f"{project.name}@bank.example" in security
    first_line = git(fleet.clean, "show", f"{branch}:.dockerignore").splitlines()[0]
    assert first_line == "# Build context: only what the image needs (v2 wording)."
    readme = git(fleet.edited, "show", f"{branch}:README.md")
    assert "Our desk-specific runbook." in readme
    assert git(fleet.edited, "show", f"{branch}:NOTES.md") == "kept"
    conflicted = git(fleet.conflicting, "show", f"{branch}:.dockerignore")
    assert "<<<<<<< " in conflicted
    assert "# Our team's build context notes." in conflicted, "the team's side is kept"
    assert "(v2 wording)" in conflicted, "the template's side is kept"
    hooks = git(fleet.conflicting, "show", f"{branch}:.pre-commit-config.yaml")
    assert hooks.endswith("# our desk's extra hook settings"), "the team's edit is kept"
    # The dirty repo is exactly as its owner left it.
    assert (fleet.dirty / "README.md").read_text() == "work in progress\n"
    assert not git(fleet.dirty, "branch", "--list", branch)


def test_rerun_is_a_no_op(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    heads = {p: git(p, "rev-parse", "goldpath/update-v2.0.0") for p in (fleet.clean, fleet.edited)}
    assert main(["fleet", "update", *fleet.flag, str(fleet.clean), str(fleet.edited)]) == 0
    out = capsys.readouterr().out
    assert out.count("current") >= 2
    assert "update already on branch goldpath/update-v2.0.0" in out
    for project, head in heads.items():
        assert git(project, "rev-parse", "goldpath/update-v2.0.0") == head


def test_status_shows_the_pending_branch(fleet: Fleet) -> None:
    assert repo_status(str(fleet.edited), fleet.platform).pending == "goldpath/update-v2.0.0"
    assert repo_status(str(fleet.dirty), fleet.platform).pending is None


def test_status_after_merging_the_update(fleet: Fleet) -> None:
    git(fleet.clean, "merge", "--quiet", "--ff-only", "goldpath/update-v2.0.0")
    status = repo_status(str(fleet.clean), fleet.platform)
    assert (status.current, status.behind, status.dirty) == ("v2.0.0", False, False)
    result = update_fleet([str(fleet.clean)], platform=fleet.platform)[0]
    assert (result.status, result.detail) == ("current", "already at this release")


def test_tests_failing_after_update_are_reported(fleet: Fleet, tmp_path: Path) -> None:
    project = render(tmp_path / "broken", template=str(fleet.template), vcs_ref="v1.0.0")
    git(project, "init", "--quiet", "-b", "main")
    makefile = project / "Makefile"
    makefile.write_text(
        makefile.read_text().replace("\t$(UV) run pytest", "\t@echo 2 failed; exit 1")
    )
    commit_all(project, "generated, with a failing test target")
    result = update_fleet([str(project)], platform=fleet.platform, run_tests=True)[0]
    assert result.status == "tests-failed"
    assert "2 failed" in result.detail


def test_bad_input_is_one_line_each_and_others_still_run(
    fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "--quiet")
    missing = tmp_path / "nowhere"
    code = main(["fleet", "update", *fleet.flag, "--json", "--to", "v9.9.9",
                 str(missing), str(plain), str(fleet.edited)])  # fmt: skip
    assert code == 1
    results = {Path(r["repo"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert "no such path" in results["nowhere"]["detail"]
    assert "not a copier project" in results["plain"]["detail"]
    assert "tag 'v9.9.9' does not exist" in results["edited"]["detail"]
    assert all("\n" not in r["detail"] and "Traceback" not in r["detail"] for r in results.values())
    assert main(["fleet", "status", *fleet.flag, str(missing), str(fleet.edited)]) == 1
    out = capsys.readouterr().out
    assert "no such path" in out
    assert "behind" in out


def test_new_with_preset_and_bad_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "rfq"
    preset = REPO_ROOT / "presets" / "azure-databricks.yml"
    assert main(["new", str(project), "--defaults", "--preset", str(preset),
                 "--data", "uc_schema=rfq"]) == 0  # fmt: skip
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["cloud"], answers["ci"], answers["uc_schema"]) == ("azure", "both", "rfq")
    assert git(project, "log", "--oneline").endswith("Start from goldpath")
    # The lock file is in that first commit, and the tree is clean.
    assert "uv.lock" in git(project, "ls-files").split()
    assert git(project, "status", "--porcelain") == ""
    out = capsys.readouterr().out
    assert "make test" in out
    assert "git init" not in out  # already done: the next steps start from the commit
    for data, message in [
        ("colour=blue", "unknown answer 'colour'"),
        ("serving=django", "answer serving='django' is not one of fastapi, flask, none"),
        ("databricks=maybe", "is not a boolean"),
        ("oops", "is not KEY=VALUE"),
    ]:
        assert main(["new", str(tmp_path / "x"), "--defaults", "--data", data]) == 1
        err = capsys.readouterr().err
        assert message in err
        assert err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


def test_status_by_url_and_update_with_push(fleet: Fleet, tmp_path: Path) -> None:
    remote = tmp_path / "origin.git"
    project = render(tmp_path / "pushed", template=str(fleet.template), vcs_ref="v1.0.0")
    git(project, "init", "--quiet", "-b", "main")
    commit_all(project, "generated")
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(remote)], check=True)
    git(project, "remote", "add", "origin", str(remote))
    git(project, "push", "--quiet", "origin", "main")

    status = repo_status(f"file://{remote}", fleet.platform)
    assert (status.current, status.latest, status.behind, status.error) == (
        "v1.0.0", "v2.0.0", True, None,
    )  # fmt: skip
    result = update_fleet([str(project)], platform=fleet.platform, push=True)[0]
    assert result.status == "updated"
    remote_branches = git(remote, "branch", "--list")
    assert "goldpath/update-v2.0.0" in remote_branches


def test_a_project_between_releases_is_unknown_not_current(
    fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `_commit` that is no release (a hash, a `git describe`) cannot be compared."""
    project = tmp_path / "between"
    shutil.copytree(fleet.clean, project)
    answers = project / ".copier-answers.yml"
    commit = git(fleet.template, "rev-parse", "v1.0.0")
    answers.write_text(
        re.sub(r"^_commit: .*$", f"_commit: {commit}", answers.read_text(), flags=re.M)
    )
    commit_all(project, "generated between releases")
    status = repo_status(str(project), fleet.platform)
    assert (status.state, status.behind, status.current) == ("unknown", None, commit)
    assert main(["fleet", "status", *fleet.flag, str(project)]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    assert " unknown " in row
    assert " current " not in row
