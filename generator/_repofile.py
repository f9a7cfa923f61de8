"""Files goldpath reads from repositories other teams control: regular files inside the
repository only (a symlink that leads out, a FIFO or a device is refused), and bounded in
size; the same for a file as a branch of the repository holds it."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from ._errors import GoldpathError
from ._process import execute
from ._vcs import git_env
from ._yaml import MAX_BYTES


def read_inside(repo: Path, name: str) -> bytes:
    """`repo/name`'s bytes; FileNotFoundError when it does not exist, GoldpathError when
    it is not a regular file inside `repo` or is larger than MAX_BYTES."""
    root = repo.resolve()
    path = repo / name
    if not os.path.lexists(path):
        raise FileNotFoundError(path)
    target = path.resolve()
    if not target.is_relative_to(root):
        raise GoldpathError(f"{name} is a symlink out of the repository; refused")
    try:
        # O_NOFOLLOW on the resolved path: it cannot be swapped for a link meanwhile.
        descriptor = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise GoldpathError(f"{name}: cannot be read ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise GoldpathError(f"{name} is not a regular file; refused")
        data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise GoldpathError(f"{name}: larger than {MAX_BYTES // 1024} KiB; refused")
    return data


def read_template_file(repo: Path, name: str, since: str) -> bytes:
    """A file every project of the template has had since `since`: its absence is one
    line saying how to get it (copier update)."""
    try:
        return read_inside(repo, name)
    except FileNotFoundError:
        raise GoldpathError(f"no {name} (a project from before {since}: copier update)") from None


def read_at(repo: Path, ref: str, name: str) -> bytes | None:
    """`name` as `ref` holds it: None when it does not; GoldpathError when it is a
    symlink or a submodule there, or larger than MAX_BYTES. Nothing is checked out."""
    listed = execute(["git", "ls-tree", "-l", ref, "--", name], repo, env=git_env())
    if listed.returncode != 0 or not listed.stdout.strip():
        return None
    mode, kind, obj, size = listed.stdout.split(maxsplit=4)[:4]
    if kind != "blob" or mode not in ("100644", "100755"):
        raise GoldpathError(f"{name} on {ref} is not a regular file; refused")
    if int(size) > MAX_BYTES:
        raise GoldpathError(f"{name} on {ref}: larger than {MAX_BYTES // 1024} KiB; refused")
    shown = subprocess.run(
        ["git", "cat-file", "blob", obj], cwd=repo, env=git_env(), capture_output=True,
        check=False,
    )  # fmt: skip
    return shown.stdout if shown.returncode == 0 else None
