"""Building MkDocs sites as CI does (strict: a warning, such as a broken link, fails the
build; never with -q, which drops the warnings before they are counted)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from generator._process import project_env

MKDOCS = Path(sys.executable).with_name("mkdocs")


def build_site(config: Path, site: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """`mkdocs build --strict` of `config` into `site`, and how long it took."""
    env = {**project_env(), "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return done, time.perf_counter() - started


def pages(site: Path) -> list[Path]:
    """The site's pages (its 404 page and the search index's helpers are not pages)."""
    return sorted(
        p for p in site.rglob("*.html") if p.name != "404.html" and os.sep + "assets" not in str(p)
    )
