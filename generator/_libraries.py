"""The platform's libraries as a release publishes them: goldpath-runtime and goldpath-infra
built from this checkout at the release's version, so that a project pinned to `vX.Y.Z`
takes the same code from the organisation's package index as from the git tag."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from ._errors import GoldpathError
from ._location import REPO_ROOT
from ._process import execute, uv

# Each library's folder in this repository, by distribution name.
LIBRARIES = {"goldpath-runtime": "runtime", "goldpath-infra": "infra"}
TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
_VERSION_LINE = re.compile(r'^version = "[^"]+"$', re.M)


def release_version(tag: str) -> str:
    """`v1.4.0` -> `1.4.0`; anything else is refused (a release tag is vX.Y.Z)."""
    match = TAG.fullmatch(tag)
    if match is None:
        raise GoldpathError(f"--tag {tag[:80]!r} is not a release tag: use vX.Y.Z (e.g. v1.4.0)")
    return ".".join(str(int(part)) for part in match.groups())


def build_versioned(source: Path, version: str, out: Path, *, sdist: bool = True) -> list[Path]:
    """Build the library at `source` as `version` into `out`, from a copy (the checkout's
    pyproject is never edited). Returns what was built."""
    project = source / "pyproject.toml"
    if not project.is_file():
        raise GoldpathError(f"no library at {source}: run goldpath from a goldpath checkout")
    scratch = Path(tempfile.mkdtemp(prefix="goldpath-build-"))
    try:
        copy = scratch / source.name
        ignore = shutil.ignore_patterns("tests", "__pycache__", "dist", "*.egg-info")
        shutil.copytree(source, copy, ignore=ignore)
        text = (copy / "pyproject.toml").read_text()
        if len(_VERSION_LINE.findall(text)) != 1:
            raise GoldpathError(f'{project}: expected one `version = "..."` line')
        (copy / "pyproject.toml").write_text(_VERSION_LINE.sub(f'version = "{version}"', text))
        kinds = ["--wheel", "--sdist"] if sdist else ["--wheel"]
        built = execute([uv(), "build", *kinds, "--quiet", "-o", str(scratch / "dist"),
                         str(copy)], None)  # fmt: skip
        if built.returncode != 0:
            raise GoldpathError(f"building {source.name} failed: {built.stderr.strip()[-500:]}")
        out.mkdir(parents=True, exist_ok=True)
        made = []
        for artifact in sorted((scratch / "dist").iterdir()):
            if artifact.suffix in {".whl", ".gz"}:
                made.append(Path(shutil.copy(artifact, out / artifact.name)))
        return made
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def build_libraries(tag: str, out: Path, root: Path = REPO_ROOT) -> list[Path]:
    """Every platform library at the release `tag`, wheel and sdist, into `out`."""
    version = release_version(tag)
    return [
        artifact
        for folder in LIBRARIES.values()
        for artifact in build_versioned(root / folder, version, out)
    ]
