"""The documentation site's three tutorials run as written (tests/tutorials.py): a newcomer
who types each page's commands in order ends where the page says."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from generator._runtime import local_runtime_env

from .tutorials import DOCS, STEP, blocks, run_tutorial

# Not in the quick subset (-m "not slow"): each builds a project environment.
pytestmark = pytest.mark.slow


def _ran(page: str, workspace: Path, **env: str) -> str:
    # The platform's package index is this checkout's runtime (tests have no index).
    done = run_tutorial(DOCS / "tutorials" / page, workspace, env={**local_runtime_env(), **env})
    assert done.returncode == 0, done.stdout[-5000:]
    return done.stdout


def test_every_tutorial_has_commands_and_one_server_at_most() -> None:
    for page in sorted((DOCS / "tutorials").glob("*.md")):
        found = blocks(page)
        assert sum(b.runs for b in found) >= 3, page.name
        assert sum(b.beside for b in found) <= 1, page.name


def test_a_marked_script_times_every_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# T\n\n```bash\necho one\n```\n\n```text\nnot run\n```\n\n"
                    "```bash\necho two\n```\n")  # fmt: skip
    done = run_tutorial(page, tmp_path, marked=True)
    assert done.returncode == 0
    lines = done.stdout.split()
    assert [lines[i + 1] for i, w in enumerate(lines) if w == STEP] == ["0", "1"]
    assert "one" in lines
    assert "two" in lines
    assert "not run" not in done.stdout


def test_first_model_tutorial_ends_with_a_served_prediction(tmp_path: Path) -> None:
    # The project's whole suite runs in test_generated_project.py; here a part of it, as
    # the generated-variant tests do (make test honours PYTEST_ADDOPTS).
    out = _ran("first-model.md", tmp_path, PYTEST_ADDOPTS="tests/test_governance.py")
    assert "registered rfq_model v1 as @challenger" in out, out[-3000:]
    assert "@champion of rfq_model: none -> v1" in out
    assert '"model_version":"1"' in out
    assert '"prediction":' in out
    log = subprocess.run(["git", "log", "--format=%s"], cwd=tmp_path / "rfq-model",
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert log.splitlines()[:2] == ["Promote the first model", "Start from goldpath"]
    # The server of the "Second terminal" block went with the tutorial.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", 8000)) != 0


def test_prompt_change_tutorial_is_refused_then_shipped_then_rolled_back(tmp_path: Path) -> None:
    out = _ran("llm-prompt-change.md", tmp_path)
    refused = out.index("the gate refused this prompt")
    assert "error: evaluation gate failed: injection_refusal" in out[:refused]
    assert "registered as version 2 with @challenger" in out[refused:]
    assert "@champion of prompt extract_trade: v1 -> v2" in out
    assert "@champion of prompt extract_trade: v2 -> v1 (rollback)" in out


def test_fleet_tutorial_rolls_a_release_out_without_losing_a_team_s_rule(
    tmp_path: Path,
) -> None:
    # Where the page starts: the platform's repository cloned, its latest release v1.0.0.
    subprocess.run(["git", "clone", "--quiet", str(DOCS.parent), str(tmp_path / "goldpath")],
                   check=True)  # fmt: skip
    subprocess.run(["git", "-C", str(tmp_path / "goldpath"), "tag", "v1.0.0"], check=True)
    out = _ran("fleet-rollout.md", tmp_path)
    assert "some repositories need a person" in out
    assert "- Never change the request schema without the pricing desk." in out
    assert "desk-b still needs a person" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[-3:] if line.strip()}
    assert rows["desk-a"][1:4] == ["v1.1.0", "v1.1.0", "current"], out[-2000:]
    assert rows["desk-b"][1:4] == ["v1.0.0", "v1.1.0", "behind"], out[-2000:]
