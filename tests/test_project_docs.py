"""Each generated project's documentation (mkdocs.yml and docs/, what TechDocs shows in the
portal) builds strictly: every page in the nav, every link and heading it names found, and
the runbook matches the project (its alerts, its artifact, its CI system)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator._process import project_env
from generator._template import REPO_ROOT, render

from .conftest import Render
from .docs_site import build_site, pages

# What the TechDocs container builds with: mkdocs-techdocs-core, which pins its own
# mkdocs-material and pymdown-extensions (so it runs in its own environment, via uvx).
TECHDOCS_CORE = "1.7.1"

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
    assert built == {"index.html", "readme/index.html", "runbook/index.html", "card/index.html"}
    readme = (tmp_path / "site" / "readme" / "index.html").read_text()
    assert "Quick start" in readme, "the README is read in, not linked"
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


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["tabular", "llm"])
def test_techdocs_builds_the_project_s_docs(rendered: Render, tmp_path: Path, kind: str) -> None:
    project = tmp_path / "project"
    shutil.copytree(rendered(project_kind=kind), project)
    # As techdocs-cli does before it builds: its plugin added to the project's config.
    (project / "mkdocs.techdocs.yml").write_text(
        "INHERIT: mkdocs.yml\nplugins:\n  - techdocs-core\n"
    )
    done = subprocess.run(
        ["uvx", "--from", f"mkdocs-techdocs-core=={TECHDOCS_CORE}", "mkdocs", "build",
         "--strict", "--config-file", "mkdocs.techdocs.yml", "--site-dir", str(tmp_path / "site")],
        cwd=project, env={**project_env(), "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    readme = (tmp_path / "site" / "readme" / "index.html").read_text()
    assert "Quick start" in readme
    assert (tmp_path / "site" / "techdocs_metadata.json").is_file()
