"""The copier projects a repository holds: one at its root, or several (a monorepo), each
with its own answers file (`.copier-answers.yml`, or `.copier-answers.<name>.yml` beside
others), found among the repository's tracked files and read as data: regular files inside
the repository, bounded, their `_src_path` and `_commit` checked before git sees them."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ._errors import GoldpathError
from ._repofile import read_inside
from ._vcs import check_ref, check_source, git
from ._yaml import decode, loads

ANSWERS = ".copier-answers.yml"
MAX_PROJECTS = 50
_ANSWERS_NAME = re.compile(r"^\.copier-answers(\.[A-Za-z0-9_-]+)?\.ya?ml$")


@dataclass(frozen=True)
class Project:
    folder: str  # "." for the repository's root
    answers_file: str  # its name, inside `folder`
    answers: dict[str, Any]

    @property
    def answers_path(self) -> str:
        return self.answers_file if self.folder == "." else f"{self.folder}/{self.answers_file}"

    @property
    def release(self) -> str:
        return str(self.answers["_commit"])


def read_answers(path: Path, name: str = ANSWERS) -> dict[str, Any]:
    """`name`'s answers (a regular file inside the repo, bounded), with the two values
    that reach git checked as data."""
    if not (path / ".git").exists():
        raise GoldpathError(f"{path}: not a git repository")
    try:
        data = read_inside(path, name)
    except FileNotFoundError:
        raise GoldpathError(f"{path}: not a copier project (no {name})") from None
    except GoldpathError as exc:
        raise GoldpathError(f"{path}: {exc}") from None
    answers = loads(decode(data, f"{path}: {name}"), f"{path}: {name}")
    if not isinstance(answers, dict):
        raise GoldpathError(f"{path}: {name} is not a mapping of answers; fix it")
    if "_src_path" not in answers or "_commit" not in answers:
        raise GoldpathError(f"{path}: {name} lacks _src_path/_commit; was it made by copier?")
    answers["_src_path"] = check_source(answers["_src_path"], f"{path}: {name} _src_path")
    answers["_commit"] = check_ref(answers["_commit"], f"{path}: {name} _commit")
    return dict(answers)


def answers_files(path: Path, folders: Sequence[str] = ()) -> list[str]:
    """The tracked answers files, root first (in `folders` only, when given)."""
    out = git(path, "ls-files", "-z", "--", ":(glob)**/.copier-answers*.y*ml")
    listed = [name for name in out.split("\0") if _ANSWERS_NAME.match(PurePosixPath(name).name)]
    if os.path.lexists(path / ANSWERS) and ANSWERS not in listed:
        # Read even untracked, as before monorepos: whatever is there is refused if it is
        # not a regular file inside the repository.
        listed.append(ANSWERS)
    if folders:
        wanted = set(folders)
        listed = [n for n in listed if str(PurePosixPath(n).parent) in wanted]
    listed.sort(key=lambda n: (n.count("/"), n))
    if len(listed) > MAX_PROJECTS:
        raise GoldpathError(f"{path}: more than {MAX_PROJECTS} answers files; name the "
                            "projects to update in the fleet entry's `projects:`")  # fmt: skip
    return listed


def projects_of(path: Path, folders: Sequence[str] = ()) -> list[Project]:
    names = answers_files(path, folders)
    if not names:
        where = f" in {', '.join(folders)}" if folders else ""
        raise GoldpathError(f"{path}: not a copier project (no {ANSWERS}{where})")
    projects = []
    for name in names:
        parent = str(PurePosixPath(name).parent)
        answers = read_answers(path, name)
        projects.append(Project(parent, PurePosixPath(name).name, answers))
    return projects
