"""The option space as one declarative thing: plain file names, one layout block, derived
values computed once, and a loud failure for a choice value the template does not handle
(through copier itself and through goldpath)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator._cli import main
from generator._options import (
    default_problems,
    defaults,
    full_matrix,
    label,
    load_questions,
    options,
)
from generator._template import REPO_ROOT
from tests.git_helpers import commit_all, git

from .conftest import Render, option_values

LAYOUT = REPO_ROOT / "templates" / "includes" / "layout.jinja"
OPTIONS = REPO_ROOT / "templates" / "includes" / "options.jinja"


def scratch_template(root: Path, edit: dict[str, dict[str, object]]) -> Path:
    """A committed copy of this template with some questions changed."""
    template = root / "template"
    template.mkdir(parents=True)
    shutil.copytree(REPO_ROOT / "templates", template / "templates")
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    for question, changes in edit.items():
        config[question].update(changes)
    (template / "copier.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    git(template, "init", "--quiet", "-b", "main")
    commit_all(template, "scratch")
    return template


def test_no_template_path_holds_a_jinja_block() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "templates"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    on_disk = [str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "templates").rglob("*")]
    assert listed
    assert [p for p in [*listed, *on_disk] if "{%" in p] == []


def test_layout_conditions_read_positively() -> None:
    text = LAYOUT.read_text()
    assert "!=" not in text
    assert "not in" not in text
    assert "else" not in text


def test_every_choice_question_is_checked_against_the_handled_values() -> None:
    handled = OPTIONS.read_text()
    for question in options(REPO_ROOT).values():
        if question.boolean:  # yes/no: its validator refuses anything but true and false
            assert question.type == "yaml", question.name
            assert question.validator is not None
            assert "sameas true" in question.validator
            continue
        if not question.choices:
            continue
        assert f'"{question.name}": [' in handled, question.name
        for value in question.choices:
            assert f'"{value}"' in handled, (question.name, value)
        assert question.validator is not None
        assert f"unhandled('{question.name}', {question.name})" in question.validator


def test_derived_values_are_computed_not_asked() -> None:
    questions = load_questions(REPO_ROOT)
    for name in (
        "service_name",
        "has_service",
        "batch_only",
        "uses_github",
        "uses_azure_devops",
        "uses_gitlab",
    ):
        assert questions[name].computed, name
        assert name not in options(REPO_ROOT)
    repeated = []
    for path in (REPO_ROOT / "templates").rglob("*"):
        if path.is_file() and "project_slug | replace('_', '-')" in path.read_text():
            repeated.append(str(path))
    assert repeated == []


@pytest.mark.parametrize(("question", "value"), [("ci", "bitbucket"), ("cloud", "aws")])
def test_an_unhandled_choice_fails_loudly(
    tmp_path: Path, question: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    choices = config[question]["choices"]
    choices[f"{value} (new)"] = value
    template = scratch_template(tmp_path, {question: {"choices": choices}})
    expected = f'{question} "{value}" is not handled by templates/includes/options.jinja'

    copied = subprocess.run(
        [str(Path(sys.executable).parent / "copier"), "copy", "--trust", "--defaults",
         "--vcs-ref", "HEAD", "--data", f"{question}={value}", str(template),
         str(tmp_path / "by-copier")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert copied.returncode != 0
    assert expected in copied.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "by-copier" / "README.md").exists()

    code = main(["new", str(tmp_path / "by-goldpath"), "--defaults", "--template",
                 str(template), "--vcs-ref", "HEAD", "--data", f"{question}={value}"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert expected in err
    assert err.count("\n") == 1, err

    defaulted = scratch_template(tmp_path / "d", {question: {"choices": choices, "default": value}})
    code = main(["check", "--matrix", "default", "--jobs", "1", "--template", str(defaulted)])
    out = capsys.readouterr().out
    assert code == 1
    assert expected in out


def test_check_fails_when_a_default_is_not_a_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = scratch_template(tmp_path, {"serving": {"default": "django"}})
    assert default_problems(template) == [
        "copier.yml: serving's default 'django' is not one of its choices (fastapi, flask, none)"
    ]
    report = tmp_path / "report.json"
    code = main(["check", "--matrix", "pairwise", "--template", str(template),
                 "--report", str(report)])  # fmt: skip
    assert code == 1
    assert "serving's default 'django'" in capsys.readouterr().out
    assert report.is_file()
    assert default_problems(REPO_ROOT) == []


def test_check_reports_a_broken_copier_yml_as_a_fail_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = scratch_template(tmp_path, {})
    (template / "copier.yml").write_text("serving:\n  choices: [fastapi\n")
    report = tmp_path / "report.json"
    assert main(["check", "--template", str(template), "--report", str(report)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "copier.yml line" in captured.out
    assert "not valid YAML" in captured.out
    assert json.loads(report.read_text())["failed"] == 1


def test_matrix_comes_from_copier_yml() -> None:
    combos = full_matrix(REPO_ROOT)
    for name, question in options(REPO_ROOT).items():
        seen = {c[name] for c in combos if name in c}
        assert seen == set(question.values), name


def excluded_by_layout(answers: dict[str, object]) -> set[str]:
    """The patterns templates/includes/layout.jinja prints for these answers, rendered with
    copier.yml's computed values as copier would."""
    import jinja2

    # goldpath_repository is a free-text answer: its default, on github.com.
    given = {
        "project_slug": "pkg",
        "goldpath_repository": "https://github.com/ml-platform/goldpath",
    }
    context = defaults(REPO_ROOT, {**given, **answers})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(REPO_ROOT), autoescape=False)  # noqa: S701
    text = env.get_template("templates/includes/layout.jinja").render(**context)
    return {line for line in text.splitlines() if line.strip()}


SERVICE_FILES = {
    "/src/pkg/serving", "/gunicorn.conf.py", "/benchmarks/serving.py", "/benchmarks/soak.py",
    "/benchmarks/startup.py",
    "/tests/test_api.py", "/tests/test_lean.py", "/tests/test_shadow.py", "/openapi.json",
}  # fmt: skip
BUNDLE_FILES = {
    "/databricks.yml", "/resources", "/src/pkg/jobs.py", "/src/pkg/extraction_jobs.py",
    "/benchmarks/batch_scoring.py", "/tests/test_spark.py", "/tests/test_spark_extraction.py",
    "/tests/test_dataset_spark.py",
    "/.github/workflows/bundle.yml",
    "/scripts/*/databricks-auth.sh", "/scripts/databricks-bundle.sh", "/.gitlab/ci/bundle.yml",
}  # fmt: skip


@pytest.mark.parametrize("combination", full_matrix(REPO_ROOT), ids=label)
def test_layout_map_for_every_combination(combination: dict[str, object]) -> None:
    """The file rules of the whole matrix, stated once more as a specification."""
    excluded = excluded_by_layout(combination)
    ci, cloud = combination["ci"], combination["cloud"]
    # The LLM kind is never asked `serving`: its service is FastAPI.
    serving = combination.get("serving", "fastapi")
    databricks = combination.get("databricks", False)
    expected: set[str] = set()
    if ci in ("azure-devops", "gitlab"):
        expected.add("/.github")
    if not combination.get("github_enterprise", False):
        expected.add("/.github/zizmor.yml")
        # goldpath on github.com (the default URL): the platform's deploy stage, by reference.
        if ci in ("github", "both"):
            expected |= {"/.github/workflows/deploy.yml", "/.github/workflows/promote.yml"}
    if ci in ("github", "gitlab"):
        expected |= {"/azure-pipelines.yml", "/.azure-pipelines"}
    else:
        # goldpath on github.com, which Azure DevOps reaches through a service connection: the
        # platform's pipeline template, by reference.
        expected.add("/.azure-pipelines/stages")
    if ci != "gitlab":
        expected |= {"/.gitlab-ci.yml", "/.gitlab"}
    if ci not in ("azure-devops", "gitlab"):
        expected.add("/renovate.json")
    # Only the project's cloud's operations (scripts/<cloud>/).
    expected |= {f"/scripts/{other}" for other in ("gcp", "azure") if other != cloud}
    if serving == "none":
        expected |= SERVICE_FILES | {
            "/scripts/*/deploy-service.sh",
            "/scripts/smoke-test.sh",
            "/scripts/canary.sh",
        }
    else:
        expected.add("/scripts/*/deploy-job.sh")
    if serving != "fastapi":
        expected |= {"/src/pkg/serving/fastapi_app.py"}
    if serving != "flask":
        expected.add("/src/pkg/serving/flask_app.py")
    if not databricks:
        expected |= BUNDLE_FILES
        if serving == "none":
            expected.add("/benchmarks")
    assert excluded == expected


def test_template_problems_are_fail_rows_with_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken_when = scratch_template(tmp_path / "when", {"databricks_compute": {"when": "{{ 1 + }}"}})
    report = tmp_path / "when.json"
    assert main(["check", "--template", str(broken_when), "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert "databricks_compute.when" in out
    assert json.loads(report.read_text())["failed"] == 1

    broken_file = scratch_template(tmp_path / "jinja", {})
    makefile = broken_file / "templates" / "project" / "Makefile.jinja"
    makefile.write_text(makefile.read_text() + "\n{% if serving %}\n")
    commit_all(broken_file, "unclosed block")
    report = tmp_path / "jinja.json"
    code = main(["check", "--matrix", "default", "--jobs", "1", "--template", str(broken_file),
                 "--report", str(report)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.out + captured.err
    assert "TemplateSyntaxError" in captured.out
    assert "Makefile.jinja" in captured.out
    assert json.loads(report.read_text())["failed"] == 1


def layer_files(kind: str) -> set[str]:
    """The files of a kind's folder in templates/project, as a project names them."""
    root = REPO_ROOT / "templates" / "project" / f"{{{{ {kind}_layer }}}}"
    return {
        "/"
        + str(path.relative_to(root)).replace("{{project_slug}}", "project").removesuffix(".jinja")
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.mark.parametrize("kind", option_values("project_kind"))
def test_a_kind_has_its_own_folder_and_no_other(rendered: Render, kind: str) -> None:
    """Each kind's own files sit in its folder of the template (no layout group lists them):
    a project of the kind has every one the other answers keep, and none of another kind's."""
    answers: dict[str, object] = {"project_kind": kind, "databricks": True}
    project = rendered(**answers)
    excluded = excluded_by_layout({"project_slug": "project", **answers})
    own = layer_files(kind)
    assert own, f"no folder for the {kind} kind"
    present = {name for name in own if (project / name.lstrip("/")).is_file()}
    missing = own - present - {name for name in own if any(
        name == pattern or name.startswith(pattern + "/") for pattern in excluded
    )}  # fmt: skip
    assert not missing, sorted(missing)
    others = set().union(*(layer_files(k) for k in option_values("project_kind") if k != kind))
    foreign = sorted(n for n in others - own if (project / n.lstrip("/")).exists())
    assert not foreign


def test_the_pipelines_pulumi_cli_is_the_engine_the_repository_locks() -> None:
    """copier.yml's pulumi_version, which every generated pipeline installs, is the `pulumi`
    package version in uv.lock, so the CLI and the SDK move together."""
    lock = (REPO_ROOT / "uv.lock").read_text()
    (locked,) = re.findall(r'\[\[package\]\]\nname = "pulumi"\nversion = "([^"]+)"', lock)
    assert defaults(REPO_ROOT, {})["pulumi_version"] == locked
