"""The LLM project's alert rules on online evaluation, as rendered: valid for Prometheus
(`promtool check rules`) and behaving as their unit test says (`promtool test rules`:
a drop in schema validity pages after its hour, too few samples never do, a screened
injection that got an extraction pages at once). promtool is Prometheus' own (Debian's
prometheus package, which .ci/run installs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import Render

RULES = Path("monitoring") / "online-evaluation.rules.yml"
TEST = Path("monitoring") / "online-evaluation.test.yml"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "install Debian's prometheus package (.ci/run does)"
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def llm_project(rendered: Render) -> Path:
    return rendered(project_kind="llm")


def test_the_rules_are_valid_and_pass_their_unit_test(llm_project: Path) -> None:
    checked = promtool("check", "rules", str(RULES), cwd=llm_project)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout
    tested = promtool("test", "rules", str(TEST), cwd=llm_project)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_unit_test_fails_when_a_threshold_is_loosened(
    llm_project: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "monitoring"
    shutil.copytree(llm_project / "monitoring", copy)
    rules = copy / RULES.name
    rules.write_text(
        rules.read_text().replace('{check="schema_valid"} < 0.95', '{check="schema_valid"} < 0.5')
    )
    tested = promtool("test", "rules", TEST.name, cwd=copy)
    assert tested.returncode != 0
    assert "ExtractionSchemaValidityDropped" in tested.stdout + tested.stderr


def test_only_the_llm_kind_has_them(rendered: Render) -> None:
    assert not (rendered(project_kind="tabular") / "monitoring").exists()
