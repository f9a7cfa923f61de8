"""AGENTS.md, for coding assistants, stays true: in this repository every `make` target
it names exists and expands, every path it names exists; in a generated project its own
`tests/test_agents.py` does the same (run by the generated projects' `make test` here)."""

from __future__ import annotations

import re
import subprocess

from generator._template import REPO_ROOT

from .conftest import Render


def test_every_target_and_path_the_repository_s_agents_md_names_exists() -> None:
    text = (REPO_ROOT / "AGENTS.md").read_text()
    named = sorted(set(re.findall(r"\bmake ([a-z][a-z-]*)", text)))
    assert {"test", "lint"} <= set(named)
    for target in named:
        dry = subprocess.run(["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True)
        assert dry.returncode == 0, (target, dry.stderr)
    for path in re.findall(r"`((?:[a-z]+/)+[\w.{} ]*|[\w-]+\.(?:yml|md|py))`", text):
        assert (REPO_ROOT / path).exists() or (REPO_ROOT / "templates/project" / path).exists(), (
            path
        )


def test_a_project_s_agents_md_follows_its_answers(rendered: Render) -> None:
    service = (rendered() / "AGENTS.md").read_text()
    batch = (rendered(serving="none", risk_tier="high") / "AGENTS.md").read_text()
    llm = (rendered(project_kind="llm") / "AGENTS.md").read_text()
    assert "make serve" in service
    assert "make serve" not in batch
    assert "VALIDATOR" in batch
    assert "VALIDATOR" not in service
    assert "make eval" in llm
    assert "make train" not in llm
    assert "Personal data never reaches the provider" in llm
