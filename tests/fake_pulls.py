"""MOCK BOUNDARY: GitHub's and Azure DevOps' pull-request APIs, served on this machine.

A real HTTP server that goldpath's real client calls during a rollout. Pushed branches live
in real bare repositories; the server answers from them (a branch's head commit), and
keeps pull requests, labels and statuses as the forges do, uniqueness rules included
(GitHub 422 "A pull request already exists", Azure DevOps 409 TF401179).

Every GitHub request and answer is checked against GitHub's published OpenAPI description
(npm @octokit/openapi): the operation must exist, its query parameters be declared, its
body match the request schema, and the answer (errors included) match the response schema
for its status. Azure DevOps is checked against the shapes its REST reference documents
(Git / Pull Requests, Pull Request Labels, Pull Request Statuses, api-version 7.1). A
violation is answered 400 and recorded in `violations`, which the tests assert is empty.

Faults are queued per call: rate limits (429 with Retry-After; GitHub's secondary limit,
403 with retry-after), 5xx, a token that expires, an archived repository, no permission.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

TOKEN = "job-token"
_FAKE_FORGE = Path(__file__).parents[1] / "runtime" / "tests" / "fake_forge.py"


@cache
def _fake_forge() -> Any:
    """The runtime tests' forge fakes: their copy of GitHub's OpenAPI description (npm
    @octokit/openapi) and their local server."""
    spec = importlib.util.spec_from_file_location("goldpath_fake_forge", _FAKE_FORGE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@cache
def github_openapi() -> dict[str, Any]:
    return dict(_json_schema(_fake_forge().github_openapi()))


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema spells it (null is also allowed)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        if "type" in converted and isinstance(converted["type"], str):
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


class GitHubContract:
    """GitHub's operations by method and path, with their schemas."""

    def __init__(self) -> None:
        self.document = github_openapi()
        self.registry: Registry[Any] = Registry().with_resource(
            "urn:github", Resource(contents=self.document, specification=DRAFT4)
        )
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
            for path in self.document["paths"]
        ]

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _validate(self, schema: dict[str, Any], value: Any) -> None:
        jsonschema.Draft4Validator(_rebased(schema), registry=self.registry).validate(value)

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for pattern, template in self.routes:
            if pattern.match(path) and method.lower() in self.document["paths"][template]:
                return dict(self.document["paths"][template][method.lower()])
        raise ValueError(f"{method} {path} is no operation of GitHub's REST API")

    def check_request(self, method: str, path: str, query: dict[str, Any], body: Any) -> None:
        operation = self.operation(method, path)
        declared = {self._resolve(p)["name"] for p in operation.get("parameters", [])}
        undeclared = set(query) - declared
        if undeclared:
            raise ValueError(f"{method} {path}: undeclared query parameters {undeclared}")
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            if content is None:
                raise ValueError(f"{method} {path} takes no body")
            self._validate(content["schema"], body)

    def check_response(self, method: str, path: str, status: int, answer: Any) -> None:
        operation = self.operation(method, path)
        response = operation["responses"].get(str(status))
        if response is None:
            raise ValueError(f"{method} {path} documents no {status} answer")
        content = self._resolve(response).get("content", {}).get("application/json")
        if content is not None:
            self._validate(content["schema"], answer)

    def example(self, name: str) -> Any:
        return copy.deepcopy(self.document["components"]["examples"][name]["value"])


def _rebased(node: Any) -> Any:
    """`#/components/...` references as references into the registered document."""
    if isinstance(node, list):
        return [_rebased(item) for item in node]
    if isinstance(node, dict):
        return {k: ("urn:github" + v if k == "$ref" and isinstance(v, str) and v.startswith("#")
                    else _rebased(v)) for k, v in node.items()}  # fmt: skip
    return node


# Azure DevOps, as its REST reference documents them (api-version 7.1).
_REF_NAME = {"type": "string", "pattern": "^refs/heads/.+"}
ADO_CREATE = {
    "type": "object", "required": ["sourceRefName", "targetRefName", "title"],
    "additionalProperties": False,
    "properties": {"sourceRefName": _REF_NAME, "targetRefName": _REF_NAME,
                   "title": {"type": "string", "maxLength": 400},
                   "description": {"type": "string", "maxLength": 4000},
                   "isDraft": {"type": "boolean"}},
}  # fmt: skip
ADO_UPDATE = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {"title": {"type": "string", "maxLength": 400},
                   "description": {"type": "string", "maxLength": 4000},
                   "isDraft": {"type": "boolean"}, "status": {"enum": ["active", "abandoned"]}},
}  # fmt: skip
ADO_LABEL = {"type": "object", "required": ["name"], "additionalProperties": False,
             "properties": {"name": {"type": "string", "minLength": 1}}}  # fmt: skip
ADO_STATUS = {
    "type": "object", "required": ["state", "context"], "additionalProperties": False,
    "properties": {
        "state": {"enum": ["error", "failed", "notApplicable", "notSet", "pending", "succeeded"]},
        "description": {"type": "string"},
        "context": {"type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "genre": {"type": "string"}}},
    },
}  # fmt: skip
ADO_PULL = {
    "type": "object",
    "required": ["pullRequestId", "status", "title", "sourceRefName", "targetRefName",
                 "isDraft", "repository", "url", "creationDate", "createdBy"],
    "properties": {
        "pullRequestId": {"type": "integer"},
        "status": {"enum": ["notSet", "active", "abandoned", "completed", "all"]},
        "title": {"type": "string"}, "description": {"type": "string"},
        "sourceRefName": _REF_NAME, "targetRefName": _REF_NAME, "isDraft": {"type": "boolean"},
        "labels": {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
        "lastMergeSourceCommit": {"type": "object", "required": ["commitId"]},
        "repository": {"type": "object", "required": ["id", "name", "url", "webUrl"]},
        "createdBy": {"type": "object", "required": ["id", "displayName"]},
    },
}  # fmt: skip
ADO_LIST = {"type": "object", "required": ["count", "value"],
            "properties": {"count": {"type": "integer"}, "value": {"type": "array",
                                                                   "items": ADO_PULL}}}  # fmt: skip
ADO_ROUTE = re.compile(
    r"^/(?P<org>[^/]+)/(?P<project>[^/]+)/_apis/git/repositories/(?P<repo>[^/]+)/"
    r"(?P<what>pullrequests|pullRequests)(?:/(?P<id>\d+)(?:/(?P<sub>labels|statuses)"
    r"(?:/(?P<label>[^/]+))?)?)?$"
)


@dataclass
class Fault:
    """The next matching call is answered `status` instead; status 0 answers it as usual,
    but only after `stall` seconds (the forge acted; its answer is late)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    when: Callable[[str, str], bool] = lambda _method, _path: True
    stall: float = 0.0


@dataclass
class ForgeRepository:
    kind: str  # github, azure-devops
    slug: str
    bare: Path
    archived: bool = False
    writable: bool = True
    pulls: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class FakePullForge:
    url: str = ""
    token: str = TOKEN
    repositories: dict[tuple[str, str], ForgeRepository] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0
    checked: bool = True  # False: answer without checking the contract (benchmarks)

    @property
    def github_api(self) -> str:
        return self.url

    @property
    def azure_api(self) -> str:
        return f"{self.url}/bank"

    def add(self, kind: str, slug: str, bare: Path) -> ForgeRepository:
        repository = ForgeRepository(kind, slug, bare)
        self.repositories[(kind, slug)] = repository
        return repository

    def open_pulls(self, kind: str, slug: str) -> list[dict[str, Any]]:
        return [p for p in self.repositories[(kind, slug)].pulls if p["open"]]

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    # -- the server's side ---------------------------------------------------------------

    def head(self, repository: ForgeRepository, branch: str) -> str | None:
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            cwd=repository.bare, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return found.stdout.strip() or None

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[
        int, dict[str, str], Any
    ]:  # fmt: skip
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        stall = 0.0
        with self.lock:
            self.requests.append((method, path))
            for fault in list(self.faults):
                if fault.when(method, path):
                    self.faults.remove(fault)
                    if fault.status:
                        return fault.status, fault.headers, fault.body
                    stall = fault.stall
                    break
        answer = self._answer(method, path, query, headers, raw)
        time.sleep(stall)
        return answer

    def _answer(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                raw: bytes) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials",
                             "documentation_url": "https://docs.github.com/rest"}  # fmt: skip
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._violation(f"{method} {path}: a body that is not JSON")
        if ADO_ROUTE.match(path):
            return self._azure(method, path, query, headers, body)
        return self._github(method, path, query, headers, body)

    def _violation(self, message: str) -> tuple[int, dict[str, str], Any]:
        self.violations.append(message)
        return 400, {}, {"message": message, "documentation_url": "https://docs.github.com"}

    # GitHub --------------------------------------------------------------------------------

    def _github(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                body: Any) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        contract = _contract()
        if not self.checked:
            status, answer = self._github_answer(method, path, query, body)
            return status, {}, answer
        if headers.get("accept") != "application/vnd.github+json":
            return self._violation(f"{method} {path}: Accept is not application/vnd.github+json")
        if headers.get("x-github-api-version") != "2022-11-28":
            return self._violation(f"{method} {path}: no X-GitHub-Api-Version 2022-11-28")
        try:
            contract.check_request(method, path, query, body)
        except (ValueError, jsonschema.ValidationError) as error:
            return self._violation(f"{method} {path}: {str(error).splitlines()[0]}")
        status, answer = self._github_answer(method, path, query, body)
        try:
            contract.check_response(method, path, status, answer)
        except (ValueError, jsonschema.ValidationError) as error:
            return self._violation(f"answer to {method} {path}: {str(error).splitlines()[0]}")
        return status, {}, answer

    def _github_answer(self, method: str, path: str, query: dict[str, str],
                       body: Any) -> tuple[int, Any]:  # fmt: skip
        match = re.match(r"^/repos/([^/]+)/([^/]+)/(.*)$", path)
        assert match is not None
        repository = self.repositories.get(("github", f"{match[1]}/{match[2]}"))
        rest = match[3]
        if repository is None:
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
        if method != "GET" and repository.archived:
            return 403, {"message": "Repository was archived so is read-only.",
                         "documentation_url": "https://docs.github.com"}  # fmt: skip
        if method != "GET" and not repository.writable:
            return 403, {"message": "Resource not accessible by integration",
                         "documentation_url": "https://docs.github.com"}  # fmt: skip
        with self.lock:
            if rest == "pulls" and method == "GET":
                owner, _, branch = query.get("head", ":").partition(":")
                state = query.get("state", "open")
                listed = [p for p in repository.pulls if p["branch"] == branch and (
                    state == "all" or (state == "open") == p["open"])]  # fmt: skip
                if owner != repository.slug.split("/")[0]:
                    listed = []  # GitHub filters by the head's owner as well
                return 200, [self._github_pull(repository, p, simple=True) for p in listed]
            if rest == "pulls" and method == "POST":
                return self._github_create(repository, body)
            number = re.match(r"^(?:pulls|issues)/(\d+)", rest)
            found = [p for p in repository.pulls if number and p["number"] == int(number[1])]
            if rest.startswith("commits/") and rest.endswith("/status"):
                sha = rest.split("/")[1]
                return 200, self._combined(repository, sha)
            if rest.startswith("statuses/"):
                return self._github_status(repository, rest.split("/")[1], body)
            if not found:
                return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
            pull = found[0]
            if rest.startswith("pulls/") and method == "PATCH":
                pull.update({k: v for k, v in body.items() if k in ("title", "body")})
                return 200, self._github_pull(repository, pull)
            if rest.endswith("/labels") and method == "POST":
                for name in body["labels"]:
                    if name not in pull["labels"]:
                        pull["labels"].append(name)
                return 200, [self._label(n) for n in pull["labels"]]
            if "/labels/" in rest and method == "DELETE":
                name = rest.split("/labels/", 1)[1]
                if name not in pull["labels"]:
                    return 404, {"message": "Label does not exist",
                                 "documentation_url": "https://docs.github.com"}  # fmt: skip
                pull["labels"].remove(name)
                return 200, [self._label(n) for n in pull["labels"]]
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}

    def _github_create(self, repository: ForgeRepository, body: Any) -> tuple[int, Any]:
        branch = body["head"].split(":")[-1]
        if self.head(repository, branch) is None:
            return 422, {"message": "Validation Failed", "documentation_url": "https://docs.github.com",
                         "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}]}  # fmt: skip
        if any(p["branch"] == branch and p["open"] for p in repository.pulls):
            return 422, {
                "message": "Validation Failed", "documentation_url": "https://docs.github.com",
                "errors": [{"resource": "PullRequest", "code": "custom",
                            "message": f"A pull request already exists for {branch}."}],
            }  # fmt: skip
        self.counter += 1
        pull = {"number": self.counter, "branch": branch, "base": body["base"],
                "title": body.get("title", ""), "body": body.get("body", ""),
                "draft": bool(body.get("draft")), "open": True, "merged": False, "labels": []}  # fmt: skip
        repository.pulls.append(pull)
        return 201, self._github_pull(repository, pull)

    def _github_status(self, repository: ForgeRepository, sha: str, body: Any) -> tuple[int, Any]:
        status = self._contract_example("status")
        status.update(state=body["state"], context=body.get("context", "default"),
                      description=body.get("description"))  # fmt: skip
        repository.statuses.setdefault(sha, []).insert(0, status)
        return 201, status

    def _combined(self, repository: ForgeRepository, sha: str) -> Any:
        combined = self._contract_example("combined-commit-status")
        latest: dict[str, Any] = {}
        for status in repository.statuses.get(sha, []):
            latest.setdefault(status["context"], status)
        combined.update(sha=sha, statuses=list(latest.values()), total_count=len(latest))
        return combined

    @staticmethod
    def _contract_example(name: str) -> Any:
        return _contract().example(name)

    def _label(self, name: str) -> Any:
        label = self._contract_example("label")
        label["name"] = name
        return label

    def _github_pull(self, repository: ForgeRepository, pull: dict[str, Any],
                     simple: bool = False) -> Any:  # fmt: skip
        example = self._contract_example("pull-request-simple-items")[0] if simple else (
            self._contract_example("pull-request"))  # fmt: skip
        owner, name = repository.slug.split("/")
        example.update(
            number=pull["number"], id=1000 + pull["number"], title=pull["title"],
            body=pull["body"], draft=pull["draft"], state="open" if pull["open"] else "closed",
            html_url=f"https://github.com/{owner}/{name}/pull/{pull['number']}",
            labels=[self._label(n) for n in pull["labels"]],
            merged_at="2026-12-05T00:00:00Z" if pull["merged"] else None,
        )  # fmt: skip
        # Nobody is asked to review (GitHub's own example lists a team its schema refuses).
        example["requested_teams"], example["requested_reviewers"] = [], []
        example["head"]["ref"] = pull["branch"]
        example["head"]["sha"] = self.head(repository, pull["branch"]) or "0" * 40
        example["head"]["label"] = f"{owner}:{pull['branch']}"
        example["base"]["ref"] = pull["base"]
        if not simple:
            example["merged"] = pull["merged"]
        return example

    # Azure DevOps --------------------------------------------------------------------------

    def _azure(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: Any) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        route = ADO_ROUTE.match(path)
        assert route is not None
        if query.get("api-version") != "7.1":
            return self._violation(f"{method} {path}: api-version is not 7.1")
        repository = self.repositories.get(("azure-devops", f"{route['project']}/{route['repo']}"))
        if repository is None:
            return (
                404,
                {},
                _ado_error(
                    "TF401019: The Git repository does not exist.", "GitRepositoryNotFoundException"
                ),
            )
        if method != "GET" and not repository.writable:
            return 403, {}, _ado_error("TF401027: You need the Git 'Contribute' permission.", "GitNeedsPermissionException")  # fmt: skip
        schema = {("POST", None): ADO_CREATE, ("PATCH", None): ADO_UPDATE,
                  ("POST", "labels"): ADO_LABEL, ("POST", "statuses"): ADO_STATUS}.get(
            (method, route["sub"]))  # fmt: skip
        try:
            if schema is not None:
                jsonschema.Draft4Validator(schema).validate(body)
            elif body is not None:
                raise ValueError("this call takes no body")
        except (ValueError, jsonschema.ValidationError) as error:
            return self._violation(f"{method} {path}: {str(error).splitlines()[0]}")
        with self.lock:
            status, answer = self._azure_answer(repository, method, route, query, body)
        if route["sub"] is None and status in (200, 201):
            check = ADO_LIST if route["id"] is None and method == "GET" else ADO_PULL
            try:
                jsonschema.Draft4Validator(check).validate(answer)
            except jsonschema.ValidationError as error:
                return self._violation(f"answer to {method} {path}: {error.message}")
        return status, {}, answer

    def _azure_answer(self, repository: ForgeRepository, method: str, route: re.Match[str],
                      query: dict[str, str], body: Any) -> tuple[int, Any]:  # fmt: skip
        if route["id"] is None and method == "GET":
            branch = query.get("searchCriteria.sourceRefName", "").removeprefix("refs/heads/")
            wanted = query.get("searchCriteria.status", "active")
            listed = [self._azure_pull(repository, p) for p in repository.pulls
                      if p["branch"] == branch and (wanted == "all" or p["open"])]  # fmt: skip
            return 200, {"count": len(listed), "value": listed}
        if route["id"] is None and method == "POST":
            branch = body["sourceRefName"].removeprefix("refs/heads/")
            if self.head(repository, branch) is None:
                return 400, _ado_error(
                    "TF401398: The source branch does not exist.", "GitPullRequestCannotBeActivated"
                )
            if any(p["branch"] == branch and p["open"] for p in repository.pulls):
                return 409, _ado_error("TF401179: An active pull request for the source and "
                                       "target branch already exists.", "GitPullRequestExistsException")  # fmt: skip
            self.counter += 1
            pull = {"number": self.counter, "branch": branch,
                    "base": body["targetRefName"].removeprefix("refs/heads/"),
                    "title": body["title"], "body": body.get("description", ""),
                    "draft": bool(body.get("isDraft")), "open": True, "merged": False,
                    "labels": []}  # fmt: skip
            repository.pulls.append(pull)
            return 201, self._azure_pull(repository, pull)
        found = [p for p in repository.pulls if p["number"] == int(route["id"])]
        if not found:
            return 404, _ado_error(
                "TF401180: The requested pull request was not found.",
                "GitPullRequestNotFoundException",
            )
        pull = found[0]
        if route["sub"] is None and method == "PATCH":
            pull.update({"title": body.get("title", pull["title"]),
                         "body": body.get("description", pull["body"]),
                         "draft": body.get("isDraft", pull["draft"])})  # fmt: skip
            return 200, self._azure_pull(repository, pull)
        if route["sub"] == "labels" and method == "POST":
            if body["name"] not in pull["labels"]:
                pull["labels"].append(body["name"])
            return 200, {"id": _uuid(body["name"]), "name": body["name"], "active": True}
        if route["sub"] == "labels" and method == "DELETE":
            if route["label"] in pull["labels"]:
                pull["labels"].remove(route["label"])
            return 204, None
        statuses = repository.statuses.setdefault(str(pull["number"]), [])
        if route["sub"] == "statuses" and method == "POST":
            entry = {"id": len(statuses) + 1, **body}
            statuses.append(entry)
            return 200, entry
        if route["sub"] == "statuses" and method == "GET":
            return 200, {"count": len(statuses), "value": statuses}
        return 405, _ado_error("Method not allowed", "MethodNotAllowed")

    def _azure_pull(self, repository: ForgeRepository, pull: dict[str, Any]) -> Any:
        project, name = repository.slug.split("/")
        web = f"https://dev.azure.com/bank/{project}/_git/{name}"
        return {
            "pullRequestId": pull["number"],
            "status": "active" if pull["open"] else ("completed" if pull["merged"] else "abandoned"),
            "title": pull["title"], "description": pull["body"], "isDraft": pull["draft"],
            "sourceRefName": f"refs/heads/{pull['branch']}",
            "targetRefName": f"refs/heads/{pull['base']}",
            "labels": [{"id": _uuid(n), "name": n, "active": True} for n in pull["labels"]],
            "lastMergeSourceCommit": {"commitId": self.head(repository, pull["branch"]) or ""},
            "repository": {"id": _uuid(name), "name": name, "webUrl": web,
                           "url": f"{self.azure_api}/{project}/_apis/git/repositories/{name}"},
            "url": f"{self.azure_api}/{project}/_apis/git/pullRequests/{pull['number']}",
            "creationDate": "2026-12-05T00:00:00Z",
            "createdBy": {"id": _uuid("build"), "displayName": "Project Collection Build Service"},
        }  # fmt: skip


def _uuid(seed: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def _ado_error(message: str, type_key: str) -> dict[str, Any]:
    return {"$id": "1", "innerException": None, "message": message,
            "typeName": f"Microsoft.TeamFoundation.Git.Server.{type_key}, Microsoft.TeamFoundation.Git.Server",
            "typeKey": type_key, "errorCode": 0, "eventId": 3000}  # fmt: skip


@cache
def _contract() -> GitHubContract:
    return GitHubContract()


@contextmanager
def serve() -> Iterator[FakePullForge]:
    _contract()  # loaded here, once: a server thread never builds it
    forge = FakePullForge()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, answer = forge.handle(self.command, self.path, headers, raw)
            data = b"" if answer is None else (
                answer if isinstance(answer, bytes) else json.dumps(answer).encode())  # fmt: skip
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _any

        def log_message(self, *_args: Any) -> None:
            pass

    with _fake_forge().serving(Handler) as url:
        forge.url = url
        yield forge
