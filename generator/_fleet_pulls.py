"""`fleet update --open-pr`: the pull request for a repository's pushed update branch, on
the forge its fleet entry names, with the template's release notes between the two tags."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ._azure_pulls import DESCRIPTION_LIMIT, AzurePulls
from ._errors import GoldpathError
from ._forge import ForgeRepo, Http, Kind, job_token
from ._github_pulls import GitHubPulls
from ._pull_body import UpdateText, body, title
from ._pulls import Pulls, open_or_update
from ._releases import release_notes
from ._vcs import git

if TYPE_CHECKING:
    from ._fleet import UpdateResult

GITHUB_BODY_LIMIT = 65_000  # GitHub refuses a body over 65,536 characters


@cache
def _http(kind: Kind) -> Http:
    """One per forge and process: a token rejected once is not offered again."""
    return Http(kind, job_token(kind))


def client(repo: ForgeRepo) -> Pulls:
    http = _http(repo.kind)
    return GitHubPulls(repo, http) if repo.kind == "github" else AzurePulls(repo, http)


def open_pull_request(path: Path, result: UpdateResult, forge: ForgeRepo, source: str) -> None:
    """Open or update `result.branch`'s pull request against the checkout's branch."""
    if not (result.branch and result.from_version and result.to_version):
        raise GoldpathError(f"{result.repo}: no update branch to open a pull request for")
    base = git(path, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if not base:
        raise GoldpathError(f"{result.repo}: no branch is checked out to open a pull request to")
    sha = git(path, "rev-parse", "--verify", f"refs/heads/{result.branch}")
    text = UpdateText(
        from_version=result.from_version, to_version=result.to_version,
        state=result.outcome or "clean", kind=result.kind, projects=result.projects,
        files=result.files, tests=result.tests, lock=result.lock,
        output=result.output,
        notes=release_notes(source, result.from_version, result.to_version),
    )  # fmt: skip
    limit = GITHUB_BODY_LIMIT if forge.kind == "github" else DESCRIPTION_LIMIT
    passed = text.state == "clean"
    summary = "update applies cleanly" if passed else f"update needs a person: {text.state}"
    opened = open_or_update(
        client(forge), branch=result.branch, base=base, sha=sha, title=title(text),
        body=body(text, limit), passed=passed, summary=summary, body_limit=limit,
    )  # fmt: skip
    result.pull_request, result.pull_request_action = opened.url, opened.action
