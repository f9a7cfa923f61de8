"""The approval a CI run's promotion environment recorded, read from the forge itself: in a
pipeline the approver (and a high tier's validator) is who approved the run's
`model-promotion` environment, with their comment as the reason, never a variable the job
could set. GitHub: the run's environment reviews (`GET /repos/{repo}/actions/runs/{id}/
approvals`). Azure DevOps: the run's approval checkpoints (its build timeline), then those
approvals with their steps (`GET _apis/pipelines/approvals`). GitLab: the job's deployment
to the protected `model-promotion` environment and its approvals (`GET /projects/{id}/
deployments`, then `/deployments/{deployment_id}`), read with the job's own token.

What the forge answers is data from another party: bounded in size and nesting, checked
for shape, and a failure is one line naming what to fix."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..endpoints import https_or_loopback
from ..errors import GovernanceError

ENVIRONMENT = "model-promotion"  # GitHub's; Azure DevOps' is <service>-model-promotion
ANSWER_MAX = 1 << 20
TIMEOUT = 20.0
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")

Fetch = Callable[[str, Mapping[str, str]], Any]


@dataclass(frozen=True)
class RecordedApproval:
    approver: str
    comment: str
    record: str  # where it was read


def _get_json(url: str, headers: Mapping[str, str]) -> Any:
    request = urllib.request.Request(url, headers=dict(headers))  # noqa: S310 - https, or loopback
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
            body = answer.read(ANSWER_MAX + 1)
    except urllib.error.HTTPError as refused:
        raise GovernanceError(
            f"the forge refused to show this run's approvals (HTTP {refused.code}): give the "
            "promote step a token that may read them (README, Governance)"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as failed:
        raise GovernanceError(f"the forge's approvals could not be read ({failed})") from None
    if len(body) > ANSWER_MAX:
        raise GovernanceError(f"the forge's answer is larger than {ANSWER_MAX} bytes: refused")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise GovernanceError("the forge's answer about approvals is not JSON") from None


def _base(url: str, name: str) -> str:
    """An API root: https, or http on this machine only (a test's fake forge)."""
    if not https_or_loopback(url):
        raise GovernanceError(f"{name} {url[:80]!r} is not an https URL")
    return url.rstrip("/")


def _need(env: Mapping[str, str], name: str, pattern: str, hint: str) -> str:
    value = env.get(name, "")
    if not re.fullmatch(pattern, value):
        raise GovernanceError(f"{name} is {'missing' if not value else 'malformed'}: {hint}")
    return value


def recorded_approval(env: Mapping[str, str], fetch: Fetch = _get_json) -> RecordedApproval:
    """The approval of this CI run's promotion environment, or GovernanceError."""
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env, fetch)
    if env.get("TF_BUILD", "").lower() == "true":
        return _azure_devops(env, fetch)
    if env.get("GITLAB_CI") == "true":
        return _gitlab(env, fetch)
    raise GovernanceError("not a CI run: no approval record to read")


def _github(env: Mapping[str, str], fetch: Fetch) -> RecordedApproval:
    token = _need(env, "GITHUB_TOKEN", r"\S{1,4096}",
                  "give the promote step GITHUB_TOKEN (permissions: actions: read)")  # fmt: skip
    repository = _need(env, "GITHUB_REPOSITORY", r"[\w.-]+/[\w.-]+", "set by GitHub Actions")
    run = _need(env, "GITHUB_RUN_ID", r"\d{1,20}", "set by GitHub Actions")
    api = _base(env.get("GITHUB_API_URL") or "https://api.github.com", "GITHUB_API_URL")
    url = f"{api}/repos/{repository}/actions/runs/{run}/approvals"
    answer = fetch(url, {"Authorization": f"Bearer {token}",
                         "Accept": "application/vnd.github+json",
                         "X-GitHub-Api-Version": "2022-11-28"})  # fmt: skip
    approved = [
        a for a in (answer if isinstance(answer, list) else [])
        if isinstance(a, dict) and a.get("state") == "approved"
        and any(isinstance(e, dict) and e.get("name") == ENVIRONMENT
                for e in a.get("environments") or [])
    ]  # fmt: skip
    if not approved:
        raise GovernanceError(
            f"no approval of the {ENVIRONMENT} environment is recorded for run {run}: "
            "require reviewers on it (the platform's forge stack does)"
        )
    last = approved[-1]
    user = last.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return RecordedApproval(_name(login), _comment(last.get("comment")), url)


def _azure_devops(env: Mapping[str, str], fetch: Fetch) -> RecordedApproval:
    token = _need(env, "SYSTEM_ACCESSTOKEN", r"\S{1,8192}",
                  "map $(System.AccessToken) into the promote step's env")  # fmt: skip
    collection = _base(_need(env, "SYSTEM_COLLECTIONURI", r"\S{1,400}", "set by Azure Pipelines"),
                       "SYSTEM_COLLECTIONURI")  # fmt: skip
    project = _need(env, "SYSTEM_TEAMPROJECTID", _UUID.pattern, "set by Azure Pipelines")
    build = _need(env, "BUILD_BUILDID", r"\d{1,20}", "set by Azure Pipelines")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    timeline = fetch(f"{collection}/{project}/_apis/build/builds/{build}/timeline"
                     "?api-version=7.1", headers)  # fmt: skip
    records = timeline.get("records") if isinstance(timeline, dict) else None
    ids = [
        str(r["id"]) for r in _listed(records)
        if isinstance(r, dict) and r.get("type") == "Checkpoint.Approval"
        and isinstance(r.get("id"), str) and _UUID.fullmatch(r["id"])
    ][:50]  # fmt: skip
    url = (f"{collection}/{project}/_apis/pipelines/approvals?approvalIds={','.join(ids)}"
           "&$expand=steps&api-version=7.1")  # fmt: skip
    answer = fetch(url, headers) if ids else {}
    listed = answer.get("value") if isinstance(answer, dict) else answer
    steps = [
        s for a in _listed(listed) if isinstance(a, dict) and a.get("status") == "approved"
        for s in _listed(a.get("steps"))
        if isinstance(s, dict) and s.get("status") == "approved"
        and isinstance(s.get("actualApprover"), dict)
    ]  # fmt: skip
    if not steps:
        raise GovernanceError(
            f"no approval of this run's model-promotion environment is recorded (build "
            f"{build}): add an approval check to it (the platform's forge stack does)"
        )
    approver = steps[-1]["actualApprover"]
    return RecordedApproval(
        _name(approver.get("uniqueName") or approver.get("displayName")),
        _comment(steps[-1].get("comment")),
        url,
    )


def _gitlab(env: Mapping[str, str], fetch: Fetch) -> RecordedApproval:
    token = _need(env, "CI_JOB_TOKEN", r"\S{1,4096}", "set by GitLab CI")
    api = _base(_need(env, "CI_API_V4_URL", r"\S{1,400}", "set by GitLab CI"), "CI_API_V4_URL")
    project = _need(env, "CI_PROJECT_ID", r"\d{1,20}", "set by GitLab CI")
    job = int(_need(env, "CI_JOB_ID", r"\d{1,20}", "set by GitLab CI"))
    headers = {"JOB-TOKEN": token, "Accept": "application/json"}
    deployments = fetch(f"{api}/projects/{project}/deployments?environment={ENVIRONMENT}"
                        "&order_by=id&sort=desc&per_page=100", headers)  # fmt: skip
    mine = [
        d["id"] for d in _listed(deployments)
        if isinstance(d, dict) and isinstance(d.get("id"), int)
        and isinstance(d.get("deployable"), dict) and d["deployable"].get("id") == job
    ]  # fmt: skip
    if not mine:
        raise GovernanceError(
            f"no deployment of the {ENVIRONMENT} environment is recorded for job {job}: run "
            "promote as that environment's job (README, GitLab CI)"
        )
    url = f"{api}/projects/{project}/deployments/{mine[0]}"
    answer = fetch(url, headers)
    approvals = [
        a for a in _listed(answer.get("approvals") if isinstance(answer, dict) else None)
        if isinstance(a, dict) and a.get("status") == "approved" and isinstance(a.get("user"), dict)
    ]  # fmt: skip
    if not approvals:
        raise GovernanceError(
            f"no approval of the {ENVIRONMENT} environment is recorded for job {job}: "
            "protect it with required approvals (the platform's forge stack does)"
        )
    last = approvals[-1]
    return RecordedApproval(_name(last["user"].get("username")), _comment(last.get("comment")), url)


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise GovernanceError("the forge's approval names no approver: not trusted")
    return " ".join(value.split())


def _comment(value: object) -> str:
    return " ".join(value.split())[:2000] if isinstance(value, str) else ""


def _listed(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
