"""One pull request per repository for a rollout's update branch, on whichever forge the
repository lives on: found again by its branch on every run, so a rerun (after a kill, a
token expiry, a rate limit) updates the one it opened and never opens a second.

An update that needs a person (conflicts, failed tests, a lock file that does not
resolve) is opened as a draft, labelled, and given a failing `goldpath/update` status;
one that became clean loses the label and its status turns green. A pull request the
team closed unmerged is left closed (the team declined that release), as Renovate does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ._forge import ForgeError

STATUS_CONTEXT = "goldpath/update"
LABEL = "goldpath-update"
ATTENTION_LABEL = "goldpath-needs-attention"


@dataclass
class PullRequest:
    number: int
    url: str
    title: str
    body: str
    state: str  # open, closed, merged
    draft: bool
    labels: list[str]
    head_sha: str


class Pulls(Protocol):
    where: str
    drafts_on_update: bool  # whether an open pull request can be made a draft again

    def find(self, branch: str) -> PullRequest | None: ...
    def create(self, branch: str, base: str, title: str, body: str, draft: bool) -> PullRequest: ...
    def update(self, pull: PullRequest, title: str, body: str, draft: bool) -> PullRequest: ...
    def add_label(self, pull: PullRequest, name: str) -> None: ...
    def remove_label(self, pull: PullRequest, name: str) -> None: ...
    def status(self, pull: PullRequest, sha: str) -> str | None: ...
    def set_status(self, pull: PullRequest, sha: str, passed: bool, description: str) -> None: ...
    @staticmethod
    def state_of(passed: bool) -> str: ...


def create_once(
    pulls: Pulls,
    branch: str,
    create: Callable[[], PullRequest],
    duplicate: Callable[[ForgeError], bool],
) -> PullRequest:
    """`create()`, or the pull request another run opened for `branch` meanwhile (the
    forge refuses a second one: `duplicate` recognises its answer)."""
    try:
        return create()
    except ForgeError as error:
        found = pulls.find(branch) if duplicate(error) else None
        if found is None:
            raise
        return found


@dataclass(frozen=True)
class Opened:
    url: str
    number: int
    action: str  # opened, updated, unchanged, declined (closed unmerged by the team)


def _same(ours: str, theirs: str, limit: int) -> bool:
    return ours[:limit].strip() == theirs.strip()


def open_or_update(
    pulls: Pulls,
    *,
    branch: str,
    base: str,
    sha: str,
    title: str,
    body: str,
    passed: bool,
    summary: str,
    body_limit: int,
) -> Opened:
    existing = pulls.find(branch)
    if existing is not None and existing.state != "open":
        return Opened(existing.url, existing.number, "declined" if existing.state ==
                      "closed" else existing.state)  # fmt: skip
    if existing is None:
        pull = pulls.create(branch, base, title, body, draft=not passed)
        action = "opened"
    elif (
        existing.title != title
        or not _same(body, existing.body, body_limit)
        or (not passed and not existing.draft and pulls.drafts_on_update)
    ):
        pull = pulls.update(existing, title, body, draft=existing.draft or not passed)
        action = "updated"
    else:
        pull, action = existing, "unchanged"
    wanted = {LABEL} | (set() if passed else {ATTENTION_LABEL})
    for name in sorted(wanted - set(pull.labels)):
        pulls.add_label(pull, name)
        action = "updated" if action == "unchanged" else action
    if passed and ATTENTION_LABEL in pull.labels:
        pulls.remove_label(pull, ATTENTION_LABEL)
        action = "updated" if action == "unchanged" else action
    if pulls.status(pull, sha) != pulls.state_of(passed):
        pulls.set_status(pull, sha, passed, summary)
        action = "updated" if action == "unchanged" else action
    return Opened(pull.url, pull.number, action)
