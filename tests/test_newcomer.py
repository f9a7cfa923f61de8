"""What a newcomer is told matches what the project has: copier's closing message names
only make targets that exist, and `.PHONY` lists no target the Makefile lacks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from generator._new import next_steps
from generator._template import REPO_ROOT, render

from .conftest import option_values, template_copy
from .hostile import alias_bomb

# Not in the quick subset (-m "not slow"): renders projects and locks them with uv.
pytestmark = pytest.mark.slow


def targets(makefile: str) -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))


@pytest.mark.parametrize("serving", option_values("serving"))
def test_closing_message_and_phony_match_the_targets(
    tmp_path: Path, serving: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = render(
        tmp_path / "p", template=str(REPO_ROOT), vcs_ref="HEAD", data={"serving": serving},
        quiet=False,
    )  # fmt: skip
    message = capsys.readouterr().err
    makefile = (project / "Makefile").read_text()
    named = set(re.findall(r"^\s+make (\w[\w-]*)", message, re.MULTILINE))
    assert {"setup", "test", "train", "promote"} <= named
    assert named <= targets(makefile), named - targets(makefile)
    assert ("serve" in named) is (serving != "none")
    assert ("curl" in message) is (serving != "none")
    # Every .PHONY line counts (make adds them up): the common targets' and the kind's.
    phony = {
        t for line in re.findall(r"^\.PHONY: (.*)$", makefile, re.MULTILINE) for t in line.split()
    }
    assert phony <= targets(makefile), phony - targets(makefile)
    assert targets(makefile) <= phony
    # goldpath new prints the same message, less the steps it has already done.
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    printed = next_steps(REPO_ROOT, answers, project).splitlines()
    closing = message[message.index("Your ML project") :]
    copier_lines = [line for line in closing.splitlines() if line.strip()]
    left_out = [line for line in copier_lines if line not in printed]
    assert [line.split()[0] for line in left_out] == ["make", "git"], left_out


def test_batch_of_a_missing_file_fails_instead_of_generating_it(tmp_path: Path) -> None:
    project = render(tmp_path / "p", template=str(REPO_ROOT), vcs_ref="HEAD")
    # Dry runs: what make would do, without installing anything.
    named = subprocess.run(
        ["make", "-n", "batch", "INPUT=data/my_typo.csv"], cwd=project,
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert " data --output" not in named
    assert "batch --input data/my_typo.csv" in named
    default = subprocess.run(
        ["make", "-n", "batch"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    assert " data --output data/to_score.csv" in default


def test_new_without_a_terminal_uses_defaults_and_presets(tmp_path: Path) -> None:
    """The README's `goldpath new ... --preset` from a script: no prompt, no traceback."""
    import sys

    project = tmp_path / "rfq"
    result = subprocess.run(
        [sys.executable, "-m", "generator", "new", str(project),
         "--preset", str(REPO_ROOT / "presets" / "gcp-cloudrun.yml")],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert (project / ".copier-answers.yml").is_file()


def test_new_with_the_index_unreachable_still_commits_the_project(tmp_path: Path) -> None:
    """A remote fault: `uv lock` cannot reach the package index. The project is still
    created and committed (nothing is lost), and one line says uv.lock is missing and how
    to finish; no traceback."""
    import os
    import sys

    dead = "http://127.0.0.1:9/simple/"  # the discard port: connection refused at once
    env = {**os.environ, "UV_DEFAULT_INDEX": dead, "UV_INDEX_URL": dead, "UV_NO_CACHE": "1"}
    project = tmp_path / "rfq"
    result = subprocess.run(
        [sys.executable, "-m", "generator", "new", str(project), "--data", "project_name=Rfq"],
        stdin=subprocess.DEVNULL, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    [said] = [line for line in result.stderr.splitlines() if line.startswith("goldpath:")]
    assert said.startswith("goldpath: uv.lock not created (Connection refused"), said
    assert said.endswith(f"run `make setup` in {project} and commit uv.lock")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=project, capture_output=True, text=True, check=True
        ).stdout

    assert len(git("log", "--oneline").splitlines()) == 1
    assert git("status", "--porcelain") == ""
    tracked = git("ls-files").split()
    assert "uv.lock" not in tracked
    assert {".copier-answers.yml", "Makefile", "pyproject.toml"} <= set(tracked)


def test_a_broken_preset_is_one_line_with_its_line_number(tmp_path: Path) -> None:
    import sys

    preset = tmp_path / "preset.yml"
    preset.write_text("cloud: gcp\nserving: [fastapi\n")
    result = subprocess.run(
        [sys.executable, "-m", "generator", "new", str(tmp_path / "x"), "--preset", str(preset)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"preset {preset} line " in result.stderr


@pytest.mark.parametrize(
    ("preset_text", "message"),
    [
        ("description: null\n", "answer description is empty (null): give it a value"),
        # YAML reads 3.10 as the number 3.1: answers are text, so the preset's own words.
        ("python_version: 3.10\n", "answer python_version='3.10' is not one of"),
        ("python_version: 3.1\n", "answer python_version='3.1' is not one of"),
        (alias_bomb(), "expands to more than"),
    ],
)
def test_a_wrong_preset_value_is_one_line(tmp_path: Path, preset_text: str, message: str) -> None:
    import sys

    preset = tmp_path / "preset.yml"
    preset.write_text(preset_text)
    result = subprocess.run(
        [sys.executable, "-m", "generator", "new", str(tmp_path / "x"), "--preset", str(preset)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "x").exists()


def test_a_preset_version_as_written_is_taken(tmp_path: Path) -> None:
    import sys

    preset = tmp_path / "preset.yml"
    preset.write_text("python_version: 3.12\n")  # unquoted: a number to YAML
    result = subprocess.run(
        [sys.executable, "-m", "generator", "new", str(tmp_path / "x"), "--preset", str(preset),
         "--defaults"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        yaml.safe_load((tmp_path / "x" / ".copier-answers.yml").read_text())["python_version"]
        == "3.12"
    )


def test_new_into_an_existing_file_is_one_line(tmp_path: Path) -> None:
    import sys

    existing = tmp_path / "notes.txt"
    existing.write_text("mine\n")
    result = subprocess.run(
        [sys.executable, "-m", "generator", "new", str(existing), "--defaults"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        result.stderr
        == f"goldpath: error: {existing} is a file: choose a new folder for the project\n"
    )
    assert existing.read_text() == "mine\n"


@pytest.mark.parametrize(
    ("kind", "serving"), [("tabular", "fastapi"), ("tabular", "flask"), ("llm", None)]
)
def test_readme_states_the_makefile_defaults_for_make_serve(
    tmp_path: Path, kind: str, serving: str | None
) -> None:
    """One HOST and one worker count for `make serve`, the ones the Makefile sets, wherever
    the README states them; the image's defaults are stated as the image's."""
    data = {"project_kind": kind, **({"serving": serving} if serving else {})}
    project = render(tmp_path / "p", template=str(REPO_ROOT), vcs_ref="HEAD", data=data)
    makefile = (project / "Makefile").read_text()
    host = re.search(r"^HOST \?= (\S+)$", makefile, re.MULTILINE).group(1)  # type: ignore[union-attr]
    workers = re.search(r"^WORKERS \?= (\d+)$", makefile, re.MULTILINE).group(1)  # type: ignore[union-attr]
    readme = (project / "README.md").read_text()
    stated = re.findall(r"`make serve`: (\d+) worker, ([\d.]+)", readme)
    assert stated, "the README states make serve's defaults"
    assert set(stated) == {(workers, host)}
    for line in readme.splitlines():
        if line.startswith("make serve"):
            assert "0.0.0.0" not in line, line  # noqa: S104 - text, not a bind
    assert f"default {workers}" in readme or f"{workers} worker" in readme


def test_a_project_inside_an_unignored_work_tree_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's demos used to land as nested repositories inside the checkout, which
    then broke every render from it: a destination git does not ignore is refused."""
    from generator._cli import main
    from tests.git_helpers import git

    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "--quiet")
    for argv in (["new", str(outer / "p"), "--defaults"], ["demo", str(outer / "p")]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert f"is inside the git repository {outer.resolve()}" in err
        assert f"add /p/ to {outer.resolve()}/.gitignore" in err
        assert not (outer / "p").exists()
    (outer / ".gitignore").write_text("/p/\n")
    assert main(["new", str(outer / "p"), "--defaults"]) == 0


def test_a_nested_repository_in_the_template_checkout_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    from generator._cli import main
    from tests.git_helpers import commit_all, git

    template = template_copy(tmp_path / "goldpath")
    git(template, "init", "--quiet")
    commit_all(template, "template")
    stray = template / "stray-demo"
    stray.mkdir()
    git(stray, "init", "--quiet")
    (stray / "x").write_text("x\n")
    commit_all(stray, "a project made inside the checkout")
    code = main(["new", str(tmp_path / "p"), "--template", str(template), "--vcs-ref", "HEAD",
                 "--defaults"])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f"goldpath: error: the template checkout {template} holds another git repository at "
        "stray-demo/ (a project made inside it?): move it out, or add it to .gitignore there"
    )
    assert "Traceback" not in err
