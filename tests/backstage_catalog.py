"""Backstage's own catalog model, as its catalog backend checks what it ingests: the
published @backstage/catalog-model from npm, installed once per machine (cached), run by
node on `backstage/validate.js`. Nothing is reimplemented here: a descriptor this accepts,
a Backstage catalog accepts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

CATALOG_MODEL = "1.10.3"
SCAFFOLDER_COMMON = "2.4.0"
SCRIPT = Path(__file__).parent / "backstage" / "validate.js"
TEMPLATE_SCRIPT = Path(__file__).parent / "backstage" / "validate_template.js"


def npm_installed(name: str, packages: list[str], marker: str) -> Path:
    """A folder of node_modules holding `packages`, installed once per machine into uv's
    neighbour cache (~/.cache/goldpath/<name>); `marker` is a package path that shows the
    install finished."""
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    kept = home / "goldpath" / name
    if not (kept / "node_modules" / marker).is_dir():
        kept.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".backstage-", dir=kept.parent))
        subprocess.run(
            ["npm", "install", "--prefix", str(scratch), "--no-audit", "--no-fund",
             "--ignore-scripts", "--loglevel=error", *packages],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        try:
            scratch.rename(kept)  # another worker may have got there first: theirs is as good
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
    return kept


@cache
def catalog_model() -> Path:
    """A folder with node_modules/@backstage/catalog-model and the scaffolder's common
    package (installed on first use)."""
    return npm_installed(
        f"backstage-{CATALOG_MODEL}-{SCAFFOLDER_COMMON}",
        [f"@backstage/catalog-model@{CATALOG_MODEL}",
         f"@backstage/plugin-scaffolder-common@{SCAFFOLDER_COMMON}"],
        "@backstage/plugin-scaffolder-common",
    )  # fmt: skip


def resolve_text(value: Any, base: Path) -> Any:
    """What the catalog's placeholder processor does before validation: `{$text: path}`
    becomes the text of the file at `path`, relative to the descriptor."""
    if isinstance(value, dict):
        if set(value) == {"$text"}:
            return (base / value["$text"]).read_text(encoding="utf-8")
        return {k: resolve_text(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_text(v, base) for v in value]
    return value


def check_entities(entities: list[dict[str, Any]]) -> dict[str, list[str]]:
    """{entity ref: the problems Backstage's catalog model finds} for every entity."""
    folder = catalog_model()
    done = subprocess.run(
        ["node", str(SCRIPT)], input=json.dumps(entities), capture_output=True, text=True,
        check=True, timeout=120, env={**os.environ, "NODE_PATH": str(folder / "node_modules")},
    )  # fmt: skip
    said = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(said) == len(entities), done.stderr
    return {item["ref"]: item["problems"] for item in said}


def check_template(entity: dict[str, Any]) -> list[str]:
    """The problems Backstage finds in a software template entity (none: it ingests it)."""
    folder = catalog_model()
    done = subprocess.run(
        ["node", str(TEMPLATE_SCRIPT)], input=json.dumps(entity), capture_output=True,
        text=True, check=True, timeout=120,
        env={**os.environ, "NODE_PATH": str(folder / "node_modules")},
    )  # fmt: skip
    problems: list[str] = json.loads(done.stdout)["problems"]
    return problems
