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
from ._location import REPO_ROOT
from ._process import execute, uv

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


def local_runtime_wheels(runtime: Path = RUNTIME) -> Path:
    """A folder holding a checkout's runtime as a wheel (built when its content is new)."""
    if not (runtime / "pyproject.toml").is_file():
        raise GoldpathError(f"no runtime at {runtime}: run goldpath from a goldpath checkout")
    content = _content_hash(runtime)
    folder = Path(tempfile.gettempdir()) / f"goldpath-runtime-{content}"
    if any(folder.glob("*.whl")):
        return folder
    scratch = Path(tempfile.mkdtemp(prefix="goldpath-runtime-build-"))
    try:
        source = scratch / "runtime"
        shutil.copytree(runtime, source, ignore=shutil.ignore_patterns("tests", "__pycache__"))
        project = source / "pyproject.toml"
        text = project.read_text()
        project.write_text(
            re.sub(r'^version = "([^"+]+)"$', rf'version = "\1+dev.{content}"', text, flags=re.M)
        )
        built = execute([uv(), "build", "--wheel", "--quiet", "-o", str(scratch / "dist"),
                         str(source)], None)  # fmt: skip
        if built.returncode != 0:
            raise GoldpathError(f"building {PACKAGE} failed: {built.stderr.strip()[-500:]}")
        folder.mkdir(parents=True, exist_ok=True)
        for wheel in (scratch / "dist").glob("*.whl"):
            # Renamed into place: another process never sees half a wheel.
            partial = folder / f".{wheel.name}.{os.getpid()}"
            shutil.copy(wheel, partial)
            os.replace(partial, folder / wheel.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder


def local_runtime_env(runtime: Path = RUNTIME) -> dict[str, str]:
    """The variables that make a generated project's uv use a checkout's runtime."""
    links = [str(local_runtime_wheels(runtime))]
    if os.environ.get("UV_FIND_LINKS"):
        links.append(os.environ["UV_FIND_LINKS"])
    return {"UV_NO_SOURCES_PACKAGE": PACKAGE, "UV_FIND_LINKS": ",".join(links)}
