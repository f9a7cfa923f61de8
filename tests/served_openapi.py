"""The OpenAPI documents generated projects serve, and the template's copies of them
(templates/includes/openapi/<kind>-<serving>.json, rendered as each project's
openapi.json for its catalog entity).

`uv run python -m tests.served_openapi` rewrites the copies from what a freshly rendered
project serves now; `test_catalog` fails, naming that command, when they differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from generator._template import REPO_ROOT, render

INCLUDES = REPO_ROOT / "templates" / "includes" / "openapi"
SERVICES = (("tabular", "fastapi"), ("tabular", "flask"), ("llm", "fastapi"))
SLUG = "openapi_sentinel"  # only [a-z0-9_]: it stands for project_slug as is in JSON text


def served(project: Path, app_module: str) -> str:
    """The document the project's app serves, as `make openapi` writes it (its code run
    by this repository's environment, which has every runtime extra)."""
    out = project / "served-openapi.json"
    subprocess.run(
        [sys.executable, "-m", "goldpath_runtime.serving.document", app_module, str(out)],
        cwd=project, check=True, capture_output=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(project / "src"), "MLFLOW_DISABLE_TELEMETRY": "true"},
    )  # fmt: skip
    return out.read_text(encoding="utf-8")


def app_module(kind: str, serving: str, slug: str) -> str:
    return f"{slug}.serving.{'extraction' if kind == 'llm' else serving}_app"


def refresh() -> None:
    INCLUDES.mkdir(parents=True, exist_ok=True)
    for kind, serving in SERVICES:
        with tempfile.TemporaryDirectory() as scratch:
            answers = {"project_kind": kind, "project_slug": SLUG}
            if kind == "tabular":
                answers["serving"] = serving
            project = render(Path(scratch) / "p", template=str(REPO_ROOT), data=answers,
                             vcs_ref="HEAD")  # fmt: skip
            text = served(project, app_module(kind, serving, SLUG))
        # Raw but for the slug: the document's own text is never read as Jinja.
        slug = "{% endraw %}{{ project_slug }}{% raw %}"
        template = "{% raw %}" + text.replace(SLUG, slug) + "{% endraw %}"
        (INCLUDES / f"{kind}-{serving}.json").write_text(template, encoding="utf-8")
        print(f"wrote {INCLUDES / f'{kind}-{serving}.json'}")


if __name__ == "__main__":
    refresh()
