"""MOCK BOUNDARY: what a monitor's breach calls, served on this machine: GitHub Actions'
workflow dispatch, Azure DevOps' Runs - Run Pipeline, Databricks' Jobs run-now, and a
team channel's incoming webhook.

Each request is checked before it is answered, and each answer before it is sent: GitHub's
against its published OpenAPI description (npm @octokit/openapi: the operation's request
body and its `workflow-dispatch-response`), Azure DevOps' against the shapes its REST
reference documents (pipelines/runs/run-pipeline, api-version 7.1: RunPipelineParameters
and Run), Databricks' against its Jobs API reference (POST /api/2.2/jobs/run-now: job_id,
job_parameters; RunNowResponse), the webhook against the `{"text"}` message Teams' and
Slack's incoming webhooks take. A violation is answered 400 and kept in `violations`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
from fake_forge import github_openapi, serving
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

TOKEN = "job-token"  # noqa: S105 - a test's
GITHUB_DISPATCH = re.compile(
    r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/workflows/(?P<workflow>[^/]+)/dispatches"
)
ADO_RUN = re.compile(r"/(?P<project>[^/]+)/_apis/pipelines/(?P<pipeline>\d+)/runs")
DATABRICKS_RUN_NOW = "/api/2.2/jobs/run-now"
WEBHOOK = "/webhook"

ADO_RUN_PARAMETERS = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "previewRun": {"type": "boolean"},
        "resources": {"type": "object", "properties": {"repositories": {
            "type": "object", "additionalProperties": {
                "type": "object", "properties": {"refName": {"type": "string"},
                                                 "version": {"type": "string"}}}}}},
        "stagesToSkip": {"type": "array", "items": {"type": "string"}},
        "templateParameters": {"type": "object", "additionalProperties": {"type": "string"}},
        "variables": {"type": "object"},
        "yamlOverride": {"type": "string"},
    },
}  # fmt: skip
ADO_RUN_ANSWER = {
    "type": "object", "required": ["id", "name", "state", "pipeline", "url"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                   "state": {"enum": ["canceling", "completed", "inProgress", "unknown"]},
                   "pipeline": {"type": "object", "required": ["id"]},
                   "url": {"type": "string"}},
}  # fmt: skip
DATABRICKS_RUN_NOW_BODY = {
    "type": "object", "required": ["job_id"],
    "properties": {"job_id": {"type": "integer"},
                   "job_parameters": {"type": "object",
                                      "additionalProperties": {"type": "string"}},
                   "idempotency_token": {"type": "string", "maxLength": 64}},
}  # fmt: skip
DATABRICKS_RUN_NOW_ANSWER = {
    "type": "object", "required": ["run_id"],
    "properties": {"run_id": {"type": "integer"}, "number_in_job": {"type": "integer"}},
}  # fmt: skip
WEBHOOK_MESSAGE = {
    "type": "object", "required": ["text"], "additionalProperties": False,
    "properties": {"text": {"type": "string", "minLength": 1}},
}  # fmt: skip


@cache
def _github() -> tuple[dict[str, Any], Registry[Any]]:
    document = github_openapi()
    registry: Registry[Any] = Registry().with_resource(
        "urn:github", Resource(contents=document, specification=DRAFT4)
    )
    operation = document["paths"][
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"
    ]
    return operation["post"], registry


def _github_check(body: Any, answer: Any) -> None:
    operation, registry = _github()
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    jsonschema.Draft4Validator(request, registry=registry).validate(body)
    response = {"$ref": "urn:github#/components/schemas/workflow-dispatch-response"}
    jsonschema.Draft4Validator(response, registry=registry).validate(answer)


@dataclass
class Call:
    system: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class FakePipelines:
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    status: int = 0  # answer this status instead (a refusal, an outage)
    url: str = ""

    def answer(self, path: str, query: dict[str, list[str]], body: Any) -> tuple[str, Any]:
        if match := GITHUB_DISPATCH.fullmatch(path):
            answer = {
                "workflow_run_id": 42,
                "run_url": f"{self.url}/repos/{match['owner']}/{match['repo']}/actions/runs/42",
                "html_url": f"https://github.com/{match['owner']}/{match['repo']}/actions/runs/42",
            }
            _github_check(body, answer)
            return "github", answer
        if match := ADO_RUN.fullmatch(path):
            assert query.get("api-version") == ["7.1"], query
            jsonschema.Draft4Validator(ADO_RUN_PARAMETERS).validate(body)
            answer = {"id": 77, "name": "20261205.1", "state": "inProgress",
                      "pipeline": {"id": int(match["pipeline"]), "name": "train"},
                      "url": f"{self.url}/_apis/pipelines/{match['pipeline']}/runs/77"}  # fmt: skip
            jsonschema.Draft4Validator(ADO_RUN_ANSWER).validate(answer)
            return "azure-devops", answer
        if path == DATABRICKS_RUN_NOW:
            jsonschema.Draft4Validator(DATABRICKS_RUN_NOW_BODY).validate(body)
            answer = {"run_id": 901, "number_in_job": 901}
            jsonschema.Draft4Validator(DATABRICKS_RUN_NOW_ANSWER).validate(answer)
            return "databricks", answer
        if path == WEBHOOK:
            jsonschema.Draft4Validator(WEBHOOK_MESSAGE).validate(body)
            return "webhook", {}
        raise ValueError(f"POST {path} is no operation of the contract")


@contextmanager
def pipelines_running() -> Iterator[FakePipelines]:
    fake = FakePipelines()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            webhook = parts.path == WEBHOOK
            if not webhook and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials"})
                return
            if fake.status:
                self._send(fake.status, {"message": "refused by the test"})
                return
            try:
                body = json.loads(raw)
                system, answer = fake.answer(parts.path, parse_qs(parts.query), body)
            except (ValueError, AssertionError, jsonschema.ValidationError) as exc:
                fake.violations.append(f"POST {parts.path}: {str(exc)[:300]}")
                self._send(400, {"message": "outside the contract"})
                return
            fake.calls.append(Call(system, parts.path, parse_qs(parts.query), body))
            self._send(200, answer)

        def _send(self, status: int, answer: Any) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        fake.url = url
        yield fake
