"""The lock file after an update: re-resolved from the updated `pyproject.toml`, never
merged. A dependency the template changed then shows as a new lock, not as a conflict in
thousands of lines no one can resolve by hand.

`uv lock --no-build` reads package metadata and runs nothing: no build backend, no
`setup.py`, from the team's repository or from an index. It runs without the operator's
credentials (as a team's `make test` does in a rollout); a resolution that needs them, or
that fails, is reported as a lock failure, with uv's own words.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ._process import execute, guarded, untrusted_env
from ._repofile import read_at
from ._vcs import git

_MARKERS = re.compile(r"^(<<<<<<< |>>>>>>> )", re.MULTILINE)


@dataclass(frozen=True)
class Relocked:
    note: str  # what happened, for the report and the pull request ("" when nothing)
    failed: bool = False
    output: str = ""


def _inside(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder}/{name}"


def relock(worktree: Path, base: str, folder: str = ".") -> Relocked:
    """Re-resolve `folder`'s uv.lock in `worktree` when the update changed its
    pyproject.toml (or touched the lock); the team's lock as it was otherwise."""
    lock, pyproject = _inside(folder, "uv.lock"), _inside(folder, "pyproject.toml")
    if read_at(worktree, base, lock) is None:
        return Relocked("")  # the project keeps no lock file
    changed = git(worktree, "diff", "--name-only", base, "--", pyproject, lock).splitlines()
    if not changed:
        return Relocked("")
    git(worktree, "checkout", base, "--", lock)  # the team's, whatever the update did to it
    manifest = worktree / pyproject
    if not manifest.is_file() or manifest.is_symlink():
        return Relocked(f"{lock} kept: {pyproject} is gone from the update")
    if _MARKERS.search(manifest.read_text(encoding="utf-8", errors="replace")):
        return Relocked(f"{lock} kept as it was: resolve {pyproject}, then run `uv lock`")
    found = shutil.which("uv")
    if found is None:
        return Relocked(f"{lock} not re-resolved: uv is not installed", failed=True,
                        output="uv is not on PATH: pip install uv")  # fmt: skip
    done = execute(guarded(found, "lock", "--no-build", "--no-progress"), worktree / folder,
                   env=untrusted_env())  # fmt: skip
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        return Relocked(f"`uv lock` cannot resolve {pyproject}", failed=True, output=tail)
    return Relocked(f"{lock} re-resolved with `uv lock` from the updated {pyproject}")
