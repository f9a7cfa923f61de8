"""A newcomer's path through the documentation site's first tutorial, timed end to end:
every command of docs/tutorials/first-model.md as written (the project's whole `make
test` included), block by block, with uv's cache as a newcomer has it (empty: every
package downloaded from the index) and as a second project finds it (warm). Each block's
share of the whole is printed beside it; the first, `goldpath new`, is what the template
itself costs, and the rest is the project's own work.

    uv run python benchmarks/newcomer.py [--cold] [--warm]

The project's runtime comes from this checkout (as in the tests): the platform's package
index would serve it. The tutorial's server listens on port 8000: keep it free.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator._runtime import local_runtime_env
from tests.tutorials import DOCS, STEP, blocks, run_tutorial

PAGE = DOCS / "tutorials" / "first-model.md"


def labels(page: Path) -> list[str]:
    """Each running block as `section: its first command`, in order."""
    text = page.read_text()
    found = []
    for block in (b for b in blocks(page) if b.runs):
        section = re.findall(r"^## (.+)$", text[: text.index(block.body)], re.MULTILINE)[-1]
        found.append(f"{section}: {block.body.strip().splitlines()[0]}")
    return found


def timed(cache: Path) -> tuple[float, list[tuple[str, float]]]:
    with tempfile.TemporaryDirectory(prefix="newcomer-") as folder:
        env = {**local_runtime_env(), "UV_CACHE_DIR": str(cache)}
        started = time.time()
        done = run_tutorial(PAGE, Path(folder), env=env, timeout=3600, marked=True)
        ended = time.time()
    if done.returncode != 0:
        sys.exit(f"the tutorial failed:\n{done.stdout[-3000:]}")
    marks = [float(m) for m in re.findall(rf"^{STEP} \d+ ([\d.]+)$", done.stdout, re.M)]
    bounds = [*marks, ended]
    steps = [(name, bounds[i + 1] - bounds[i]) for i, name in enumerate(labels(PAGE))]
    return ended - started, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="only with an empty uv cache")
    parser.add_argument("--warm", action="store_true", help="only with this machine's cache")
    args = parser.parse_args()
    runs = []
    if not args.warm:
        runs.append(("cold cache", None))
    if not args.cold:
        default = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")
        runs.append(("warm cache", Path(default)))
    for label, cache in runs:
        # The empty cache fills with every package (about 1 GB): removed after its run.
        with tempfile.TemporaryDirectory(prefix="uv-cache-") as empty:
            total, steps = timed(cache or Path(empty))
        print(f"first tutorial, {label}: {total:.1f} s end to end")
        for name, seconds in steps:
            print(f"  {seconds:7.1f} s  {name}  ({seconds / total:.0%})")


if __name__ == "__main__":
    main()
