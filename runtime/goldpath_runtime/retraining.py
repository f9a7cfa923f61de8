"""Starting the training pipeline from a monitor, and raising its alert.

A drift breach calls the one trigger the project configured (RETRAIN_TRIGGER):

- `github`: GitHub Actions' `workflow_dispatch` of the training workflow
  (`POST /repos/{owner}/{repo}/actions/workflows/{file}/dispatches`), with the job's token
  (GITHUB_TOKEN or GH_TOKEN);
- `azure-devops`: a run of the training pipeline (Pipelines - Runs - Run Pipeline,
  api-version 7.1), with SYSTEM_ACCESSTOKEN or AZURE_DEVOPS_TOKEN;
- `databricks`: a run of the bundle's training job (Jobs API `run-now`), authenticated as
  the Databricks SDK is where the monitor runs (the job's own identity on Databricks).

Every one of them only trains and registers a `@challenger`: promotion stays a person's
decision. The reason sent is built from the report (feature names and figures), bounded,
and only ever travels as a JSON value: the pipeline's `trigger` input (parameter), which
its training run records on the version it registers (TRAINING_TRIGGER). The alert
(ALERT_WEBHOOK_URL, an incoming webhook of the team's channel) gets one line of text; the
same line is logged at ERROR with `alert` set, for log-based alerting.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .endpoints import https_or_loopback
from .errors import ProjectError

log = logging.getLogger(__name__)

TRIGGERS = ("none", "github", "azure-devops", "databricks")
REASON_MAX_CHARS = 500
ANSWER_MAX_BYTES = 1 << 20
TIMEOUT_S = 20.0
_GITHUB_PIPELINE = re.compile(
    r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}\.ya?ml"
)
# Azure DevOps project names may hold spaces, never a slash or a control character.
_ADO_PIPELINE = re.compile(r"[^/\x00-\x1f\x7f]{1,64}/\d{1,9}")
_REF = re.compile(r"[A-Za-z0-9_./-]{1,200}")


class TriggerError(ProjectError):
    """The training pipeline could not be started (the breach is still reported)."""


@dataclass(frozen=True)
class Started:
    """What a trigger started, as its system names it."""

    trigger: str
    target: str
    run: str  # the run's id or URL, when the system answers one


def api_root(url: str, name: str) -> str:
    """An API root: https, or http on this machine only (a test's fake)."""
    if not https_or_loopback(url):
        raise TriggerError(f"{name}={url[:80]!r} is not an https URL: set the API's https root")
    parsed = urllib.parse.urlsplit(url)
    if parsed.username or parsed.password or parsed.query or parsed.fragment:
        raise TriggerError(f"{name} must be a plain https URL (no credentials, query or fragment)")
    return url.rstrip("/")


def _token(env: Mapping[str, str], names: tuple[str, ...], what: str) -> str:
    for name in names:
        if env.get(name):
            return env[name]
    raise TriggerError(f"{' or '.join(names)} is not set: the {what} trigger needs the job's token")


def _post(url: str, body: dict[str, Any], headers: Mapping[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - https, or loopback (api_root)
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
            status, raw = answer.status, answer.read(ANSWER_MAX_BYTES + 1)
    except urllib.error.HTTPError as refused:
        raise TriggerError(
            f"{urllib.parse.urlsplit(url).hostname} refused to start training (HTTP "
            f"{refused.code}): check the token's permission to run the training pipeline"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as failed:
        reason = getattr(failed, "reason", failed)
        raise TriggerError(f"the training pipeline could not be reached ({reason})") from None
    if len(raw) > ANSWER_MAX_BYTES or not raw.strip():
        return status, None
    try:
        return status, json.loads(raw)
    except (ValueError, RecursionError):
        return status, None


def training_trigger(env: Mapping[str, str] = os.environ) -> str | None:
    """Why this training run was started, as its pipeline passed it on (TRAINING_TRIGGER):
    recorded on the version it registers."""
    said = reason_text(env.get("TRAINING_TRIGGER", ""))
    return said or None


def reason_text(reason: str) -> str:
    """The reason on one line, bounded, for a pipeline input and a message."""
    return " ".join(reason.split())[:REASON_MAX_CHARS]


def start_training(
    settings: Any, reason: str, env: Mapping[str, str] = os.environ
) -> Started | None:
    """Start the configured training pipeline (None: RETRAIN_TRIGGER is `none`)."""
    trigger = settings.retrain_trigger
    reason = reason_text(reason)
    if trigger == "none":
        return None
    pipeline, ref = settings.retrain_pipeline or "", settings.retrain_ref
    if not _REF.fullmatch(ref) or ".." in ref:
        raise TriggerError(f"RETRAIN_REF={ref[:80]!r} is not a branch name")
    if trigger == "github":
        if not _GITHUB_PIPELINE.fullmatch(pipeline):
            raise TriggerError("RETRAIN_PIPELINE must be OWNER/REPO/WORKFLOW.yml for github")
        owner, repo, workflow = pipeline.split("/")
        if {owner, repo} & {".", ".."}:
            raise TriggerError("RETRAIN_PIPELINE must be OWNER/REPO/WORKFLOW.yml for github")
        root = api_root(settings.retrain_api_url or "https://api.github.com", "RETRAIN_API_URL")
        token = _token(env, ("GITHUB_TOKEN", "GH_TOKEN"), "github")
        url = f"{root}/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches"
        headers = {"Authorization": f"Bearer {token}", "X-GitHub-Api-Version": "2022-11-28",
                   "Accept": "application/vnd.github+json"}  # fmt: skip
        body = {"ref": ref, "inputs": {"trigger": reason}, "return_run_details": True}
        status, answer = _post(url, body, headers)
        run = str(answer.get("html_url", "")) if isinstance(answer, dict) else ""
        return Started(trigger, pipeline, run or f"HTTP {status}")
    if trigger == "azure-devops":
        if not _ADO_PIPELINE.fullmatch(pipeline):
            raise TriggerError("RETRAIN_PIPELINE must be PROJECT/PIPELINE_ID for azure-devops")
        project, pipeline_id = pipeline.split("/")
        if project.strip() in {"", ".", ".."}:
            raise TriggerError("RETRAIN_PIPELINE must be PROJECT/PIPELINE_ID for azure-devops")
        if not settings.retrain_api_url:
            raise TriggerError(
                "RETRAIN_API_URL must name the organization: https://dev.azure.com/ORG"
            )
        root = api_root(settings.retrain_api_url, "RETRAIN_API_URL")
        token = _token(env, ("SYSTEM_ACCESSTOKEN", "AZURE_DEVOPS_TOKEN"), "azure-devops")
        url = (f"{root}/{urllib.parse.quote(project, safe='')}/_apis/pipelines/{pipeline_id}"
               "/runs?api-version=7.1")  # fmt: skip
        body = {
            "resources": {"repositories": {"self": {"refName": f"refs/heads/{ref}"}}},
            "templateParameters": {"trigger": reason},
        }
        _, answer = _post(url, body, {"Authorization": f"Bearer {token}"})
        run = str(answer.get("id", "")) if isinstance(answer, dict) else ""
        return Started(trigger, pipeline, run)
    if trigger == "databricks":
        if not pipeline.isdigit() or len(pipeline) > 20:
            raise TriggerError("RETRAIN_PIPELINE must be the training job's id for databricks")
        return Started(trigger, pipeline, _run_databricks_job(int(pipeline), reason))
    raise TriggerError(f"RETRAIN_TRIGGER={trigger!r} is not one of {', '.join(TRIGGERS)}")


def _run_databricks_job(job_id: int, reason: str) -> str:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors.base import DatabricksError

    try:
        waiter = WorkspaceClient().jobs.run_now(job_id, job_parameters={"trigger": reason})
    except (DatabricksError, ValueError, OSError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise TriggerError(f"the Databricks training job {job_id} did not start: {first}") from None
    return str(waiter.run_id)


def alert(settings: Any, text: str) -> bool:
    """Say `text` on the team's channel (ALERT_WEBHOOK_URL) and in the log; whether the
    webhook took it. A channel that is down never hides the breach: the log line and the
    monitor's exit code still carry it."""
    line = reason_text(text)
    log.error(line, extra={"alert": "drift"})
    url = settings.alert_webhook_url
    if not url:
        return False
    try:
        _post(api_root(url, "ALERT_WEBHOOK_URL"), {"text": line}, {})
    except TriggerError as exc:
        log.warning("alert channel unreachable", extra={"error": str(exc)})
        return False
    return True
