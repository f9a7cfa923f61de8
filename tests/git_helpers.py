"""git for tests: a fixed identity, so the tests never depend on the machine's config."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

IDENTITY = ["-c", "user.name=test", "-c", "user.email=test@example.com"]


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)


def snapshot(repo: Path) -> dict[str, str]:
    """Everything a team could lose: every file's bytes, HEAD, what is checked out, every
    ref (branches and tags) and what git sees as changed or ignored."""
    files = {
        str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    files["HEAD"] = git(repo, "rev-parse", "HEAD")
    files["checked-out"] = git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    files["status"] = git(repo, "status", "--porcelain", "--ignored")
    return files
