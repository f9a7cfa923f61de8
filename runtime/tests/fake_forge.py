"""MOCK BOUNDARY: the forges' REST APIs (GitHub, Azure DevOps, GitLab), served on this machine.

A real HTTP server the runtime's real client calls. Every request is checked (method, path,
authentication, the headers the API documents) and every answer is checked before it is
sent: GitHub's against its published OpenAPI description (npm @octokit/openapi, the
`environment-approvals` schema), Azure DevOps' against the shapes its REST reference
documents for a build timeline and for Approvals - Query (learn.microsoft.com,
approvalsandchecks/approvals/query, api-version 7.1), GitLab's against the shapes its
Deployments API reference documents (docs.gitlab.com/api/deployments: list deployments,
get a specific deployment with its `approvals`). A fake that answered outside the contract
would test nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

OCTOKIT_OPENAPI = "23.0.2"
GITHUB_APPROVALS = re.compile(r"/repos/[\w.-]+/[\w.-]+/actions/runs/\d+/approvals")
ADO_TIMELINE = re.compile(r"/(?P<project>[0-9a-f-]{36})/_apis/build/builds/\d+/timeline")
ADO_APPROVALS = re.compile(r"/(?P<project>[0-9a-f-]{36})/_apis/pipelines/approvals")
GITLAB_DEPLOYMENTS = re.compile(r"/api/v4/projects/\d+/deployments")
GITLAB_DEPLOYMENT = re.compile(r"/api/v4/projects/\d+/deployments/(?P<id>\d+)")
_UUID = {"type": "string", "pattern": "^[0-9a-fA-F-]{36}$"}
_IDENTITY = {"type": "object", "required": ["id", "displayName", "uniqueName"],
             "properties": {"id": _UUID, "displayName": {"type": "string"},
                            "uniqueName": {"type": "string"}}}  # fmt: skip
# Azure DevOps, as its REST reference documents them (the fields goldpath reads required).
ADO_TIMELINE_SCHEMA = {
    "type": "object", "required": ["records"],
    "properties": {"records": {"type": "array", "items": {
        "type": "object", "required": ["id", "type", "state"],
        "properties": {"id": _UUID, "type": {"type": "string"},
                       "state": {"enum": ["pending", "inProgress", "completed"]}}}}},
}  # fmt: skip
ADO_APPROVALS_SCHEMA = {
    "type": "object", "required": ["count", "value"],
    "properties": {"count": {"type": "integer"}, "value": {"type": "array", "items": {
        "type": "object", "required": ["id", "status", "steps"],
        "properties": {
            "id": _UUID,
            "status": {"enum": ["undefined", "uninitiated", "pending", "approved", "rejected",
                                "skipped", "canceled", "timedOut", "failed", "completed",
                                "all"]},
            "steps": {"type": "array", "items": {
                "type": "object", "required": ["assignedApprover", "status"],
                "properties": {"assignedApprover": _IDENTITY, "actualApprover": _IDENTITY,
                               "status": {"type": "string"}, "comment": {"type": "string"}}}},
        }}}},
}  # fmt: skip


@cache
def github_openapi() -> dict[str, Any]:
    """GitHub's published OpenAPI description, from npm (cached across runs)."""
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    kept = home / "goldpath" / f"octokit-openapi-{OCTOKIT_OPENAPI}.json"
    if not kept.exists():
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run(
                ["npm", "pack", f"@octokit/openapi@{OCTOKIT_OPENAPI}", "--silent",
                 "--pack-destination", scratch],
                check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            [packed] = Path(scratch).glob("*.tgz")
            with tarfile.open(packed) as archive:
                member = archive.extractfile("package/generated/api.github.com.json")
                assert member is not None
                data = member.read()
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(kept)
    return dict(json.loads(kept.read_text()))


def _github_validator() -> jsonschema.Draft4Validator:
    document = github_openapi()
    registry: Registry[Any] = Registry().with_resource(
        "urn:github", Resource(contents=document, specification=DRAFT4)
    )
    schema = {
        "type": "array",
        "items": {"$ref": "urn:github#/components/schemas/environment-approvals"},
    }
    return jsonschema.Draft4Validator(schema, registry=registry)


# GitLab, as its Deployments API reference documents them (the fields goldpath reads required).
_GITLAB_USER = {"type": "object", "required": ["id", "username", "name"],
                "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                               "name": {"type": "string"}}}  # fmt: skip
_GITLAB_DEPLOYMENT = {
    "type": "object", "required": ["id", "iid", "status", "deployable", "environment"],
    "properties": {
        "id": {"type": "integer"}, "iid": {"type": "integer"},
        "status": {"enum": ["created", "running", "success", "failed", "canceled", "blocked"]},
        "deployable": {"type": "object", "required": ["id", "name", "status"],
                       "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                      "status": {"type": "string"}}},
        "environment": {"type": "object", "required": ["id", "name"],
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "approvals": {"type": "array", "items": {
            "type": "object", "required": ["user", "status", "created_at"],
            "properties": {"user": _GITLAB_USER, "status": {"enum": ["approved", "rejected"]},
                           "created_at": {"type": "string"},
                           "comment": {"type": ["string", "null"]}}}},
    },
}  # fmt: skip
GITLAB_DEPLOYMENTS_SCHEMA = {"type": "array", "items": _GITLAB_DEPLOYMENT}


def gitlab_deployment(deployment: int, job: int, *approvals: tuple[str, str, str],
                      environment: str = "model-promotion") -> dict[str, Any]:  # fmt: skip
    """One deployment as GitLab documents it; approvals are (username, status, comment)."""
    return {
        "id": deployment, "iid": deployment, "status": "running",
        "deployable": {"id": job, "name": "promote", "status": "running"},
        "environment": {"id": 7, "name": environment},
        "approvals": [
            {"user": {"id": index + 1, "username": name, "name": name.title()},
             "status": status, "created_at": "2026-12-05T02:00:00Z", "comment": comment}
            for index, (name, status, comment) in enumerate(approvals)
        ],
    }  # fmt: skip


def github_example() -> list[dict[str, Any]]:
    """GitHub's own published example answer of the approvals endpoint."""
    example = github_openapi()["components"]["examples"]["environment-approvals-items"]
    return list(json.loads(json.dumps(example["value"])))


def github_approval(login: str, comment: str, environment: str = "model-promotion",
                    state: str = "approved") -> dict[str, Any]:  # fmt: skip
    entry = github_example()[0]
    entry["user"]["login"], entry["comment"], entry["state"] = login, comment, state
    entry["environments"][0]["name"] = environment
    return entry


@dataclass
class FakeForge:
    token: str = "forge-token"  # noqa: S105 - a test's
    github: list[dict[str, Any]] = field(default_factory=list)  # the run's approvals
    timeline: dict[str, Any] = field(default_factory=lambda: {"records": []})
    approvals: list[dict[str, Any]] = field(default_factory=list)
    gitlab: list[dict[str, Any]] = field(default_factory=list)  # the project's deployments
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    raw: bytes | None = None  # answer these bytes instead (a forge answering nonsense)
    status: int = 200
    url: str = ""

    def answer(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Any:
        if GITHUB_APPROVALS.fullmatch(path):
            assert "application/vnd.github+json" in headers.get("accept", "")
            assert headers.get("x-github-api-version") == "2022-11-28"
            _github_validator().validate(self.github)
            return self.github
        if GITLAB_DEPLOYMENT.fullmatch(path):
            wanted = int(GITLAB_DEPLOYMENT.fullmatch(path)["id"])  # type: ignore[index]
            [found] = [d for d in self.gitlab if d["id"] == wanted]
            jsonschema.Draft4Validator(_GITLAB_DEPLOYMENT).validate(found)
            return found
        if GITLAB_DEPLOYMENTS.fullmatch(path):
            environment = query.get("environment", [""])[0]
            listed = [d for d in self.gitlab if d["environment"]["name"] == environment]
            # The list shows no approvals: those are the single deployment's.
            listed = [{k: v for k, v in d.items() if k != "approvals"} for d in listed]
            jsonschema.Draft4Validator(GITLAB_DEPLOYMENTS_SCHEMA).validate(listed)
            return listed
        assert query.get("api-version") == ["7.1"], query
        if ADO_TIMELINE.fullmatch(path):
            jsonschema.Draft4Validator(ADO_TIMELINE_SCHEMA).validate(self.timeline)
            return self.timeline
        if ADO_APPROVALS.fullmatch(path):
            assert query.get("$expand") == ["steps"], query
            wanted = set(query["approvalIds"][0].split(","))
            listed = [a for a in self.approvals if a["id"] in wanted]
            answer = {"count": len(listed), "value": listed}
            jsonschema.Draft4Validator(ADO_APPROVALS_SCHEMA).validate(answer)
            return answer
        raise AssertionError(f"no such endpoint in the contract: {path}")


@contextmanager
def forge_running(forge: FakeForge) -> Iterator[FakeForge]:
    failures: list[BaseException] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}  # names are case-blind
            forge.requests.append((self.path, headers))
            # GitLab takes a CI job's own token in JOB-TOKEN; GitHub and Azure DevOps a bearer.
            gitlab = parts.path.startswith("/api/v4/")
            presented = headers.get("job-token") if gitlab else headers.get("authorization")
            if presented != (forge.token if gitlab else f"Bearer {forge.token}"):
                self.send_error(401, "Bad credentials")  # as both forges answer
                return
            try:
                body = (
                    forge.raw
                    if forge.raw is not None
                    else json.dumps(
                        forge.answer(parts.path, parse_qs(parts.query), headers)
                    ).encode()
                )
            except BaseException as exc:  # the test sees it, not only the client
                failures.append(exc)
                self.send_error(500)
                return
            self.send_response(forge.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        forge.url = url
        yield forge
    if failures:
        raise failures[0]


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` served on this machine, in a thread, until the block ends; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # a stalled answer does not hold the test's teardown
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
