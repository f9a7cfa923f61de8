"""What the README says is what goldpath does: its options table against copier.yml (values
and defaults, as copier renders them), its `goldpath` commands against the CLI's parser,
its `make` targets against the Makefiles, and its commands, in its order, on a clone."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator._cli import build_parser
from generator._options import load_questions
from generator._process import project_env
from generator._template import REPO_ROOT, render
from tests.git_helpers import git

README = (REPO_ROOT / "README.md").read_text()
# Defaults the table gives in words, not as a value to compare.
PROSE_DEFAULTS = {"project_name", "project_slug", "description"}


def options_table() -> dict[str, dict[str, str]]:
    section = README.split("## Template options", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in section.splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        name = cells[0].strip("`")
        rows[name] = {"values": cells[1], "default": cells[2], "effect": cells[3]}
    return rows


def code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


@pytest.fixture(scope="module")
def rendered_answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """copier's own answers with defaults, for a gcp, an azure, a GitLab and an Azure
    DevOps project."""
    answers = {}
    for name, data in (("gcp", {"cloud": "gcp"}), ("azure", {"cloud": "azure"}),
                       ("gitlab", {"cloud": "gcp", "ci": "gitlab"}),
                       ("ado", {"cloud": "gcp", "ci": "azure-devops"})):  # fmt: skip
        project = render(
            tmp_path_factory.mktemp(name) / "RFQ Model", template=str(REPO_ROOT),
            vcs_ref="HEAD", data={"owner": "desk-ml", **data},
        )  # fmt: skip
        answers[name] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def test_every_question_has_a_row_and_every_row_a_question() -> None:
    asked = {n for n, q in load_questions(REPO_ROOT).items() if not q.computed}
    assert set(options_table()) == asked


def test_the_values_column_lists_each_question_s_choices() -> None:
    table = options_table()
    for name, question in load_questions(REPO_ROOT).items():
        if question.computed or not question.values:
            continue
        listed = table[name]["values"]
        if question.boolean:
            assert listed.startswith("yes/no"), name
        else:
            assert code(listed)[: len(question.choices)] == [str(c) for c in question.choices], name


def test_the_default_column_is_what_copier_renders(
    rendered_answers: dict[str, dict[str, Any]],
) -> None:
    answers = rendered_answers["gcp"]
    placeholders = {
        "<owner>": answers["owner"],
        "<service name>": answers["project_slug"].replace("_", "-"),
        "<slug>": answers["project_slug"],
    }
    for name, row in options_table().items():
        if name in PROSE_DEFAULTS:
            continue
        if name == "databricks":
            assert row["default"] == "`true` for azure, else `false`"
            assert rendered_answers["azure"][name] is True
            assert answers[name] is False
            continue
        expected = code(row["default"])[0]
        for placeholder, value in placeholders.items():
            expected = expected.replace(placeholder, value)
        # The questions asked only with Databricks are in the azure project's answers; the
        # two given to copier (to tell placeholders apart) are checked in copier.yml.
        if name in ("owner", "cloud"):
            actual = load_questions(REPO_ROOT)[name].default
        else:
            others = (
                rendered_answers["azure"] | rendered_answers["gitlab"] | rendered_answers["ado"]
            )
            actual = answers.get(name, others.get(name))
        assert str(actual).lower() == expected.lower(), name


def readme_commands(prefix: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, re.DOTALL)
    lines = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    found = []
    for line in lines:
        for part in line.split("&&"):
            part = part.strip()
            if part.startswith(prefix):
                found.append(part)
    return found


def test_every_goldpath_command_in_the_readme_parses() -> None:
    commands = readme_commands("goldpath ") + [
        c.removeprefix("uv run ") for c in readme_commands("uv run goldpath ")
    ]
    assert len(commands) >= 6
    parser = build_parser()
    for command in commands:
        argv = shlex.split(command)[1:]
        try:
            parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits on an unknown flag or value
            raise AssertionError(f"the README's `{command}` does not parse") from exc


def makefile_targets(text: str) -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.MULTILINE))


def test_every_make_target_in_the_readme_exists(tmp_path: Path) -> None:
    project = render(tmp_path / "p", template=str(REPO_ROOT), vcs_ref="HEAD")
    known = makefile_targets((REPO_ROOT / "Makefile").read_text()) | makefile_targets(
        (project / "Makefile").read_text()
    )
    named = {shlex.split(c)[1] for c in readme_commands("make ")}
    named |= set(re.findall(r"`make ([a-z][a-z-]*)", README))
    assert named
    assert named <= known, named - known


@pytest.mark.parametrize(
    "answers", [{}, {"serving": "none"}, {"project_kind": "llm"}], ids=["tabular", "batch", "llm"]
)
def test_every_make_target_a_generated_readme_names_exists(
    tmp_path: Path, answers: dict[str, str]
) -> None:
    project = render(tmp_path / "p", template=str(REPO_ROOT), vcs_ref="HEAD", data=answers)
    readme = (project / "README.md").read_text()
    named = set(re.findall(r"(?:^|`)make ([a-z][a-z-]*)", readme, re.MULTILINE))
    known = makefile_targets((project / "Makefile").read_text())
    assert named <= known, named - known


def test_the_readme_says_how_to_get_copier_and_new_s_flags() -> None:
    assert "uvx copier copy --trust" in README
    new_flags = {"--defaults", "--preset", "--data"}
    assert all(flag in README for flag in new_flags)
    help_text = build_parser().format_help()
    assert "new" in help_text


@pytest.mark.slow
def test_the_readme_s_commands_in_its_order_leave_a_working_clone(tmp_path: Path) -> None:
    """On a clone: both demos, then `goldpath new` elsewhere, `goldpath check` and the test
    that a nested demo repository used to break; the clone's status stays clean."""
    clone = tmp_path / "goldpath"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
    # The working tree as it is (a clone has HEAD; the change under test may be unstaged).
    files = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for name in files:
        source, target = REPO_ROOT / name, clone / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()  # deleted in the working tree
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "--allow-empty", "-m", "the change under test")
    # As on a fresh machine: the clone's own environment (the tests' local-runtime
    # variables would replace its editable goldpath-runtime), nothing of this session's.
    dropped = {"PYTEST_ADDOPTS", "VIRTUAL_ENV", "UV_NO_SOURCES_PACKAGE", "UV_FIND_LINKS"}
    env = {k: v for k, v in project_env().items() if k not in dropped}

    def uv_run(*args: str, cwd: Path = clone) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["uv", "run", *args], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=900, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{args}:\n{(done.stdout + done.stderr)[-3000:]}"
        return done

    tabular = uv_run("goldpath", "demo").stdout
    for line in ("registered demo v1 as @challenger", "@champion of demo: none -> v1",
                 "model_version=1", "prediction="):  # fmt: skip
        assert line in tabular, tabular[-3000:]
    assert (clone / "demo" / ".git").is_dir()
    assert (clone / "demo" / "uv.lock").is_file()
    llm = uv_run("goldpath", "demo", "demo-llm", "--data", "project_kind=llm").stdout
    for line in ("gate passed: every scorer meets its threshold; registered as version 1",
                 "@champion of prompt extract_trade: none -> v1",
                 "POST examples/request.json to /extract", "side=sell",
                 "reference_index=EURIBOR-6M", "prompt=extract_trade v1 model=fake-trade-extractor"):  # fmt: skip
        assert line in llm, llm[-3000:]
    assert "not fully right" not in llm
    assert git(clone, "status", "--porcelain") == "", "the demos are ignored"
    made = uv_run("goldpath", "new", str(tmp_path / "after-demos"), "--defaults")
    # The clone's commit is on no goldpath remote: its runtime is locked from the clone.
    assert "goldpath-runtime locked from" in made.stderr, made.stderr[-3000:]
    assert (tmp_path / "after-demos" / "uv.lock").is_file()
    uv_run("pytest", "-q", "-p", "no:cacheprovider",
           "tests/test_check.py::test_default_check_passes_and_reports")  # fmt: skip
    assert git(clone, "status", "--porcelain") == ""
