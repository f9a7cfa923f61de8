"""Scratch worktrees: where `fleet update` prepares an update, away from the team's checkout.

An update is rendered, tested and committed in a detached `git worktree` under a run
directory of its own (copier's temporary folders go there too); only the finished commit
becomes the update branch. A run killed at any instant therefore leaves the team's branch,
HEAD and working tree as they were, plus at most a locked worktree whose lock names a dead
process: the next run removes it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._vcs import git

PREFIX = "goldpath-update-"
_LOCK = "goldpath pid "


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worktrees(repo: Path) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = []
    for block in git(repo, "worktree", "list", "--porcelain").split("\n\n"):
        entry: dict[str, str] = {}
        for line in block.splitlines():
            key, _, value = line.partition(" ")
            entry[key] = value
        if entry:
            entries.append(entry)
    return entries


def remove_stale(repo: Path) -> list[str]:
    """Remove goldpath worktrees whose run is over (its process is gone); return them."""
    removed = []
    for entry in _worktrees(repo):
        path = Path(entry.get("worktree", ""))
        if not path.parent.name.startswith(PREFIX):
            continue
        reason = entry.get("locked", "")
        pid = reason[len(_LOCK) :] if reason.startswith(_LOCK) else ""
        if pid.isdigit() and _alive(int(pid)):
            continue
        git(repo, "worktree", "remove", "--force", "--force", str(path), check=False)
        shutil.rmtree(path.parent, ignore_errors=True)
        removed.append(str(path))
    git(repo, "worktree", "prune", check=False)
    return removed


@contextmanager
def scratch_worktree(repo: Path, base: str) -> Iterator[Path]:
    """A detached worktree of `repo` at `base`, locked by this process, removed on exit.
    Temporary files made meanwhile (copier's clones) go inside the same run directory."""
    run_dir = Path(tempfile.mkdtemp(prefix=PREFIX))
    worktree = run_dir / "worktree"
    scratch_tmp = run_dir / "tmp"
    scratch_tmp.mkdir()
    previous_tmp = tempfile.tempdir
    try:
        git(
            repo, "worktree", "add", "--quiet", "--detach", "--lock",
            "--reason", f"{_LOCK}{os.getpid()}", "--", str(worktree), base,
        )  # fmt: skip
        tempfile.tempdir = str(scratch_tmp)
        yield worktree
    finally:
        tempfile.tempdir = previous_tmp
        git(repo, "worktree", "remove", "--force", "--force", str(worktree), check=False)
        git(repo, "worktree", "prune", check=False)
        shutil.rmtree(run_dir, ignore_errors=True)
