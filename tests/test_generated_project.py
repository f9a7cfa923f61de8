"""A generated project is green on its first `make test`, in its own uv environment.

These tests are slow (each builds a project environment and trains real models); uv's
cache is shared with every other project on the machine, so after the first variant the
environment is linked from the cache, not downloaded.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from generator._process import project_env
from generator._template import REPO_ROOT, render

from .conftest import run

VARIANTS = {
    "fastapi": {"serving": "fastapi"},
    "flask": {"serving": "flask"},
    # Azure defaults to a Databricks bundle: its make test includes the PySpark engine test.
    "azure-databricks": {"cloud": "azure", "databricks": True},
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_first_make_test_is_green(tmp_path: Path, variant: str) -> None:
    project = render(
        tmp_path / "rfq-model", template=str(REPO_ROOT), data=VARIANTS[variant], vcs_ref="HEAD"
    )
    assert run(["git", "init", "-q"], project).returncode == 0
    # project_env(): the generated project must use its own .venv, not this repository's.
    result = subprocess.run(
        ["make", "test"],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert " passed" in output
    assert "failed" not in output.splitlines()[-1]
    # The real-server test ran, not skipped.
    assert "skipped" not in output.splitlines()[-1]
    # Every variant serves: the robustness tests (fuzz, SIGTERM, readiness, load failure,
    # a worker dying while the store is down) ran against the real server, all eight, and
    # the server tests (the champion served, metrics summed over workers), both.
    assert re.search(r"tests/test_robustness\.py \.{8}\s", output), output[-3000:]
    assert re.search(r"tests/test_server\.py \.{2}\s", output), output[-3000:]
    if variant == "azure-databricks":
        assert "tests/test_spark.py ." in output


def test_copy_never_overwrites_a_users_file_without_consent(tmp_path: Path) -> None:
    destination = tmp_path / "existing"
    destination.mkdir()
    (destination / "README.md").write_text("my own notes\n")
    (destination / "notes.txt").write_text("keep me\n")
    with pytest.raises(Exception, match="overwrite"):
        render(destination, template=str(REPO_ROOT), vcs_ref="HEAD")
    assert (destination / "README.md").read_text() == "my own notes\n"
    assert (destination / "notes.txt").read_text() == "keep me\n"


def test_copy_into_a_folder_with_unrelated_files_keeps_them(tmp_path: Path) -> None:
    destination = tmp_path / "existing"
    destination.mkdir()
    (destination / "notes.txt").write_text("keep me\n")
    render(destination, template=str(REPO_ROOT), vcs_ref="HEAD")
    assert (destination / "notes.txt").read_text() == "keep me\n"
    assert (destination / "pyproject.toml").is_file()
