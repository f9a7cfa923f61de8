"""goldpath-runtime from this checkout, for the projects goldpath itself renders and runs
(the demo, `check --run-tests`, this repository's tests).

A generated project takes goldpath-runtime from the platform's git repository at its
template release (`[tool.uv.sources]` in its pyproject). Offline, and for a change not yet
released, the projects goldpath runs here use this checkout's runtime instead: built once
per content into a wheel whose local version names that content (`0.1.0+dev.<hash>`, so
uv never reuses a wheel of other code under the same version), and found by uv through
UV_FIND_LINKS with the git source switched off (UV_NO_SOURCES_PACKAGE).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from ._errors import GoldpathError
from ._libraries import build_versioned
from ._location import REPO_ROOT

RUNTIME = REPO_ROOT / "runtime"
PACKAGE = "goldpath-runtime"


def _content_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (
            path.is_file()
            and relative.parts[0] not in {"tests", "dist"}
            and ("__pycache__" not in relative.parts)
        ):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _base_version(runtime: Path) -> str:
    found = re.search(r'^version = "([^"+]+)', (runtime / "pyproject.toml").read_text(), re.M)
    if found is None:
        raise GoldpathError(f"{runtime / 'pyproject.toml'}: no version")
    return found.group(1)


def local_runtime_wheels(runtime: Path = RUNTIME) -> Path:
    """A folder holding a checkout's runtime as a wheel (built when its content is new)."""
    if not (runtime / "pyproject.toml").is_file():
        raise GoldpathError(f"no runtime at {runtime}: run goldpath from a goldpath checkout")
    content = _content_hash(runtime)
    folder = Path(tempfile.gettempdir()) / f"goldpath-runtime-{content}"
    if any(folder.glob("*.whl")):
        return folder
    # Renamed into place: another process never sees half a wheel.
    staging = Path(tempfile.mkdtemp(prefix="goldpath-runtime-build-"))
    try:
        version = f"{_base_version(runtime)}+dev.{content}"
        (wheel,) = build_versioned(runtime, version, staging, sdist=False)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{wheel.name}.{os.getpid()}"
        shutil.copy(wheel, partial)
        os.replace(partial, folder / wheel.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def local_runtime_env(runtime: Path = RUNTIME) -> dict[str, str]:
    """The variables that make a generated project's uv use a checkout's runtime."""
    links = [str(local_runtime_wheels(runtime))]
    if os.environ.get("UV_FIND_LINKS"):
        links.append(os.environ["UV_FIND_LINKS"])
    return {"UV_NO_SOURCES_PACKAGE": PACKAGE, "UV_FIND_LINKS": ",".join(links)}
