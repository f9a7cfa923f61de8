"""`goldpath fleet`: where each project repo stands against the template's releases, and
`copier update` rolled out to many repos, each on its own branch, with a report.

Safety rules: a repo with uncommitted changes is refused (nothing of the team's is
touched); the update happens on a new branch and is committed there, conflicts included,
so both sides survive for review; the team's checked-out branch is restored afterwards.
One repo's failure never stops the others.
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
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from packaging.version import InvalidVersion, Version

from ._errors import GoldpathError
from ._lifetime import worker_pool
from ._process import run_project_tests
from ._vcs import (
    check_ref,
    check_source,
    clone,
    commit_identity,
    git,
    hardened_copier,
    is_remote,
    remote_tags,
)
from ._worktree import remove_stale, scratch_worktree
from ._yaml import read_yaml

ANSWERS = ".copier-answers.yml"
ATTENTION = {"conflicts", "tests-failed", "error", "interrupted"}
# Written into each update commit, so a rerun reads the outcome instead of assuming it.
TRAILER = "Goldpath-Update-Status"


def _version(tag: str) -> Version | None:
    """The release a tag or a `git describe` string (v1.2.0-3-gabc) belongs to."""
    match = re.match(r"^v?(\d+(?:\.\d+)*)", tag)
    if not match:
        return None
    try:
        return Version(match.group(1))
    except InvalidVersion:
        return None


def template_tags(source: str) -> list[str]:
    """Release tags of the template repository, oldest first."""
    tags = remote_tags(check_source(source, "template"))
    releases = [t for t in tags if _version(t) is not None and re.match(r"^v?\d+(\.\d+)*$", t)]
    return sorted(releases, key=lambda t: _version(t) or Version("0"))


@dataclass
class RepoStatus:
    repo: str
    template: str | None = None
    current: str | None = None
    latest: str | None = None
    behind: bool | None = None
    dirty: bool | None = None
    pending: str | None = None  # the update branch waiting for review, if any
    error: str | None = None


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


def _read_answers(path: Path) -> dict[str, Any]:
    """The answers file, with the two values that reach git checked as data."""
    answers_file = path / ANSWERS
    if not (path / ".git").exists():
        raise GoldpathError(f"{path}: not a git repository")
    if not answers_file.is_file():
        raise GoldpathError(f"{path}: not a copier project (no {ANSWERS})")
    try:
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise GoldpathError(f"{path}: {ANSWERS} is not valid YAML ({reason}); fix it") from None
    if not isinstance(answers, dict):
        raise GoldpathError(f"{path}: {ANSWERS} is not a mapping of answers; fix it")
    if "_src_path" not in answers or "_commit" not in answers:
        raise GoldpathError(f"{path}: {ANSWERS} lacks _src_path/_commit; was it made by copier?")
    answers["_src_path"] = check_source(answers["_src_path"], f"{path}: {ANSWERS} _src_path")
    answers["_commit"] = check_ref(answers["_commit"], f"{path}: {ANSWERS} _commit")
    return dict(answers)


def _status_of(path: Path, repo: str, template: str | None) -> RepoStatus:
    answers = _read_answers(path)
    source = check_source(template, "--template") if template else str(answers["_src_path"])
    tags = template_tags(source)
    current = str(answers["_commit"])
    latest = tags[-1] if tags else None
    current_version = _version(current)
    latest_version = _version(latest) if latest else None
    if latest_version is None or current_version is None:
        behind = None
    else:
        behind = current_version < latest_version or (
            current_version == latest_version and current != latest
        )
    dirty = bool(git(path, "status", "--porcelain"))
    pending = f"goldpath/update-{latest}" if behind and latest else None
    if pending and not git(path, "branch", "--list", "--", pending):
        pending = None
    return RepoStatus(repo, source, current, latest, behind, dirty, pending)


def repo_status(repo: str, template: str | None = None) -> RepoStatus:
    try:
        with _local_copy(repo) as path:
            return _status_of(path, repo, template)
    except GoldpathError as exc:
        return RepoStatus(repo, error=str(exc))


@dataclass
class UpdateResult:
    repo: str
    status: str  # updated, conflicts, tests-failed, current, error
    from_version: str | None = None
    to_version: str | None = None
    branch: str | None = None
    files: list[str] = field(default_factory=list)
    detail: str = ""


def _conflicted_files(path: Path, conflict: str) -> list[str]:
    changed = git(path, "status", "--porcelain", "--untracked-files=all").splitlines()
    files = [line[3:].strip() for line in changed]
    if conflict == "rej":
        return sorted(f for f in files if f.endswith(".rej"))
    marked = []
    for name in files:
        candidate = path / name
        if candidate.is_file():
            try:
                text = candidate.read_text()
            except UnicodeDecodeError:
                continue
            if re.search(r"^<<<<<<< ", text, re.MULTILINE) and re.search(
                r"^>>>>>>> ", text, re.MULTILINE
            ):
                marked.append(name)
    return sorted(marked)


def _run_tests(path: Path) -> tuple[bool, str]:
    makefile = path / "Makefile"
    if not makefile.is_file() or not re.search(r"^test:", makefile.read_text(), re.MULTILINE):
        return True, "no make test target"
    return run_project_tests(path)


def _status_trailer(repo: Path, rev: str) -> str | None:
    """The outcome goldpath recorded in its update commit, if `rev` is that commit."""
    message = git(repo, "log", "-1", "--format=%B", rev, "--")
    match = re.search(rf"^{TRAILER}: ([a-z-]+)$", message, re.MULTILINE)
    return match.group(1) if match else None


def _marked_files(repo: Path, rev: str, conflict: str) -> list[str]:
    names = git(repo, "ls-tree", "-r", "--name-only", rev, "--").splitlines()
    if conflict == "rej":
        return sorted(n for n in names if n.endswith(".rej"))

    def grep(pattern: str) -> set[str]:
        out = git(repo, "grep", "-l", "-I", "-E", pattern, rev, "--", check=False)
        return {line.split(":", 1)[1] for line in out.splitlines() if ":" in line}

    return sorted(grep("^<<<<<<< ") & grep("^>>>>>>> "))


def _existing_update(
    repo: Path, branch: str, target: str, conflict: str
) -> tuple[str, list[str], str] | None:
    """What an existing update branch holds: None when there is none or it is not a
    complete update to `target` (an earlier run died or failed half-way), else its state,
    read from the branch rather than assumed."""
    if not git(repo, "branch", "--list", "--", branch):
        return None
    ref = f"refs/heads/{branch}"
    answers_text = git(repo, "show", f"{ref}:{ANSWERS}", check=False)
    try:
        answers = yaml.safe_load(answers_text) if answers_text else None
    except yaml.YAMLError:
        answers = None
    if not isinstance(answers, dict) or str(answers.get("_commit")) != target:
        return None
    files = _marked_files(repo, ref, conflict)
    if files:
        return (
            "conflicts",
            files,
            f"update on {branch} still has conflicts: resolve " + (", ".join(files)),
        )
    if _status_trailer(repo, ref) == "tests-failed":
        return "tests-failed", [], f"update on {branch} failed its tests; fix them on the branch"
    return "current", [], f"update already on branch {branch}"


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
    repo: str,
    *,
    to: str | None = None,
    branch: str | None = None,
    conflict: str = "inline",
    run_tests: bool = True,
    push: bool = False,
    template: str | None = None,
) -> UpdateResult:
    try:
        check_source(repo, "repo")
        if is_remote(repo) and not Path(repo).exists():
            # A remote repo is cloned into a scratch folder; the branch only survives pushed.
            with _local_copy(repo) as clone_path:
                return _update_checkout(
                    clone_path, repo, to=to, branch=branch, conflict=conflict,
                    run_tests=run_tests, push=True, template=template, from_origin=True,
                )  # fmt: skip
        path = Path(repo)
        if not path.exists():
            raise GoldpathError(f"{repo}: no such path, and not a git URL")
        return _update_checkout(
            path, repo, to=to, branch=branch, conflict=conflict,
            run_tests=run_tests, push=push, template=template,
        )  # fmt: skip
    except GoldpathError as exc:
        return UpdateResult(repo, "error", detail=str(exc))
    except Exception as exc:  # one repo's surprise must not stop the fleet
        return UpdateResult(repo, "error", detail=f"{type(exc).__name__}: {exc}")


def _update_checkout(
    path: Path,
    repo: str,
    *,
    to: str | None,
    branch: str | None,
    conflict: str,
    run_tests: bool,
    push: bool,
    template: str | None,
    from_origin: bool = False,
) -> UpdateResult:
    if to is not None:
        check_ref(to, "--to")
    if branch is not None:
        check_ref(branch, "--branch")
    status = _status_of(path, repo, template)
    if status.dirty:
        raise GoldpathError(f"{repo}: has uncommitted changes; commit or stash them first")
    tags = template_tags(status.template or "")
    target = to or status.latest
    if target is None:
        raise GoldpathError(f"{repo}: the template {status.template} has no release tags")
    if target not in tags:
        raise GoldpathError(
            f"{repo}: tag {target!r} does not exist in {status.template} "
            f"(releases: {', '.join(tags) or 'none'})"
        )
    result = UpdateResult(repo, "current", status.current, target)
    if status.current == target:
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
    existing = _existing_update(path, branch_name, target, conflict)
    if existing is not None:
        result.status, result.files, result.detail = existing
    else:
        holder = _checked_out_in(path, branch_name)
        if holder is not None:
            raise GoldpathError(
                f"{repo}: branch {branch_name} holds an incomplete update but is checked "
                f"out in {holder}; switch that checkout to another branch and rerun"
            )
        base = git(path, "rev-parse", "--verify", "HEAD^{commit}")
        with scratch_worktree(path, base) as work:
            result = _apply_update(
                work, result, target, conflict, run_tests, status.template if template else None
            )
            message = (
                f"Update goldpath template {status.current} -> {target}\n\n"
                f"{result.detail}\n\n{TRAILER}: {result.status}"
            )
            git(work, *commit_identity(path), "commit", "--quiet", "--no-verify",
                "--allow-empty", "-m", message)  # fmt: skip
            commit = git(work, "rev-parse", "HEAD")
        # The branch appears only now, pointing at a complete, committed update.
        git(path, "update-ref", f"refs/heads/{branch_name}", commit)
    if push:
        result.detail += f"; {_push(path, branch_name)}"
    return result


def _apply_update(
    path: Path,
    result: UpdateResult,
    target: str,
    conflict: str,
    run_tests: bool,
    template: str | None,
) -> UpdateResult:
    """Run copier in the scratch worktree `path` and stage exactly its changes, so files
    the test run makes (lock file, caches) are never part of the update. `template`, when
    given, replaces the answers file's `_src_path` first: copier renders both the old and
    the new version from there (the template's tags must include the project's own)."""
    from copier import Worker

    if template is not None:
        base = git(path, "rev-parse", "HEAD")
        answers_file = path / ANSWERS
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
        answers["_src_path"] = template
        answers_file.write_text(yaml.safe_dump(answers, sort_keys=False), encoding="utf-8")
        # copier wants a clean tree; the commit is folded into the update commit below.
        git(path, *commit_identity(path), "commit", "--quiet", "--no-verify", "-am", "source")
    with (
        hardened_copier(),
        Worker(
            dst_path=path,
            vcs_ref=target,
            defaults=True,
            overwrite=True,
            skip_answered=True,
            conflict=cast(Literal["inline", "rej"], conflict),
            unsafe=True,
            quiet=True,
        ) as worker,
    ):
        worker.run_update()
    if template is not None:
        git(path, "reset", "--quiet", "--soft", base)
    conflicts = _conflicted_files(path, conflict)
    git(path, "add", "-A")
    if conflicts:
        result.status = "conflicts"
        result.files = conflicts
        result.detail = "both sides kept: resolve " + ", ".join(conflicts)
        return result
    if run_tests:
        passed, tail = _run_tests(path)
        if not passed:
            result.status = "tests-failed"
            result.detail = tail
            return result
    result.status = "updated"
    result.detail = "template changes applied" + (", tests pass" if run_tests else "")
    return result


def update_fleet(
    repos: Sequence[str],
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
    pool = worker_pool(jobs)
    try:
        futures = {pool.submit(update_repo, repo, **options): repo for repo in repos}
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
        for repo in repos:
            results.setdefault(
                repo, UpdateResult(repo, "interrupted", detail="stopped before it finished")
            )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[repo] for repo in repos]


def unique_repos(repos: Sequence[str]) -> list[str]:
    """The same repo named twice (another relative path, a trailing slash) is updated
    once: two concurrent updates of one repo would race for its branch."""
    seen: set[str] = set()
    unique = []
    for repo in repos:
        key = repo.rstrip("/") if is_remote(repo) else str(Path(repo).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(repo)
    return unique


def read_fleet_file(path: Path) -> list[str]:
    if not path.is_file():
        raise GoldpathError(f"fleet file {path} does not exist")
    document = read_yaml(path, f"fleet file {path}")
    repos = document.get("repos") if isinstance(document, dict) else document
    if not isinstance(repos, list) or not all(isinstance(r, str) for r in repos):
        raise GoldpathError(f"fleet file {path}: expected `repos:` with a list of paths or URLs")
    base = path.parent
    checked = [check_source(r, f"fleet file {path}: repos[{i}]") for i, r in enumerate(repos)]
    return [r if is_remote(r) or Path(r).is_absolute() else str(base / r) for r in checked]


def to_json(items: Sequence[RepoStatus] | Sequence[UpdateResult]) -> str:
    return json.dumps([asdict(item) for item in items], indent=2)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
