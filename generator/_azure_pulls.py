"""Pull requests on Azure DevOps Repos (REST API 7.1: Pull Requests, Pull Request Labels,
Pull Request Statuses): the same five operations as GitHub's."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ._forge import ForgeError, ForgeRepo, Http, segment
from ._pulls import STATUS_CONTEXT, PullRequest, create_once

API_VERSION = "7.1"
DESCRIPTION_LIMIT = 4000  # Azure DevOps refuses a longer pull request description
_GENRE, _, _NAME = STATUS_CONTEXT.partition("/")
_STATES = {"active": "open", "abandoned": "closed", "completed": "merged"}


def _pull(answer: Any, where: str) -> PullRequest:
    if not isinstance(answer, dict) or not isinstance(answer.get("pullRequestId"), int):
        raise ForgeError(f"{where}: Azure DevOps answered something that is not a pull request")
    repository: dict[str, Any] = (
        answer["repository"] if isinstance(answer.get("repository"), dict) else {}
    )
    web = str(repository.get("webUrl") or "")
    source = answer.get("lastMergeSourceCommit")
    return PullRequest(
        number=answer["pullRequestId"],
        url=f"{web}/pullrequest/{answer['pullRequestId']}" if web else "",
        title=str(answer.get("title") or ""), body=str(answer.get("description") or ""),
        state=_STATES.get(str(answer.get("status")), str(answer.get("status"))),
        draft=bool(answer.get("isDraft")),
        labels=[str(label.get("name")) for label in answer.get("labels") or []
                if isinstance(label, dict) and label.get("active", True)],
        head_sha=str(source.get("commitId") or "") if isinstance(source, dict) else "",
    )  # fmt: skip


class AzurePulls:
    drafts_on_update = True

    def __init__(self, repo: ForgeRepo, http: Http) -> None:
        project, name = repo.parts
        self.base = f"{repo.api}/{segment(project)}/_apis/git/repositories/{segment(name)}"
        self.where = f"azure-devops {repo.slug}"
        self.http = http

    def _url(self, path: str, **query: str) -> str:
        return f"{self.base}/{path}?{urlencode({**query, 'api-version': API_VERSION})}"

    def find(self, branch: str) -> PullRequest | None:
        url = self._url("pullrequests", **{"searchCriteria.sourceRefName": f"refs/heads/{branch}",
                                           "searchCriteria.status": "all"})  # fmt: skip
        answer = self.http.call("GET", url, where=self.where)
        if not isinstance(answer, dict) or not isinstance(answer.get("value"), list):
            raise ForgeError(f"{self.where}: Azure DevOps answered something that is not a list")
        pulls = [_pull(item, self.where) for item in answer["value"]]
        pulls.sort(key=lambda p: (p.state != "open", -p.number))
        return pulls[0] if pulls else None

    def create(self, branch: str, base: str, title: str, body: str, draft: bool) -> PullRequest:
        payload = {
            "sourceRefName": f"refs/heads/{branch}", "targetRefName": f"refs/heads/{base}",
            "title": title, "description": body[:DESCRIPTION_LIMIT], "isDraft": draft,
        }  # fmt: skip
        url = self._url("pullrequests")
        return create_once(
            self, branch,
            lambda: _pull(self.http.call("POST", url, payload, where=self.where), self.where),
            lambda error: error.status == 409,  # TF401179: an active pull request exists
        )  # fmt: skip

    def update(self, pull: PullRequest, title: str, body: str, draft: bool) -> PullRequest:
        payload = {"title": title, "description": body[:DESCRIPTION_LIMIT], "isDraft": draft}
        url = self._url(f"pullrequests/{pull.number}")
        return _pull(self.http.call("PATCH", url, payload, where=self.where), self.where)

    def add_label(self, pull: PullRequest, name: str) -> None:
        url = self._url(f"pullRequests/{pull.number}/labels")
        self.http.call("POST", url, {"name": name}, where=self.where)

    def remove_label(self, pull: PullRequest, name: str) -> None:
        url = self._url(f"pullRequests/{pull.number}/labels/{segment(name)}")
        self.http.call("DELETE", url, where=self.where)

    def status(self, pull: PullRequest, sha: str) -> str | None:
        del sha  # a pull request's status here, not a commit's
        answer = self.http.call("GET", self._url(f"pullRequests/{pull.number}/statuses"),
                                where=self.where)  # fmt: skip
        found = None
        for entry in (answer or {}).get("value") or []:
            context = entry.get("context") if isinstance(entry, dict) else None
            if isinstance(context, dict) and (context.get("genre"), context.get("name")) == (
                _GENRE,
                _NAME,
            ):
                found = str(entry.get("state"))  # the newest is listed last
        return found

    def set_status(self, pull: PullRequest, sha: str, passed: bool, description: str) -> None:
        del sha
        payload = {"state": self.state_of(passed), "description": description[:140],
                   "context": {"genre": _GENRE, "name": _NAME}}  # fmt: skip
        url = self._url(f"pullRequests/{pull.number}/statuses")
        self.http.call("POST", url, payload, where=self.where)

    @staticmethod
    def state_of(passed: bool) -> str:
        return "succeeded" if passed else "failed"
