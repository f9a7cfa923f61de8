"""A release that renders nothing new, applied as a version bump: every reference a
project holds to the platform's release (the answers file's `_commit`, goldpath-runtime's
and goldpath-infra's `rev`, the pipelines' `uses: ...@<commit> # goldpath <tag>` and
`ref: refs/tags/<tag>`) moves from the old release's tag and commit to the new one's, and
nothing else is touched. What a render would have written, without running copier.

The references are replaced only where a rendered project writes them: after `@`,
`refs/tags/`, `rev = "`, `# goldpath ` or at `_commit: `, and only as whole words; a team's
own mention of a version elsewhere stays as they wrote it.
"""

from __future__ import annotations

import re
from pathlib import Path

from ._errors import GoldpathError
from ._projects import Project
from ._repofile import read_inside
from ._vcs import git

_CONTEXT = r"""(@|refs/tags/|rev = ["']|# goldpath |^_commit: )"""
_END = r"(?![A-Za-z0-9._+-])"


def _references(
    old: str, new: str, old_commit: str, new_commit: str
) -> list[tuple[re.Pattern[str], str]]:
    pairs = [(old_commit, new_commit), (old, new)]  # the commit first: a tag may prefix it
    return [(re.compile(_CONTEXT + re.escape(a) + _END, re.MULTILINE), b) for a, b in pairs if a]


def apply_bump(
    worktree: Path, project: Project, new: str, old_commit: str, new_commit: str
) -> list[str]:
    """Move `project`'s references to the new release in `worktree`; the files changed."""
    replacements = _references(project.release, new, old_commit, new_commit)
    scope = [] if project.folder == "." else [project.folder]
    names = git(worktree, "ls-files", "-z", "--", *scope).split("\0")
    changed = []
    for name in filter(None, names):
        if name.endswith("uv.lock") or (worktree / name).is_symlink():
            continue  # the lock is re-resolved afterwards, from the bumped pyproject.toml
        try:
            text = read_inside(worktree, name).decode("utf-8")
        except (GoldpathError, OSError, UnicodeDecodeError):
            continue  # binary, too large, not a file: no reference a render writes
        bumped = text
        for pattern, value in replacements:
            # `value` is a checked tag or a commit: no backslash, nothing a template expands.
            bumped = pattern.sub(rf"\g<1>{value}", bumped)
        if bumped != text:
            (worktree / name).write_bytes(bumped.encode("utf-8"))
            changed.append(name)
    return changed
