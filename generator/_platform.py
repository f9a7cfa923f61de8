"""The platform's template: the only template a fleet ever renders.

A project's `.copier-answers.yml` is the team's file. Its `_src_path` says which template
the project *claims* to come from; it is never rendered, fetched or contacted. The fleet
renders the template the platform team names (`template:` in the fleet file, or
`--template`), and a repository whose `_src_path` names anything else is reported as
`foreign-template` and left untouched. Mirrors and old spellings of the platform's URL are
declared by the platform team (`template_aliases:`), never inferred from a repository.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ._errors import GoldpathError
from ._vcs import _SCP_LIKE, check_source, is_remote


def identity(source: str, base: Path | None = None) -> str:
    """What a template source points at, spelling aside: `host/path` for a URL (scheme,
    user, port, `.git` and case dropped: https and ssh name the same repository), the
    resolved folder for a path or file:// URL (relative to `base`)."""
    source = check_source(source, "template")
    if _SCP_LIKE.match(source):
        user_host, _, path = source.partition(":")
        source = f"ssh://{user_host}/{path}"
    if is_remote(source):
        try:
            parts = urlsplit(source)
            host = parts.hostname or ""
        except ValueError as exc:  # an unclosed IPv6 bracket, say: not an address at all
            raise GoldpathError(f"template: {source!r} is not a URL ({exc})") from None
        if parts.scheme.lower() != "file":
            path = re.sub(r"(\.git)?/*$", "", parts.path.strip("/"))
            return f"{host.lower()}/{path.lower()}"
        source = parts.path
    try:
        folder = Path(source).expanduser()
    except RuntimeError:  # `~name` of no user on this machine: a folder named so, no home
        folder = Path(source)
    if not folder.is_absolute() and base is not None:
        folder = base / folder
    return str(folder.resolve())


@dataclass(frozen=True)
class PlatformTemplate:
    """The template a fleet is updated to, and every spelling that names it."""

    source: str  # what copier renders: the platform team's path or URL
    names: frozenset[str]

    @classmethod
    def of(
        cls, source: str, aliases: Iterable[str] = (), *, base: Path | None = None
    ) -> PlatformTemplate:
        checked = check_source(source, "template")
        local = not is_remote(checked)
        if local and base is not None and not Path(checked).is_absolute():
            checked = os.path.normpath(base / checked)
        names = {identity(checked)} | {identity(a, base) for a in aliases}
        return cls(checked, frozenset(names))

    def owns(self, src_path: str, project: Path) -> bool:
        """Whether a project's `_src_path` names this template (relative paths are read
        from the project's folder, as copier recorded them)."""
        try:
            return identity(src_path, project) in self.names
        except GoldpathError:
            return False


def no_template() -> GoldpathError:
    return GoldpathError(
        "name the platform's template: `template:` in the fleet file or --template "
        "(a fleet only ever renders that template, never one a repository names)"
    )
