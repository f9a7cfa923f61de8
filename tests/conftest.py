"""Helpers shared by the template tests: render the template (this checkout's working
tree, as copier sees it with vcs_ref=HEAD) once per answer set and reuse the result."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from generator._check import combinations
from generator._options import Combination, defaults, label, options
from generator._template import REPO_ROOT, render

if TYPE_CHECKING:
    from .fake_pulls import FakePullForge

BIN = Path(sys.executable).parent
Render = Callable[..., Path]


def tool(name: str) -> str:
    """A dev tool from this repository's environment (ruff, hadolint, ...)."""
    found = BIN / name
    if not found.exists():
        found_on_path = shutil.which(name)
        assert found_on_path, f"{name} is not installed: run `uv sync`"
        return found_on_path
    return str(found)


def run(command: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session", autouse=True)
def local_runtime() -> None:
    """Generated projects (and `goldpath new`'s lock) take goldpath-runtime from this
    checkout, as the demo does: its git source is the platform's repository at a release."""
    from generator._runtime import local_runtime_env

    os.environ.update(local_runtime_env())


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Render:
    """render(**answers) -> a project directory, rendered once per distinct answer set."""
    cache: dict[tuple[tuple[str, Any], ...], Path] = {}

    def _render(**data: Any) -> Path:
        key = tuple(sorted(data.items()))
        if key not in cache:
            destination = tmp_path_factory.mktemp("render") / "project"
            cache[key] = render(destination, template=str(REPO_ROOT), data=data, vcs_ref="HEAD")
        return cache[key]

    return _render


def option_values(question: str) -> list[Any]:
    """A question's values, from copier.yml through goldpath's one options model."""
    return list(options(REPO_ROOT)[question].values)


def option_product(*questions: str) -> list[tuple[Any, ...]]:
    return list(itertools.product(*(option_values(q) for q in questions)))


def derived(name: str, **answers: Any) -> Any:
    """A computed value of copier.yml (e.g. uses_github) for these answers."""
    return defaults(REPO_ROOT, answers)[name]


def template_copy(folder: Path) -> Path:
    """This checkout's template (copier.yml and templates/) copied into `folder`, not
    committed: copier renders a plain folder where it lies."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "copier.yml", folder)
    shutil.copytree(REPO_ROOT / "templates", folder / "templates")
    return folder


# The combinations `goldpath check --matrix pairwise` renders and validates (every value
# pair, every kind x CI x cloud): the one harness the tests over option combinations use.
MATRIX = combinations(REPO_ROOT, "pairwise")


def matrix(**where: Any) -> list[Combination]:
    """MATRIX's combinations whose answers, or computed values (uses_github...), match."""
    return [
        answers for answers in MATRIX
        if all(
            (answers[name] if name in answers else derived(name, **answers)) == value
            for name, value in where.items()
        )
    ]  # fmt: skip


def named(answers: Combination) -> str:
    """A test id for a combination."""
    return label(answers)


@pytest.fixture
def forge(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePullForge]:
    """MOCK BOUNDARY: GitHub's and Azure DevOps' pull-request APIs on this machine
    (tests/fake_pulls.py), with the job's token in the environment; every call goldpath
    made must have kept to the forges' published contracts."""
    from generator._fleet_pulls import _http

    from .fake_pulls import TOKEN, serve

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("SYSTEM_ACCESSTOKEN", TOKEN)
    _http.cache_clear()
    with serve() as running:
        yield running
    _http.cache_clear()
    assert running.violations == [], "goldpath called off the forge's published contract"
