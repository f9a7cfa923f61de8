"""git for goldpath, hardened for text that other teams control.

`fleet` and `check` read template sources, refs and repo locations from project repos'
answers files, fleet files and flags. None of that text may reach a command line as an
option (`--upload-pack=...`) or pick one of git's command-running transports (`ext::`,
`fd::`): values are checked here first, every git call puts `--` before them, and git runs
with an allowlist of transports, copier's own git calls included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ._errors import GoldpathError
from ._process import execute

# The transports a template or project repo can live behind; `ext` and `fd` run commands.
ALLOWED_PROTOCOLS = "file:git:http:https:ssh"
_URL_SCHEMES = {"https", "http", "ssh", "git", "file"}
# copier's own shortcuts, as `copier copy gh:ORG/goldpath` records them in _src_path.
_SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]")
_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}$")


_EXTRA_CONFIG: list[tuple[str, str]] = []


@contextmanager
def git_config(pairs: list[tuple[str, str]]) -> Iterator[None]:
    """Extra `git -c` settings for the git calls inside the block, passed in the
    environment (never on a command line, never in a file): a forge's auth header."""
    start = len(_EXTRA_CONFIG)
    _EXTRA_CONFIG.extend(pairs)
    try:
        yield
    finally:
        del _EXTRA_CONFIG[start:]


def git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env["GIT_ALLOW_PROTOCOL"] = ALLOWED_PROTOCOLS
    # The operator's own GIT_CONFIG_* settings are kept; goldpath's come after and win.
    # A repo's own config must not run programs during a read such as `git status`.
    count = int(env["GIT_CONFIG_COUNT"]) if env.get("GIT_CONFIG_COUNT", "").isdigit() else 0
    for key, value in [*_EXTRA_CONFIG, ("core.fsmonitor", "false")]:
        env[f"GIT_CONFIG_KEY_{count}"], env[f"GIT_CONFIG_VALUE_{count}"] = key, value
        count += 1
    env["GIT_CONFIG_COUNT"] = str(count)
    env.pop("GIT_CONFIG_PARAMETERS", None)
    # A cloned repo's .lfsconfig would send git-lfs to a server the repo names.
    env["GIT_LFS_SKIP_SMUDGE"] = "1"
    return env


@contextmanager
def hardened_copier() -> Iterator[None]:
    """copier runs git through plumbum, whose environment is a copy taken at import time;
    the allowlist has to be set there too."""
    from plumbum import local

    with local.env(**{k: v for k, v in git_env().items() if k.startswith("GIT_")}):
        yield


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = execute(["git", *args], repo, env=git_env())
    if check and result.returncode != 0:
        raise GoldpathError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout.strip()


def _plain(value: object, where: str, kind: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GoldpathError(f"{where}: {kind} is empty or not text; give a {kind}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise GoldpathError(f"{where}: {kind} {value!r} contains control characters; refused")
    if value.startswith("-"):
        raise GoldpathError(
            f"{where}: {kind} {value!r} starts with '-' and would be read as an option; refused"
        )
    return value


def check_source(value: object, where: str) -> str:
    """A git URL or a local path, as text that is safe to hand to git and copier;
    copier's gh:/gl: shortcuts are expanded to the URLs they stand for."""
    source = _plain(value, where, "git URL or path")
    for prefix, url in _SHORTCUTS.items():
        if source.startswith(prefix):
            return check_source(url + source[len(prefix) :], where)
    helper = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)::", source)
    if helper or "::" in source:
        name = helper.group(1) if helper else "::"
        raise GoldpathError(
            f"{where}: {source!r} uses git's {name!r} transport, which runs commands; "
            "refused (use an https://, ssh:// or file:// URL or a path)"
        )
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", source)
    if scheme and scheme.group(1).lower() not in _URL_SCHEMES:
        raise GoldpathError(
            f"{where}: {source!r} uses the unknown URL scheme {scheme.group(1)!r}; "
            f"use one of {', '.join(sorted(_URL_SCHEMES))} or a path"
        )
    if not scheme and "@" in source.split("/", 1)[0] and not _SCP_LIKE.match(source):
        raise GoldpathError(f"{where}: {source!r} is not a git URL (e.g. git@host:org/repo.git)")
    return source


def is_remote(source: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source) or _SCP_LIKE.match(source))


def check_ref(value: object, where: str) -> str:
    """A tag, branch or commit name: letters, digits and `._/+-`, never an option."""
    ref = _plain(value, where, "git ref")
    if not _REF.match(ref) or ".." in ref or ref.endswith((".lock", "/", ".")):
        raise GoldpathError(
            f"{where}: {ref!r} is not a valid tag, branch or commit name (e.g. v1.4.0)"
        )
    return ref


def remote_tags(source: str) -> list[str]:
    """Tag names of a repository, without running anything the source names."""
    result = execute(["git", "ls-remote", "--tags", "--refs", "--", source], None, env=git_env())
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise GoldpathError(f"cannot read the template's tags from {source}: {reason}")
    return [line.split("refs/tags/", 1)[1] for line in result.stdout.splitlines() if line]


def clone(source: str, destination: Path) -> None:
    result = execute(
        ["git", "clone", "--quiet", "--", source, str(destination)], None, env=git_env()
    )
    if result.returncode != 0:
        raise GoldpathError(f"{source}: git clone failed: {result.stderr.strip()}")


def commit_identity(repo: Path) -> list[str]:
    """`-c` options for a commit: none when the user has a git identity (their name goes on
    the commit), goldpath's own only on a machine with no identity configured."""
    configured = [
        execute(["git", "config", "--get", key], repo, env=git_env()).returncode == 0
        for key in ("user.name", "user.email")
    ]
    if all(configured):
        return []
    return ["-c", "user.name=goldpath", "-c", "user.email=goldpath@localhost"]


def check_not_nested(destination: Path) -> None:
    """A new project's repository must not land, unignored, inside another work tree: git
    there sees a nested repository, and copier copying from that tree (this checkout, for
    `goldpath new` and the demo) fails on it as a submodule without a URL."""
    parent = destination.absolute().parent
    while not parent.exists():
        parent = parent.parent
    top = execute(["git", "rev-parse", "--show-toplevel"], parent, env=git_env())
    if top.returncode != 0:
        return  # not inside a work tree
    root = Path(top.stdout.strip()).resolve()
    target = destination.resolve()
    if not target.is_relative_to(root) or target == root:
        return
    relative = target.relative_to(root)
    ignored = execute(["git", "check-ignore", "-q", "--", f"{relative}/"], root, env=git_env())
    if ignored.returncode == 0:
        return
    raise GoldpathError(
        f"{destination} is inside the git repository {root}, which does not ignore it: the "
        f"project's own repository would nest there. Choose a folder outside it (e.g. "
        f"../{destination.name}) or add /{relative}/ to {root}/.gitignore"
    )
