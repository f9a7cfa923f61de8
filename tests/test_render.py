"""Rendering the combinations `goldpath check --matrix pairwise` renders: the right files for
each answer and no leftover Jinja (the project's own linters on the same combinations:
test_matrix)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator._options import Combination

from .conftest import MATRIX, Render, matrix, named, option_values

ALWAYS = (
    "pyproject.toml",
    "Makefile",
    "Dockerfile",
    ".dockerignore",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".copier-answers.yml",
    "README.md",
    "examples/request.json",
    "tests/test_training.py",
    "tests/test_batch.py",
)
# A Jinja expression opens with a name ({{ x }}, {{- x }}); Python's escaped braces in an
# f-string ({{1,2}}, a regex quantifier) and GitHub's ${{ }} are not leftovers.
# GitHub's `${{ }}` and Databricks' dynamic value references (`{{job.parameters.x}}`) are
# meant to be there.
JINJA_LEFTOVER = re.compile(
    r"(?<!\$)\{\{(?!(job|tasks?|run|workspace)\.)[-\s]*[A-Za-z_]|\{%|%\}|\.jinja\b"
)


def project_files(project: Path) -> list[Path]:
    return [p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts]


@pytest.mark.parametrize("answers", MATRIX, ids=named)
def test_no_leftover_jinja(rendered: Render, answers: Combination) -> None:
    project = rendered(**answers)
    leftovers = []
    for path in project_files(project):
        if "{" in path.name or path.suffix == ".jinja":
            leftovers.append(f"{path.relative_to(project)}: template file name")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if JINJA_LEFTOVER.search(line):
                leftovers.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    assert not leftovers, "\n".join(leftovers)


@pytest.mark.parametrize("answers", matrix(project_kind="tabular"), ids=named)
def test_files_follow_the_serving_answer(rendered: Render, answers: Combination) -> None:
    project, serving = rendered(**answers), answers["serving"]
    package = project / "src" / "project"
    missing = [name for name in ALWAYS if not (project / name).is_file()]
    assert not missing
    for module in ["project.py", "features.py", "schema.py", "data.py", "model_cli.py"]:
        assert (package / module).is_file(), module

    served = serving != "none"
    apps = sorted(path.name for path in (package / "serving").glob("*_app.py"))
    assert apps == ([f"{serving}_app.py"] if served else [])
    assert (project / "tests" / "test_api.py").exists() is served
    assert (project / "tests" / "test_lean.py").exists() is served
    assert (project / "gunicorn.conf.py").exists() is served

    pyproject = (project / "pyproject.toml").read_text()
    app = (package / "serving" / apps[0]).read_text() if served else ""
    makefile = (project / "Makefile").read_text()
    dockerfile = (project / "Dockerfile").read_text()
    # The serving shell comes with the runtime's extra for the framework.
    assert (",asgi]" in pyproject) is (serving == "fastapi")
    assert (",wsgi]" in pyproject) is (serving == "flask")
    gunicorn_conf = (project / "gunicorn.conf.py").read_text() if served else ""
    if serving == "fastapi":
        assert "from goldpath_runtime.tabular import asgi_service" in app
        assert 'worker_class = "goldpath_runtime.serving.uvicorn_worker.Worker"' in gunicorn_conf
        assert "project.serving.fastapi_app:create_app()" in makefile + dockerfile
    elif serving == "flask":
        assert "from flask import" in app
        assert 'worker_class = "goldpath_runtime.serving.gevent_worker.Worker"' in gunicorn_conf
        assert "project.serving.flask_app:create_app()" in makefile + dockerfile
        assert 'keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))' in gunicorn_conf
    if served:
        assert "gunicorn --config gunicorn.conf.py" in makefile
        assert '"gunicorn", "--config", "/app/gunicorn.conf.py"' in dockerfile
        # The benchmark's ceiling is an app of the same interface: gevent workers cannot
        # serve the ASGI one (make bench never got ready on the Flask variant).
        bench = (project / "benchmarks" / "serving.py").read_text()
        assert ("wsgi=True" in bench) is (serving == "flask")
    else:
        assert "serve:" not in makefile
        assert "HEALTHCHECK NONE" in dockerfile


@pytest.mark.parametrize("python_version", option_values("python_version"))
def test_python_version_reaches_every_file(rendered: Render, python_version: str) -> None:
    project = rendered(python_version=python_version)
    assert (project / ".python-version").read_text().strip() == python_version
    pyproject = (project / "pyproject.toml").read_text()
    assert f'requires-python = ">={python_version}"' in pyproject
    assert f'target-version = "py{python_version.replace(".", "")}"' in pyproject
    assert (
        f"FROM python:{python_version}-slim-bookworm@sha256:"
        in (project / "Dockerfile").read_text()
    )


@pytest.mark.parametrize("serving", option_values("serving"))
def test_the_image_is_multi_stage_and_runs_as_a_numeric_non_root_user(
    rendered: Render, serving: str
) -> None:
    project = rendered(serving=serving)
    dockerfile = (project / "Dockerfile").read_text()
    assert re.search(r"^USER 10001:10001$", dockerfile, re.MULTILINE), "numeric non-root USER"
    assert dockerfile.count("\nFROM ") >= 2, "multi-stage build"
    assert "HEALTHCHECK" in dockerfile


def test_answers_file_records_every_answer(rendered: Render) -> None:
    project = rendered(serving="flask", cloud="azure", ci="both")
    answers = (project / ".copier-answers.yml").read_text()
    for line in ["serving: flask", "cloud: azure", "ci: both", "databricks: true", "_commit:"]:
        assert line in answers


@pytest.mark.parametrize("serving", ["fastapi", "flask"])
def test_the_slim_images_dependencies_are_the_projects_own(rendered: Render, serving: str) -> None:
    """The `serving` group (what the slim image installs) repeats specifiers from
    `dependencies`: the same strings, so one lock resolves both to the same versions, and
    none of the training stack."""
    import tomllib

    pyproject = tomllib.loads((rendered(serving=serving) / "pyproject.toml").read_text())
    group = pyproject["dependency-groups"]["serving"]
    assert group, "empty serving group"

    # goldpath-runtime with a subset of the project's extras, never the registry (MLflow)
    # or the data contract (pandas, pandera): the same package and source.
    def runtime_extras(specs: list[str]) -> set[str]:
        [spec] = [s for s in specs if s.startswith("goldpath-runtime[")]
        return set(spec.removeprefix("goldpath-runtime[").removesuffix("]").split(","))

    extras = runtime_extras(group)
    assert extras <= runtime_extras(pyproject["project"]["dependencies"])
    assert not extras & {"registry", "contract"}
    others = [spec for spec in group if not spec.startswith("goldpath-runtime[")]
    assert set(others) <= set(pyproject["project"]["dependencies"])
    heavy = ("mlflow", "scikit-learn", "pandas", "scipy", "pyarrow", "skops")
    assert not [spec for spec in group if spec.startswith(heavy)]
