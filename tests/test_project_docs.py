"""Each generated project's documentation (mkdocs.yml and docs/, what TechDocs shows in the
portal) builds strictly: every page in the nav, every link and heading it names found, and
the runbook matches the project (its alerts, its artifact, its CI system)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator._template import REPO_ROOT, render

from .conftest import Render
from .docs_site import build_site, pages

VARIANTS = [
    {"project_kind": "tabular", "serving": "fastapi", "ci": "github", "risk_tier": "high"},
    {"project_kind": "tabular", "serving": "none", "ci": "azure-devops", "databricks": True,
     "cloud": "azure"},
    {"project_kind": "llm", "ci": "gitlab"},
]  # fmt: skip


@pytest.mark.parametrize("answers", VARIANTS, ids=lambda a: "-".join(str(v) for v in a.values()))
def test_the_project_s_docs_build_strictly(
    rendered: Render, tmp_path: Path, answers: dict[str, object]
) -> None:
    project = rendered(**answers)
    done, _ = build_site(project / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    built = {p.relative_to(tmp_path / "site").as_posix() for p in pages(tmp_path / "site")}
    assert built == {"index.html", "runbook/index.html", "card/index.html"}
    runbook = (project / "docs" / "runbook.md").read_text()
    kind = answers["project_kind"]
    artifact = "prompt" if kind == "llm" else "model"
    assert f"## Roll the {artifact} back" in runbook
    assert ("## Roll the service back" in runbook) is (answers.get("serving") != "none")
    assert ("ExtractionInjectionNotRefused" in runbook) is (kind == "llm")
    assert ("drift in <model>" in runbook) is (kind == "tabular")
    assert ("rollback pipeline" in runbook) is (answers["ci"] == "azure-devops")
    card = (project / "docs" / "card.md").read_text()
    assert f"`{artifact}_card/card.md`" in card
    assert ("validated it" in card) is (answers.get("risk_tier") == "high")


def test_a_broken_runbook_link_fails_the_project_s_build(tmp_path: Path) -> None:
    # Its own render: the shared ones stay as generated.
    project = render(tmp_path / "project", template=str(REPO_ROOT), vcs_ref="HEAD")
    runbook = project / "docs" / "runbook.md"
    runbook.write_text(runbook.read_text().replace("(#roll-the-model-back)", "(#no-such-part)"))
    done, _ = build_site(project / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 1
    assert "#no-such-part" in done.stdout + done.stderr
