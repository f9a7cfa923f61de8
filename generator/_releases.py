"""The platform template's releases, read from its history: the notes between two tags,
each tag's commit, and whether a release reaches anything copier renders.

A release that changed only what projects pin by version (goldpath-runtime,
goldpath-infra, the reusable pipeline stages: all referenced by tag or commit) renders
every project exactly as before, but for those references. Such a release is applied as a
version bump (`_bump`), without rendering. What copier renders from: `copier.yml`, the
folder holding `_subdirectory`, and every file a template includes from elsewhere in the
repository; a change to any of them, or a migration for a version in between, means a
render.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path, PurePosixPath

import yaml
from packaging.version import InvalidVersion, Version

from ._errors import GoldpathError
from ._vcs import check_ref, clone, git, is_remote

MAX_NOTES = 200
_INCLUDED = re.compile(r"""\{%-?\s*(?:include|import|from)\s+['"]([^'"]+)['"]""")


@cache
def template_history(source: str) -> Path:
    """A local repository of the template to read from (a URL is cloned once a process)."""
    if not is_remote(source):
        return Path(source)
    scratch = Path(tempfile.mkdtemp(prefix="goldpath-template-"))
    atexit.register(shutil.rmtree, scratch, True)
    clone(source, scratch / "template")
    return scratch / "template"


def release_notes(source: str, old: str, new: str) -> list[str]:
    """The template's commit subjects after `old` up to `new`, newest first."""
    try:
        history = template_history(source)
        span = f"{check_ref(old, 'from')}..{check_ref(new, 'to')}"
        log = git(history, "log", "--no-merges", "--format=%s", f"-{MAX_NOTES}", span, "--")
    except GoldpathError:
        return []
    return [line for line in log.splitlines() if line.strip()]


def tag_commit(source: str, tag: str) -> str:
    return git(
        template_history(source), "rev-parse", "--verify", f"{check_ref(tag, 'tag')}^{{commit}}"
    )


def _version(tag: str) -> Version | None:
    try:
        return Version(tag.removeprefix("v"))
    except InvalidVersion:
        return None


@cache
def renders_between(source: str, old: str, new: str) -> bool:
    """Whether going from release `old` to `new` changes anything copier renders."""
    history = template_history(source)
    try:
        changed = git(history, "diff", "--name-only", "-z", f"{old}^{{commit}}",
                      f"{new}^{{commit}}", "--").split("\0")  # fmt: skip
        config = yaml.safe_load(git(history, "show", f"{new}:copier.yml"))
    except (GoldpathError, yaml.YAMLError):
        return True
    subdirectory = config.get("_subdirectory") if isinstance(config, dict) else None
    if not isinstance(subdirectory, str) or not subdirectory.strip("/"):
        return True  # the whole repository is the template
    inputs = {"copier.yml", "copier.yaml", PurePosixPath(subdirectory).parts[0] + "/"}
    templates = git(history, "grep", "-h", "-I", "-E", r"\{%-?\s*(include|import|from)\s",
                    new, "--", PurePosixPath(subdirectory).parts[0], check=False)  # fmt: skip
    inputs |= {match for match in _INCLUDED.findall(templates)}
    if any(name and any(name == i or name.startswith(i) for i in inputs) for name in changed):
        return True
    low, high = _version(old), _version(new)
    for migration in config.get("_migrations") or []:
        version = (
            _version(str(migration.get("version", ""))) if isinstance(migration, dict) else None
        )
        if version is None or low is None or high is None or low < version <= high:
            return True
    return False
