"""`goldpath fleet`: where each project repo stands against the template's releases, and
`copier update` rolled out to many repos, each on its own branch, with a report.

Safety rules: a repo with uncommitted changes is refused (nothing of the team's is
touched); the update happens on a new branch and is committed there, conflicts included,
so both sides survive for review; the team's checked-out branch is restored afterwards.
One repo's failure never stops the others.

Only the platform's template is rendered (`_platform`): a repository's answers file names
the release it is at, never what is rendered or which code runs. Each repo's `make test`
(the team's code) runs only when the operator asks for it (`run_tests`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from packaging.version import InvalidVersion, Version

from ._bump import apply_bump
from ._errors import GoldpathError
from ._fleet_pulls import open_pull_request
from ._forge import (
    DEFAULT_API,
    KINDS,
    ForgeRepo,
    Kind,
    check_api,
    check_slug,
    forge_repo_of,
    git_auth,
)
from ._lifetime import worker_pool
from ._lock import Relocked, relock
from ._platform import PlatformTemplate
from ._process import run_project_tests
from ._projects import ANSWERS, Project, projects_of
from ._releases import renders_between, tag_commit
from ._repofile import read_at, read_inside
from ._report import printable
from ._vcs import (
    check_ref,
    check_source,
    clone,
    commit_identity,
    git,
    git_config,
    hardened_copier,
    is_remote,
    remote_tags,
)
from ._worktree import remove_stale, scratch_worktree
from ._yaml import decode, loads, read_yaml

ATTENTION = {"conflicts", "tests-failed", "lock-failed", "pr-failed", "error", "interrupted",
             "foreign-template"}  # fmt: skip
# Written into each update commit, so a rerun reads the outcome instead of assuming it.
TRAILER = "Goldpath-Update-Status"
TRAILERS = {"status": TRAILER, "kind": "Goldpath-Update-Kind", "tests": "Goldpath-Update-Tests",
            "lock": "Goldpath-Update-Lock", "projects": "Goldpath-Update-Projects"}  # fmt: skip


def _version(tag: str) -> Version | None:
    """The release a tag or a `git describe` string (v1.2.0-3-gabc) belongs to."""
    match = re.match(r"^v?(\d+(?:\.\d+)*)", tag)
    if not match:
        return None
    try:
        return Version(match.group(1))
    except InvalidVersion:
        return None


@lru_cache(maxsize=8)
def template_tags(source: str) -> list[str]:
    """Release tags of the template repository, oldest first (read once per run)."""
    tags = remote_tags(check_source(source, "template"))
    releases = [t for t in tags if _version(t) is not None and re.match(r"^v?\d+(\.\d+)*$", t)]
    return sorted(releases, key=lambda t: _version(t) or Version("0"))


class ForeignTemplate(GoldpathError):
    """The repository's answers file names a template other than the platform's."""


@dataclass
class RepoStatus:
    repo: str
    state: str = "error"  # behind, current, unknown (not at a release), foreign-template, error
    template: str | None = None
    current: str | None = None
    latest: str | None = None
    behind: bool | None = None
    dirty: bool | None = None
    pending: str | None = None  # the update branch waiting for review, if any
    error: str | None = None
    projects: list[str] = field(default_factory=list)  # folders; ["."] for a single project


@contextmanager
def _local_copy(repo: str) -> Iterator[Path]:
    """A local path as is, or a temporary clone of a git URL."""
    check_source(repo, "repo")
    path = Path(repo)
    if path.exists():
        yield path
        return
    if not is_remote(repo):
        raise GoldpathError(f"{repo}: no such path, and not a git URL")
    workdir = Path(tempfile.mkdtemp(prefix="goldpath-fleet-"))
    try:
        clone(repo, workdir / "repo")
        yield workdir / "repo"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _platform_projects(
    path: Path, repo: str, platform: PlatformTemplate, folders: Sequence[str] = ()
) -> list[Project]:
    """The repository's projects made from the platform's template. One that names another
    template is refused when it is the only one or was asked for by name; in a monorepo,
    projects of other templates are someone else's and left alone."""
    found = projects_of(path, folders)
    ours = [p for p in found if platform.owns(p.answers["_src_path"], path / p.folder)]
    foreign = [p for p in found if p not in ours]
    if foreign and (not ours or folders):
        project = foreign[0]
        raise ForeignTemplate(
            f"{repo}: its {project.answers_path} names the template "
            f"{project.answers['_src_path']!r}, not the platform's ({platform.source}); left "
            "untouched (a mirror of the platform's template is declared in the fleet file's "
            "template_aliases)"
        )
    return ours


def _status_of(
    path: Path, repo: str, platform: PlatformTemplate, folders: Sequence[str] = (),
    projects: Sequence[Project] | None = None,
) -> RepoStatus:  # fmt: skip
    if projects is None:
        projects = _platform_projects(path, repo, platform, folders)
    tags = template_tags(platform.source)
    releases = [p.release for p in projects]
    # A monorepo stands where its oldest project does.
    known = all(r in tags for r in releases)
    current = min(releases, key=tags.index) if known else next(
        (r for r in releases if r not in tags), releases[0])  # fmt: skip
    latest = tags[-1] if tags else None
    if latest is None or current not in tags:
        # A commit between releases (a hash, a `git describe`) is no release to compare.
        behind, state = None, "unknown"
    else:
        behind = tags.index(current) < tags.index(latest)
        state = "behind" if behind else "current"
    dirty = bool(git(path, "status", "--porcelain"))
    pending = f"goldpath/update-{latest}" if behind and latest else None
    if pending and not git(path, "branch", "--list", "--", pending):
        pending = None
    return RepoStatus(repo, state, platform.source, current, latest, behind, dirty, pending,
                      projects=[p.folder for p in projects])  # fmt: skip


def repo_status(repo: str, platform: PlatformTemplate) -> RepoStatus:
    try:
        with _local_copy(repo) as path:
            return _status_of(path, repo, platform)
    except ForeignTemplate as exc:
        return RepoStatus(repo, "foreign-template", error=str(exc))
    except GoldpathError as exc:
        return RepoStatus(repo, error=str(exc))


@dataclass
class UpdateResult:
    repo: str
    status: str  # updated, conflicts, tests-failed, lock-failed, current, error, ...
    from_version: str | None = None
    to_version: str | None = None
    branch: str | None = None
    files: list[str] = field(default_factory=list)
    detail: str = ""
    kind: str = "render"  # render (copier update) or bump (versions and lock file only)
    tests: str = "not run"  # passed, failed, not run
    lock: str = ""  # what happened to uv.lock
    projects: list[str] = field(default_factory=lambda: ["."])
    # What the branch holds, whichever run made it: clean, conflicts, tests-failed, lock-failed.
    outcome: str = ""
    output: str = ""  # the failing tests' (or uv lock's) last lines, as the branch records them
    pull_request: str | None = None  # its URL
    pull_request_action: str | None = None  # opened, updated, unchanged, declined


def _conflicted_files(path: Path, conflict: str) -> list[str]:
    changed = git(path, "status", "--porcelain", "--untracked-files=all").splitlines()
    files = [line[3:].strip() for line in changed]
    if conflict == "rej":
        return sorted(f for f in files if f.endswith(".rej"))
    marked = []
    for name in files:
        candidate = path / name
        if candidate.is_file() and not candidate.is_symlink():
            try:
                text = candidate.read_text()
            except UnicodeDecodeError:
                continue
            if re.search(r"^<<<<<<< ", text, re.MULTILINE) and re.search(
                r"^>>>>>>> ", text, re.MULTILINE
            ):
                marked.append(name)
    return sorted(marked)


def _keep_edited_removals(
    path: Path, base: str, project: Project, platform: PlatformTemplate
) -> list[str]:
    """Files the new release no longer has, which the team had edited: copier deletes them
    all, edits included, without a conflict. They are put back as the team left them and
    reported, so an edit never disappears inside an update; files as the old release
    rendered them stay deleted."""
    scope = [] if project.folder == "." else [project.folder]
    listed = git(path, "diff", "--name-only", "--diff-filter=D", "-z", base, "--", *scope)
    removed = [name for name in listed.split("\0") if name]
    if not removed:
        return []
    from copier import Worker

    answers = project.answers
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    with tempfile.TemporaryDirectory(prefix="goldpath-old-") as scratch:
        old = Path(scratch) / "project"
        with (
            hardened_copier(),
            Worker(
                src_path=platform.source, dst_path=old, vcs_ref=str(answers["_commit"]),
                data=data, defaults=True, quiet=True, skip_tasks=True, unsafe=True,
            ) as worker,
        ):  # fmt: skip
            worker.run_copy()
        kept = []
        for name in removed:
            inside = name if project.folder == "." else name[len(project.folder) + 1 :]
            pristine = old / inside
            try:
                ours = read_at(path, base, name)
            except GoldpathError:  # a symlink or a submodule: not an edit to keep
                continue
            if ours is None or (pristine.is_file() and pristine.read_bytes() == ours):
                continue
            git(path, "checkout", base, "--", name)
            kept.append(name)
    return sorted(kept)


def _run_tests(path: Path) -> tuple[bool, str]:
    makefile = path / "Makefile"
    if makefile.is_symlink() or not makefile.is_file():
        return True, "no make test target"
    if not re.search(r"^test:", makefile.read_text(errors="replace"), re.MULTILINE):
        return True, "no make test target"
    return run_project_tests(path, untrusted=True)


def _commit_message(result: UpdateResult) -> str:
    values = {"status": result.status, "kind": result.kind, "tests": result.tests,
              "lock": result.lock, "projects": " ".join(result.projects)}  # fmt: skip
    trailers = "\n".join(f"{TRAILERS[key]}: {printable(value)}" for key, value in values.items())
    return (
        f"Update goldpath template {result.from_version} -> {result.to_version}\n\n"
        f"{result.detail}\n\n{trailers}"
    )


def _recorded(repo: Path, rev: str) -> tuple[dict[str, str], str]:
    """The trailers and the detail goldpath recorded in its update commit at `rev`."""
    message = git(repo, "log", "-1", "--format=%B", rev, "--")
    paragraphs = message.split("\n\n")
    # Only the last paragraph: the detail above it holds test output, which could spell one.
    found = {}
    for key, name in TRAILERS.items():
        match = re.search(rf"^{name}: (.*)$", paragraphs[-1], re.MULTILINE)
        if match:
            found[key] = match.group(1)
    detail = "\n\n".join(paragraphs[1:-1]) if len(paragraphs) > 2 else ""
    return found, detail


def _marked_files(repo: Path, rev: str, conflict: str) -> list[str]:
    names = git(repo, "ls-tree", "-r", "--name-only", rev, "--").splitlines()
    if conflict == "rej":
        return sorted(n for n in names if n.endswith(".rej"))

    def grep(pattern: str) -> set[str]:
        out = git(repo, "grep", "-l", "-I", "-E", pattern, rev, "--", check=False)
        return {line.split(":", 1)[1] for line in out.splitlines() if ":" in line}

    return sorted(grep("^<<<<<<< ") & grep("^>>>>>>> "))


def _release_at(repo: Path, ref: str, name: str) -> str | None:
    try:
        data = read_at(repo, ref, name)
        answers = loads(decode(data, name), name) if data else None
    except GoldpathError:
        return None
    return str(answers.get("_commit")) if isinstance(answers, dict) else None


def _existing_update(
    repo: Path, branch: str, target: str, conflict: str, result: UpdateResult,
    projects: Sequence[Project],
) -> bool:  # fmt: skip
    """Whether `branch` holds a complete update to `target` of every project (not when an
    earlier run died or failed half-way); if so, `result` is filled with its state, read
    from the branch rather than assumed."""
    if not git(repo, "branch", "--list", "--", branch):
        return False
    ref = f"refs/heads/{branch}"
    if any(_release_at(repo, ref, p.answers_path) != target for p in projects):
        return False
    recorded, detail = _recorded(repo, ref)
    result.kind = recorded.get("kind", "render")
    result.tests = recorded.get("tests", "not run")
    result.lock = recorded.get("lock", "")
    result.projects = recorded.get("projects", ".").split() or ["."]
    result.files = _marked_files(repo, ref, conflict)
    if result.files:
        result.status, result.outcome = "conflicts", "conflicts"
        result.detail = f"update on {branch} still has conflicts: resolve " + (
            ", ".join(result.files)
        )
    elif recorded.get("status") in ("tests-failed", "lock-failed"):
        result.status = result.outcome = recorded["status"]
        result.output = detail
        result.detail = detail or f"update on {branch}: {result.status}; fix it on the branch"
    else:
        result.status, result.outcome = "current", "clean"
        result.detail = f"update already on branch {branch}"
    return True


def _checked_out_in(repo: Path, branch: str) -> str | None:
    for block in git(repo, "worktree", "list", "--porcelain").split("\n\n"):
        if f"branch refs/heads/{branch}" in block.splitlines():
            return block.splitlines()[0].removeprefix("worktree ")
    return None


def _push(repo: Path, branch: str) -> str:
    """Push the branch unless origin already has this very commit."""
    local = git(repo, "rev-parse", "--verify", f"refs/heads/{branch}")
    remote = git(repo, "ls-remote", "--heads", "--", "origin", f"refs/heads/{branch}")
    if remote.split("\t", 1)[0] == local:
        return "already pushed"
    git(repo, "push", "--quiet", "--", "origin", f"refs/heads/{branch}:refs/heads/{branch}")
    return "pushed"


def update_repo(
    repo: str | FleetEntry,
    *,
    platform: PlatformTemplate,
    to: str | None = None,
    branch: str | None = None,
    conflict: str = "inline",
    run_tests: bool = False,
    push: bool = False,
    open_pr: bool = False,
) -> UpdateResult:
    entry = repo if isinstance(repo, FleetEntry) else FleetEntry(repo)
    repo = entry.repo
    options: dict[str, Any] = {"platform": platform, "to": to, "branch": branch,
                               "conflict": conflict, "run_tests": run_tests,
                               "forge": entry.forge if open_pr else None,
                               "folders": entry.projects}  # fmt: skip
    try:
        if open_pr and entry.forge is None:
            raise GoldpathError(
                f"{repo}: --open-pr needs the repository on its forge: give its fleet entry "
                "`forge_repo: OWNER/NAME` (or list it by its github.com / dev.azure.com URL)"
            )
        check_source(repo, "repo")
        if is_remote(repo) and not Path(repo).exists():
            # A remote repo is cloned into a scratch folder; the branch only survives pushed.
            auth = git_auth(repo, entry.forge) if open_pr and entry.forge else []
            with git_config(auth), _local_copy(repo) as clone_path:
                return _update_checkout(clone_path, repo, push=True, from_origin=True, **options)
        path = Path(repo)
        if not path.exists():
            raise GoldpathError(f"{repo}: no such path, and not a git URL")
        return _update_checkout(path, repo, push=push or open_pr, **options)
    except ForeignTemplate as exc:
        return UpdateResult(repo, "foreign-template", detail=str(exc))
    except GoldpathError as exc:
        return UpdateResult(repo, "error", detail=str(exc))
    except Exception as exc:  # one repo's surprise must not stop the fleet
        return UpdateResult(repo, "error", detail=f"{type(exc).__name__}: {exc}")


def _update_checkout(
    path: Path,
    repo: str,
    *,
    platform: PlatformTemplate,
    to: str | None,
    branch: str | None,
    conflict: str,
    run_tests: bool,
    push: bool,
    forge: ForgeRepo | None,
    folders: Sequence[str] = (),
    from_origin: bool = False,
) -> UpdateResult:
    if to is not None:
        check_ref(to, "--to")
    if branch is not None:
        check_ref(branch, "--branch")
    projects = _platform_projects(path, repo, platform, folders)
    status = _status_of(path, repo, platform, folders, projects)
    if status.dirty:
        raise GoldpathError(f"{repo}: has uncommitted changes; commit or stash them first")
    tags = template_tags(platform.source)
    target = to or status.latest
    if target is None:
        raise GoldpathError(f"{repo}: the template {platform.source} has no release tags")
    if target not in tags:
        raise GoldpathError(
            f"{repo}: tag {target!r} does not exist in {platform.source} "
            f"(releases: {', '.join(tags) or 'none'})"
        )
    result = UpdateResult(repo, "current", status.current, target,
                          projects=[p.folder for p in projects])  # fmt: skip
    if all(p.release == target for p in projects):
        result.detail = "already at this release"
        return result
    branch_name = check_ref(branch or f"goldpath/update-{target}", "--branch")
    result.branch = branch_name
    if from_origin:
        # A fresh clone: the update branch of an earlier run lives on origin only.
        pushed = git(path, "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch_name}",
                     check=False)  # fmt: skip
        if pushed:
            git(path, "update-ref", f"refs/heads/{branch_name}", pushed)
    remove_stale(path)
    if not _existing_update(path, branch_name, target, conflict, result, projects):
        if git(path, "branch", "--list", "--", branch_name):
            # Whatever it holds is someone's work: moving it would drop its commits.
            raise GoldpathError(
                f"{repo}: branch {branch_name} exists and does not hold goldpath's update to "
                f"{target}; left as it is: rename or delete it, or pass another --branch"
            )
        base = git(path, "rev-parse", "--verify", "HEAD^{commit}")
        with scratch_worktree(path, base) as work:
            result = _apply_update(work, result, target, conflict, run_tests, platform,
                                   projects)  # fmt: skip
            result.outcome = "clean" if result.status == "updated" else result.status
            git(work, *commit_identity(path), "commit", "--quiet", "--no-verify",
                "--allow-empty", "-m", _commit_message(result))  # fmt: skip
            commit = git(work, "rev-parse", "HEAD")
        # The branch appears only now, pointing at a complete, committed update; the
        # empty old value makes git refuse if another run created it meanwhile.
        git(path, "update-ref", f"refs/heads/{branch_name}", commit, "")
    if push:
        result.detail += f"; {_push(path, branch_name)}"
    if forge is not None:
        try:
            open_pull_request(path, result, forge, platform.source)
        except GoldpathError as exc:
            result.status, result.pull_request_action = "pr-failed", "failed"
            result.detail = f"{exc}; the branch is pushed: a rerun opens its pull request"
    return result


def _set_src_path(answers_file: Path, source: str) -> None:
    """Point the answers file's `_src_path` at `source`, every other byte unchanged."""
    line = yaml.safe_dump({"_src_path": source}, width=10_000).rstrip("\n")
    text = answers_file.read_text(encoding="utf-8")
    replaced, count = re.subn(r"^_src_path:.*$", lambda _: line, text, count=1, flags=re.M)
    if count != 1:
        raise GoldpathError(f"{ANSWERS}: no `_src_path:` line to point at the platform's template")
    answers_file.write_text(replaced, encoding="utf-8")


def _apply_update(
    path: Path,
    result: UpdateResult,
    target: str,
    conflict: str,
    run_tests: bool,
    platform: PlatformTemplate,
    projects: Sequence[Project],
) -> UpdateResult:
    """Run copier in the scratch worktree `path`, project by project, and stage exactly
    its changes, so files the test run makes (lock file, caches) are never part of the
    update.

    copier renders a project's old release and the new one from its answers file's
    `_src_path`; that is pointed at the platform's template first, and given back its own
    spelling afterwards: what the repository named is never rendered. Each project's
    update is committed before the next (copier wants a clean tree); the commits are
    folded into one update commit below."""
    base = git(path, "rev-parse", "HEAD")
    originals: dict[str, Any] = {}
    kinds = set()
    for project in projects:
        if project.release == target:
            continue
        if not renders_between(platform.source, project.release, target):
            # Nothing copier renders changed: the references move, nothing is rendered.
            apply_bump(path, project, target, tag_commit(platform.source, project.release),
                       tag_commit(platform.source, target))  # fmt: skip
            kinds.add("bump")
            continue
        kinds.add("render")
        name = project.answers_path
        originals[name] = loads(decode(read_inside(path, name), name), name)["_src_path"]
        _set_src_path(path / name, platform.source)
        git(path, *commit_identity(path), "commit", "--quiet", "--no-verify", "--allow-empty",
            "-am", "source")  # fmt: skip
        _copier_update(path / project.folder, project.answers_file, target, conflict, platform)
        git(path, "add", "-A")
        git(path, *commit_identity(path), "commit", "--quiet", "--no-verify", "--allow-empty",
            "-m", f"update {project.folder}")  # fmt: skip
    result.kind = "bump" if kinds == {"bump"} else "render"
    # HEAD back to the team's commit, the files as copier left them (a soft reset
    # refuses while conflicted paths are unmerged).
    git(path, "update-ref", "--no-deref", "HEAD", base)
    for name, original in originals.items():
        if (path / name).is_file():
            _set_src_path(path / name, str(original))
    conflicts = _conflicted_files(path, conflict)
    for project in projects:
        conflicts += _keep_edited_removals(path, base, project, platform)
    relocks = [relock(path, base, project.folder) for project in projects]
    relocked = Relocked("; ".join(r.note for r in relocks if r.note),
                        any(r.failed for r in relocks),
                        "\n".join(r.output for r in relocks if r.output))  # fmt: skip
    result.lock = relocked.note
    git(path, "add", "-A")
    conflicts = sorted(set(conflicts))
    if conflicts:
        result.status = "conflicts"
        result.files = conflicts
        result.detail = "both sides kept: resolve " + ", ".join(conflicts)
        return result
    if relocked.failed:
        result.status = "lock-failed"
        result.detail = result.output = relocked.output
        return result
    if run_tests:
        runs = [_run_tests(path / project.folder) for project in projects]
        passed = all(ok for ok, _ in runs)
        tail = "\n".join(out for ok, out in runs if not ok)
        result.tests = "passed" if passed else "failed"
        if not passed:
            result.status = "tests-failed"
            result.detail = result.output = tail
            return result
    result.status = "updated"
    result.detail = "template changes applied" + (", tests pass" if run_tests else "")
    return result


def _copier_update(
    folder: Path, answers_file: str, target: str, conflict: str, platform: PlatformTemplate
) -> None:
    from copier import Worker

    with (
        hardened_copier(),
        Worker(
            src_path=platform.source,
            dst_path=folder,
            answers_file=Path(answers_file),
            vcs_ref=target,
            defaults=True,
            overwrite=True,
            skip_answered=True,
            conflict=cast(Literal["inline", "rej"], conflict),
            # The platform's own _migrations and _tasks, at the two releases: never a
            # repository's (src_path and the answers file both name the platform's).
            unsafe=True,
            quiet=True,
        ) as worker,
    ):
        worker.run_update()


def update_fleet(
    repos: Sequence[str | FleetEntry],
    *,
    jobs: int = 1,
    progress: Callable[[int, int, UpdateResult], None] | None = None,
    **options: Any,
) -> list[UpdateResult]:
    """Update each repo in a worker process (copier changes the working directory, and a
    worker's process group can be killed whole): the workers, copier's tasks and test runs
    all die with this process. On SIGINT (or SIGTERM, which the CLI turns into it) the
    workers are stopped and the repos not finished are reported as `interrupted`; their
    checkouts are untouched and a rerun finishes them."""
    results: dict[str, UpdateResult] = {}
    entries = [r if isinstance(r, FleetEntry) else FleetEntry(r) for r in repos]
    pool = worker_pool(jobs)
    try:
        futures = {pool.submit(update_repo, entry, **options): entry.repo for entry in entries}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done, len(futures), results[futures[future]])
    except KeyboardInterrupt:
        # Each worker leads its own process group: stop the workers and all they started.
        for process in list(getattr(pool, "_processes", {}).values()):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        pool.shutdown(wait=False, cancel_futures=True)
        for entry in entries:
            results.setdefault(
                entry.repo,
                UpdateResult(entry.repo, "interrupted", detail="stopped before it finished"),
            )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[entry.repo] for entry in entries]


def repo_key(repo: str) -> str:
    return repo.rstrip("/") if is_remote(repo) else str(Path(repo).resolve())


def unique_repos(repos: Sequence[str]) -> list[str]:
    """The same repo named twice (another relative path, a trailing slash) is updated
    once: two concurrent updates of one repo would race for its branch."""
    seen: set[str] = set()
    unique = []
    for repo in repos:
        key = repo_key(repo)
        if key not in seen:
            seen.add(key)
            unique.append(repo)
    return unique


@dataclass(frozen=True)
class FleetEntry:
    """One repository of the fleet: where to clone or find it, the repository on its
    forge (for pull requests), and which of its projects to update (all, by default)."""

    repo: str
    forge: ForgeRepo | None = None
    projects: tuple[str, ...] = ()


@dataclass(frozen=True)
class FleetFile:
    repos: list[str]
    template: PlatformTemplate | None  # `template:` (and `template_aliases:`), when given
    entries: tuple[FleetEntry, ...] = ()


def _forge_defaults(document: Any, where: str) -> tuple[Kind | None, str | None]:
    forge = document.get("forge") if isinstance(document, dict) else None
    if forge is None:
        return None, None
    if not isinstance(forge, dict) or forge.get("kind") not in KINDS:
        raise GoldpathError(f"{where}: forge: give `kind:` ({' or '.join(KINDS)}) and `api:`")
    kind = cast(Kind, forge["kind"])
    api = forge.get("api")
    return kind, None if api is None else check_api(api, f"{where}: forge.api")


def _entry(item: Any, index: int, base: Path, where: str, kind: Kind | None,
           api: str | None) -> FleetEntry:  # fmt: skip
    at = f"{where}: repos[{index}]"
    fields = item if isinstance(item, dict) else {"repo": item}
    unknown = set(fields) - {"repo", "forge_repo", "subdirectory", "projects"}
    if unknown or not isinstance(fields.get("repo"), str):
        extra = f" (not {', '.join(sorted(map(str, unknown)))})" if unknown else ""
        raise GoldpathError(
            f"{at}: expected a path or URL, or `repo:` with `forge_repo:`, `subdirectory:` "
            f"or `projects:`{extra}"
        )
    repo = check_source(fields["repo"], at)
    listed = repo if is_remote(repo) else os.path.normpath(base / repo)
    forge = forge_repo_of(repo, kind, api, at) if is_remote(repo) else None
    if fields.get("forge_repo") is not None:
        chosen = kind or (forge.kind if forge else None)
        if chosen is None:
            raise GoldpathError(f"{at}: forge_repo needs the fleet file's `forge: {{kind: ...}}`")
        slug = check_slug(chosen, fields["forge_repo"], f"{at}.forge_repo")
        forge = ForgeRepo(chosen, api or (forge.api if forge else DEFAULT_API[chosen]), slug)
    projects = fields.get("projects", [fields["subdirectory"]] if "subdirectory" in fields else [])
    if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
        raise GoldpathError(f"{at}: projects must be a list of subdirectories")
    return FleetEntry(listed, forge, tuple(_subdirectory(p, f"{at}.projects") for p in projects))


def _subdirectory(value: str, where: str) -> str:
    """A folder inside the repository, written as git names it (no `..`, not absolute)."""
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    if value.startswith("/") or ".." in parts or any(ord(c) < 32 for c in value):
        raise GoldpathError(f"{where}: {value!r} is not a folder inside the repository")
    return "/".join(parts) or "."


def read_fleet_file(path: Path) -> FleetFile:
    """`repos:` (paths or git URLs) and the platform's `template:` with its
    `template_aliases:`; relative paths are read from the fleet file's folder."""
    if not path.is_file():
        raise GoldpathError(f"fleet file {path} does not exist")
    document = read_yaml(path, f"fleet file {path}")
    repos = document.get("repos") if isinstance(document, dict) else document
    if not isinstance(repos, list):
        raise GoldpathError(f"fleet file {path}: expected `repos:` with a list of paths or URLs")
    base = path.parent
    kind, api = _forge_defaults(document, f"fleet file {path}")
    # As the operator reads them: ../fleet/../projects/x is ../projects/x.
    entries = _merged([_entry(r, i, base, f"fleet file {path}", kind, api)
                       for i, r in enumerate(repos)])  # fmt: skip
    listed = [entry.repo for entry in entries]
    template = document.get("template") if isinstance(document, dict) else None
    aliases = document.get("template_aliases", []) if isinstance(document, dict) else []
    if template is None:
        if aliases:
            raise GoldpathError(f"fleet file {path}: template_aliases without `template:`")
        return FleetFile(listed, None, entries)
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise GoldpathError(
            f"fleet file {path}: template_aliases must be a list of git URLs or paths"
        )
    where = f"fleet file {path}: template"
    checked_template = check_source(template, where)
    for index, alias in enumerate(aliases):
        check_source(alias, f"fleet file {path}: template_aliases[{index}]")
    return FleetFile(listed, PlatformTemplate.of(checked_template, aliases, base=base), entries)


def _merged(entries: list[FleetEntry]) -> tuple[FleetEntry, ...]:
    """One entry per repository: two naming the same one (two of its projects) are one
    branch and one pull request."""
    by_key: dict[str, FleetEntry] = {}
    for entry in entries:
        key = repo_key(entry.repo)
        if key in by_key:
            kept = by_key[key]
            projects = (kept.projects + entry.projects) if kept.projects and entry.projects else ()
            entry = FleetEntry(kept.repo, kept.forge or entry.forge, tuple(dict.fromkeys(projects)))
        by_key[key] = entry
    return tuple(by_key.values())


def to_json(items: Sequence[RepoStatus] | Sequence[UpdateResult]) -> str:
    return json.dumps([asdict(item) for item in items], indent=2)
