"""Pull requests on GitHub and GitHub Enterprise Server (REST API 2022-11-28): find the
update's pull request by its branch, open it, update it, label it, set its status."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ._forge import ForgeError, ForgeRepo, Http, segment
from ._pulls import STATUS_CONTEXT, PullRequest, create_once


def _pull(answer: Any, where: str) -> PullRequest:
    if not isinstance(answer, dict) or not isinstance(answer.get("number"), int):
        raise ForgeError(f"{where}: GitHub answered something that is not a pull request")
    state = "merged" if answer.get("merged_at") else str(answer.get("state"))
    labels = [str(label.get("name")) for label in answer.get("labels") or []
              if isinstance(label, dict)]  # fmt: skip
    head: dict[str, Any] = answer["head"] if isinstance(answer.get("head"), dict) else {}
    return PullRequest(
        number=answer["number"], url=str(answer.get("html_url", "")),
        title=str(answer.get("title") or ""), body=str(answer.get("body") or ""),
        state=state, draft=bool(answer.get("draft")), labels=labels,
        head_sha=str(head.get("sha") or ""),
    )  # fmt: skip


class GitHubPulls:
    drafts_on_update = False

    def __init__(self, repo: ForgeRepo, http: Http) -> None:
        owner, name = repo.parts
        self.owner = owner
        self.base = f"{repo.api}/repos/{segment(owner)}/{segment(name)}"
        self.where = f"github {repo.slug}"
        self.http = http

    def find(self, branch: str) -> PullRequest | None:
        query = urlencode({"state": "all", "head": f"{self.owner}:{branch}", "per_page": 20})
        answer = self.http.call("GET", f"{self.base}/pulls?{query}", where=self.where)
        if not isinstance(answer, list):
            raise ForgeError(f"{self.where}: GitHub answered something that is not a list")
        pulls = [_pull(item, self.where) for item in answer]
        # The list leaves out whether a closed one was merged: open first, then the newest.
        pulls.sort(key=lambda p: (p.state != "open", -p.number))
        return pulls[0] if pulls else None

    def create(self, branch: str, base: str, title: str, body: str, draft: bool) -> PullRequest:
        payload = {"title": title, "head": branch, "base": base, "body": body, "draft": draft,
                   "maintainer_can_modify": False}  # fmt: skip
        return create_once(
            self, branch,
            lambda: _pull(self.http.call("POST", f"{self.base}/pulls", payload, where=self.where),
                          self.where),
            # GitHub: 422, "A pull request already exists for OWNER:BRANCH".
            lambda error: error.status == 422 and "already exists" in str(error.answer),
        )  # fmt: skip

    def update(self, pull: PullRequest, title: str, body: str, draft: bool) -> PullRequest:
        # GitHub's REST API cannot turn a pull request into a draft: the status and the
        # label carry a failure for one opened clean (`draft` is set when it is opened).
        del draft
        url = f"{self.base}/pulls/{pull.number}"
        answer = self.http.call("PATCH", url, {"title": title, "body": body}, where=self.where)
        return _pull(answer, self.where)

    def add_label(self, pull: PullRequest, name: str) -> None:
        url = f"{self.base}/issues/{pull.number}/labels"
        self.http.call("POST", url, {"labels": [name]}, where=self.where)

    def remove_label(self, pull: PullRequest, name: str) -> None:
        url = f"{self.base}/issues/{pull.number}/labels/{segment(name)}"
        self.http.call("DELETE", url, where=self.where)

    def status(self, pull: PullRequest, sha: str) -> str | None:
        del pull
        answer = self.http.call("GET", f"{self.base}/commits/{sha}/status", where=self.where)
        for entry in (answer or {}).get("statuses") or []:
            if isinstance(entry, dict) and entry.get("context") == STATUS_CONTEXT:
                return str(entry.get("state"))
        return None

    def set_status(self, pull: PullRequest, sha: str, passed: bool, description: str) -> None:
        del pull
        payload = {"state": self.state_of(passed), "context": STATUS_CONTEXT,
                   "description": description[:140]}  # fmt: skip
        self.http.call("POST", f"{self.base}/statuses/{sha}", payload, where=self.where)

    @staticmethod
    def state_of(passed: bool) -> str:
        return "success" if passed else "failure"
