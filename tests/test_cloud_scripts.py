"""Each cloud's operations are scripts, written once (templates/project/scripts/<cloud>/) and
called the same way by every CI system, which keeps only the order, the approvals and its
OIDC login. The scripts read where a deploy goes from the service stack's outputs: here
those outputs are the generated stack's own, built under Pulumi mocks.

MOCK BOUNDARY: the cloud CLIs (gcloud, az, docker, pulumi, databricks) are one recording
fake on PATH; what answers the smoke test is a local HTTP server standing in for the
deployed service. Everything else (the scripts, bash, jq, curl) is real."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator._options import Combination
from generator._template import REPO_ROOT

from .conftest import MATRIX, Render, named, option_values
from .hostile import hostile_stack_outputs
from .infra.test_service_stacks import run_llm_service, run_service

DIGEST = "sha256:" + "ab" * 32
REGISTRY = "europe-west2-docker.pkg.dev/acme-ml-dev/images"
CLIS = ("gcloud", "az", "docker", "pulumi", "databricks")

FAKE_CLI = """#!/usr/bin/env python3
import json, os, sys
argv = [os.path.basename(sys.argv[0]), *sys.argv[1:]]
with open(os.environ["FAKE_CLI_LOG"], "a") as log:
    log.write(json.dumps(argv) + "\\n")
with open(os.environ["FAKE_CLI_ANSWERS"]) as answers:
    rules = json.load(answers)
for index, rule in enumerate(rules):
    if argv[: len(rule["argv"])] == rule["argv"]:
        if "write_after" in rule:
            with open(argv[argv.index(rule["write_after"]) + 1], "w") as out:
                out.write(rule["content"])
        replies = rule.get("replies", [rule.get("stdout", "")])
        counter = os.environ["FAKE_CLI_LOG"] + f".{index}"
        seen = int(open(counter).read()) if os.path.exists(counter) else 0
        with open(counter, "w") as out:
            out.write(str(seen + 1))
        sys.stdout.write(replies[min(seen, len(replies) - 1)])
        sys.exit(rule.get("exit", 0))
"""


class Clouds:
    """The fake CLIs of one test: answers by argv prefix, every call recorded."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        fake = self.bin / "fake-cli"
        fake.write_text(FAKE_CLI)
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
        for name in CLIS:
            (self.bin / name).symlink_to(fake)
        self.log = root / "calls.jsonl"
        self.answers = root / "answers.json"
        self.rules: list[dict[str, Any]] = []

    def answer(self, *argv: str, **rule: Any) -> None:
        self.rules.append({"argv": list(argv), **rule})

    def env(self, **extra: str) -> dict[str, str]:
        self.answers.write_text(json.dumps(self.rules))
        return {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOME": str(self.bin.parent),
            "FAKE_CLI_LOG": str(self.log),
            "FAKE_CLI_ANSWERS": str(self.answers),
            **extra,
        }

    def calls(self, name: str | None = None) -> list[list[str]]:
        if not self.log.exists():
            return []
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [c for c in calls if name is None or c[0] == name]


@pytest.fixture
def clouds(tmp_path: Path) -> Clouds:
    return Clouds(tmp_path)


class Deployed(BaseHTTPRequestHandler):
    """The deployed service, as the smoke test meets it."""

    seen: ClassVar[list[tuple[str, str | None]]] = []
    extraction: bytes = b'{"result": {"instrument": "IRS"}, "prompt": {"version": 3}}'

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        self._reply(200, b'{"status": "ready"}' if self.path == "/readyz" else b"{}")

    def do_POST(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._reply(200, self.extraction)

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[tuple[str, type[Deployed]]]:
    handler = type("Handler", (Deployed,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


def bash(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def with_outputs(project: Path, outputs: dict[str, Any]) -> Path:
    (project / "service-stack.json").write_text(json.dumps(outputs))
    return project


def copy(project: Path, tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(project, target)
    return target


# The operations every CI system calls; a cloud offers all that apply to the project.
OPERATIONS = {"login.sh", "build-push.sh", "mlflow-token.sh"}


@pytest.mark.parametrize("serving", ["fastapi", "none"])
def test_every_cloud_offers_the_same_operations(rendered: Render, serving: str) -> None:
    shape = "job" if serving == "none" else "service"
    offered = {}
    for cloud in option_values("cloud"):
        project = rendered(cloud=cloud, serving=serving, databricks=True)
        offered[cloud] = {p.name for p in (project / "scripts" / cloud).glob("*.sh")}
        others = [c for c in option_values("cloud") if c != cloud]
        assert not any((project / "scripts" / other).exists() for other in others)
    expected = OPERATIONS | {f"deploy-{shape}.sh", "databricks-auth.sh"}
    assert all(names == expected for names in offered.values()), offered


# A cloud-specific command: what no CI file may run itself (only scripts/<cloud>/ do).
CLOUD_COMMAND = re.compile(
    r"(^|[\s;&|(])(gcloud|gsutil|az|docker|kubectl)\s|pulumi (up|preview|login|stack)"
    r"|databricks bundle|create-cred-config|/readyz"
)


def ci_script_blocks(project: Path) -> dict[str, str]:
    from generator._validate import (
        _script_blocks,
        ado_files,
        gitlab_files,
        gitlab_scripts,
        workflow_files,
    )

    blocks: dict[str, str] = {}
    for path in workflow_files(project):
        for index, body in enumerate(_script_blocks(yaml.safe_load(path.read_text()), ("run",))):
            blocks[f"{path.name}#{index}"] = body
    for path in ado_files(project):
        keys = ("bash", "script", "inlineScript")
        for index, body in enumerate(_script_blocks(yaml.safe_load(path.read_text()), keys)):
            blocks[f"{path.name}#{index}"] = body
    for path in gitlab_files(project):
        for index, body in enumerate(gitlab_scripts(path)):
            blocks[f"{path.name}#{index}"] = body
    return blocks


@pytest.mark.slow
@pytest.mark.parametrize("answers", MATRIX, ids=named)
def test_no_ci_file_runs_a_cloud_command(rendered: Render, answers: Combination) -> None:
    project = rendered(**answers)
    blocks = ci_script_blocks(project)
    assert blocks
    offenders = {where: body for where, body in blocks.items() if CLOUD_COMMAND.search(body)}
    assert offenders == {}
    # Every script a CI file names is in the project.
    text = "\n".join(blocks.values())
    for script in set(re.findall(r"scripts/[\w/.-]+\.sh", text)):
        assert (project / script).is_file(), script


# Each cloud operation's command, and the one template file allowed to hold it.
WRITTEN_ONCE = {
    "gcloud run deploy": "scripts/gcp/deploy-service.sh",
    "gcloud run jobs update": "scripts/gcp/deploy-job.sh",
    "gcloud auth configure-docker": "scripts/gcp/build-push.sh",
    "create-cred-config": "scripts/gcp/login.sh",
    "az containerapp update": "scripts/azure/deploy-service.sh",
    "gcloud run services update-traffic": "scripts/gcp/deploy-service.sh",
    "az containerapp ingress traffic set": "scripts/azure/deploy-service.sh",
    "goldpath_runtime.serving.canary": "scripts/canary.sh",
    "az containerapp job update": "scripts/azure/deploy-job.sh",
    "az acr login": "scripts/azure/build-push.sh",
    "az login": "scripts/azure/login.sh",
    "docker buildx build": "scripts/build-image.sh",
    "pulumi up": "scripts/service-stack.sh",
    'databricks bundle "$': "scripts/databricks-bundle.sh",
    "--retry-all-errors": "scripts/smoke-test.sh.jinja",
    "DATABRICKS_AUTH_TYPE=": None,  # one per cloud: scripts/<cloud>/databricks-auth.sh
    '"PROVIDER":': None,  # one per cloud: goldpath_infra/<cloud>/service_stack.py
}


def test_each_cloud_operation_is_written_once() -> None:
    # Code only: the READMEs may name a command to explain it.
    tree = [
        p for p in (REPO_ROOT / "templates").rglob("*")
        if p.is_file() and not p.name.startswith("README") and p.suffix != ".md"
    ]  # fmt: skip
    infra = [p for p in (REPO_ROOT / "infra" / "goldpath_infra").rglob("*.py")]
    for command, home in WRITTEN_ONCE.items():
        holders = sorted(
            str(p.relative_to(REPO_ROOT)) for p in [*tree, *infra] if command in p.read_text()
        )
        if home is None:
            assert len(holders) == len(option_values("cloud")), (command, holders)
            assert all(
                f"/{cloud}/" in holder
                for cloud, holder in zip(sorted(option_values("cloud")), holders, strict=True)
            ), (command, holders)
        else:
            assert holders == [f"templates/project/{home}"], (command, holders)


def stack_outputs(rendered: Render, cloud: str, kind: str, serving: str) -> dict[str, Any]:
    """The outputs the generated service stack really exports, built under mocks."""
    if kind == "llm":
        recording = run_llm_service(rendered, cloud, "dev")
    else:
        recording = run_service(rendered, cloud, "dev", serving=serving)
    return dict(recording.stack_outputs)


@pytest.mark.parametrize("kind", ["tabular", "llm"])
@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_deploy_rolls_the_digest_out_to_what_the_stack_exports_then_smoke_tests(
    rendered: Render,
    clouds: Clouds,
    service: tuple[str, type[Deployed]],
    tmp_path: Path,
    cloud: str,
    kind: str,
) -> None:
    url, seen = service
    outputs = stack_outputs(rendered, cloud, kind, "fastapi")
    project = with_outputs(copy(rendered(cloud=cloud, project_kind=kind), tmp_path), outputs)
    image = f"{REGISTRY}/project@{DIGEST}"
    if cloud == "gcp":
        clouds.answer("gcloud", "run", "services", "describe", stdout=url + "\n")
        clouds.answer("gcloud", "auth", "print-identity-token", stdout="id-token-of-deployer\n")
    else:
        clouds.answer("az", "containerapp", "show", stdout=url.removeprefix("http://") + "\n")
    env = clouds.env(IMAGE_REGISTRY=REGISTRY)
    if cloud == "azure":
        # The app's FQDN is https in Azure; the stand-in listens on plain http.
        script = project / "scripts" / "azure" / "deploy-service.sh"
        script.write_text(script.read_text().replace('"https://${fqdn}"', '"http://${fqdn}"'))
    done = bash(project, env, f"scripts/{cloud}/deploy-service.sh", DIGEST)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("url=")
    assert done.stdout.count("\n") == 1, "only the outputs on stdout"
    if cloud == "gcp":
        [deploy] = [c for c in clouds.calls("gcloud") if c[1:3] == ["run", "deploy"]]
        assert deploy[3] == outputs["serviceName"]
        assert deploy[deploy.index("--image") + 1] == image
        assert deploy[deploy.index("--region") + 1] == outputs["region"]
        assert deploy[deploy.index("--project") + 1] == outputs["project"]
        [token] = [c for c in clouds.calls("gcloud") if "print-identity-token" in c]
        assert f"--impersonate-service-account={outputs['deployerServiceAccount']}" in token
        assert f"--audiences={url}" in token
        bearer = "Bearer id-token-of-deployer"
    else:
        [update] = [c for c in clouds.calls("az") if c[1:3] == ["containerapp", "update"]]
        assert update[update.index("--name") + 1] == outputs["serviceName"]
        assert update[update.index("--resource-group") + 1] == outputs["resourceGroup"]
        assert update[update.index("--image") + 1] == image
        bearer = None
    paths = [path for path, _ in seen.seen]
    assert paths[0] == "/readyz"
    assert ("/extract" in paths) is (kind == "llm")
    assert {auth for _, auth in seen.seen} == {bearer}


class Metrics(Deployed):
    """MOCK BOUNDARY: the managed Prometheus' query API (/api/v1/query), answering for each
    revision as configured: requests, errors and p99 over the window."""

    revisions: ClassVar[dict[str, tuple[float, float, float]]] = {}
    queries: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(self.path).query)["query"][0]
        self.queries.append((query, self.headers.get("Authorization")))
        [(requests, errors, p99)] = [v for k, v in self.revisions.items() if f'"{k}"' in query]
        value = p99 if "histogram_quantile" in query else errors if "5.." in query else requests
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {}, "value": [1733380000, str(value)]}]}}).encode()  # fmt: skip
        self._reply(200, body)


@pytest.fixture
def metrics() -> Iterator[tuple[str, type[Metrics]]]:
    handler = type("Handler", (Metrics,), {"revisions": {}, "queries": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


@pytest.mark.parametrize("verdict", ["promote", "rollback"])
@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_a_canary_is_promoted_or_rolled_back_by_its_analysis(
    rendered: Render, clouds: Clouds, service: tuple[str, type[Deployed]],
    metrics: tuple[str, type[Metrics]], tmp_path: Path, cloud: str, verdict: str,
) -> None:  # fmt: skip
    url, _ = service
    prometheus, answered = metrics
    stable, canary = "svc-00001-abc", "svc-00002-def"
    answered.revisions.update({stable: (400, 0, 0.05),
                               canary: (60, 0 if verdict == "promote" else 9, 0.05)})  # fmt: skip
    outputs = stack_outputs(rendered, cloud, "tabular", "fastapi")
    project = with_outputs(copy(rendered(cloud=cloud), tmp_path), outputs)
    script = project / "scripts" / cloud / "deploy-service.sh"
    script.write_text(script.read_text().replace('"https://${fqdn}"', '"http://${fqdn}"'))
    if cloud == "gcp":
        clouds.answer("gcloud", "run", "services", "describe",
                      replies=[stable + "\n", canary + "\n", url + "\n"])  # fmt: skip
        clouds.answer("gcloud", "auth", "print-identity-token", stdout="id-token\n")
        clouds.answer("gcloud", "auth", "print-access-token", stdout="metrics-token\n")
    else:
        clouds.answer("az", "containerapp", "show",
                      replies=[stable + "\n", canary + "\n", url.removeprefix("http://") + "\n"])  # fmt: skip
        clouds.answer("az", "account", "get-access-token", stdout="metrics-token\n")
    env = clouds.env(IMAGE_REGISTRY=REGISTRY, CANARY_PERCENT="10", CANARY_WINDOW_S="1",
                     PROMETHEUS_URL=prometheus, CANARY_PYTHON=sys.executable)  # fmt: skip
    done = bash(project, env, f"scripts/{cloud}/deploy-service.sh", DIGEST)
    assert (done.returncode == 0) is (verdict == "promote"), done.stderr
    assert ("url=" in done.stdout) is (verdict == "promote")
    assert {auth for _, auth in answered.queries} == {"Bearer metrics-token"}
    if cloud == "gcp":
        traffic = [c[c.index("update-traffic") + 1 :] for c in clouds.calls("gcloud")
                   if "update-traffic" in c]  # fmt: skip
        [deploy] = [c for c in clouds.calls("gcloud") if c[1:3] == ["run", "deploy"]]
        assert "--no-traffic" in deploy, "the new revision starts with no traffic"
        split = [t[t.index("--to-revisions") + 1] for t in traffic if "--to-revisions" in t]
        assert split[0] == f"{canary}=10,{stable}=90"
        if verdict == "promote":
            assert "--to-latest" in traffic[-1]
        else:
            assert split[-1] == f"{stable}=100"
    else:
        weights = [c[c.index("--revision-weight") + 1 : c.index("--output")]
                   for c in clouds.calls("az") if "--revision-weight" in c]  # fmt: skip
        assert weights[0] == [f"{stable}=100"], "pinned before the new revision exists"
        assert weights[1] == [f"{stable}=90", f"{canary}=10"]
        assert weights[-1] == (["latest=100"] if verdict == "promote" else [f"{stable}=100"])
    if verdict == "rollback":
        assert f"the canary {canary} was rolled back to {stable}" in done.stderr
        assert "error rate" in done.stderr


@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_a_failing_smoke_test_fails_the_deploy(
    rendered: Render, clouds: Clouds, tmp_path: Path, cloud: str
) -> None:
    outputs = stack_outputs(rendered, cloud, "tabular", "fastapi")
    project = with_outputs(copy(rendered(cloud=cloud), tmp_path), outputs)
    dead = "http://127.0.0.1:9"  # discard port: nothing answers
    clouds.answer("gcloud", "run", "services", "describe", stdout=dead + "\n")
    clouds.answer("az", "containerapp", "show", stdout="127.0.0.1:9\n")
    script = project / "scripts" / cloud / "deploy-service.sh"
    script.write_text(script.read_text().replace('"https://${fqdn}"', '"http://${fqdn}"'))
    env = clouds.env(IMAGE_REGISTRY=REGISTRY, SMOKE_RETRIES="0")
    done = bash(project, env, f"scripts/{cloud}/deploy-service.sh", DIGEST)
    assert done.returncode != 0
    assert "url=" not in done.stdout


@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_deploy_job_runs_the_smoke_execution_and_fails_with_it(
    rendered: Render, clouds: Clouds, tmp_path: Path, cloud: str
) -> None:
    outputs = stack_outputs(rendered, cloud, "tabular", "none")
    project = with_outputs(copy(rendered(cloud=cloud, serving="none"), tmp_path), outputs)
    if cloud == "azure":
        clouds.answer("az", "containerapp", "job", "start", stdout="execution-1\n")
        status = ["az", "containerapp", "job", "execution", "show"]
        clouds.answer(*status, replies=["Running\n", "Running\n", "Failed\n"])
    else:
        clouds.answer("gcloud", "run", "jobs", "execute", exit=1)
    env = clouds.env(IMAGE_REGISTRY=REGISTRY, JOB_POLL_SECONDS="0")
    done = bash(project, env, f"scripts/{cloud}/deploy-job.sh", DIGEST)
    assert done.returncode == 1
    if cloud == "gcp":
        [update] = [c for c in clouds.calls("gcloud") if c[1:4] == ["run", "jobs", "update"]]
        assert update[4] == outputs["jobName"]
        assert update[update.index("--project") + 1] == outputs["project"]
        [execute] = [c for c in clouds.calls("gcloud") if c[1:4] == ["run", "jobs", "execute"]]
        assert "--wait" in execute
        assert "--args=smoke" in execute
    else:
        assert "ended Failed" in done.stderr
        polls = [c for c in clouds.calls("az") if c[1:5] == ["containerapp", "job", "execution", "show"]]  # fmt: skip
        assert len(polls) == 3
        [update] = [c for c in clouds.calls("az") if c[1:4] == ["containerapp", "job", "update"]]
        assert update[update.index("--resource-group") + 1] == outputs["resourceGroup"]


@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_build_push_logs_in_to_the_registry_and_prints_the_pushed_digest(
    rendered: Render, clouds: Clouds, tmp_path: Path, cloud: str
) -> None:
    project = copy(rendered(cloud=cloud), tmp_path)
    metadata = json.dumps({"containerimage.digest": DIGEST})
    clouds.answer("docker", "buildx", "build", write_after="--metadata-file", content=metadata)
    done = bash(
        project, clouds.env(IMAGE_REGISTRY=REGISTRY), f"scripts/{cloud}/build-push.sh", "0a1b2c"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"digest={DIGEST}\n"
    [build] = [c for c in clouds.calls("docker") if c[1:3] == ["buildx", "build"]]
    assert build[build.index("--tag") + 1] == f"{REGISTRY}/project:0a1b2c"
    assert "--push" in build
    assert build[build.index("--provenance") + 1] == "mode=max"
    login = {"gcp": ["gcloud", "auth", "configure-docker"], "azure": ["az", "acr", "login"]}[cloud]
    calls = clouds.calls()
    assert calls.index(next(c for c in calls if c[:3] == login)) < calls.index(build)
    bad = bash(
        project, clouds.env(IMAGE_REGISTRY=REGISTRY), f"scripts/{cloud}/build-push.sh", "--x"
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "not an image tag" in bad.stderr


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(digest=st.one_of(
    st.text(max_size=80),
    st.from_regex(r"sha256:[0-9a-f]{60,70}", fullmatch=True),
    st.builds(lambda s: f"sha256:{'a' * 64}{s}", st.text(min_size=1, max_size=5)),
))  # fmt: skip
def test_a_digest_is_one_shape_or_refused_in_one_line(rendered: Render, digest: str) -> None:
    project = rendered()
    if "\x00" in digest:
        return  # not passable as an argument at all
    done = subprocess.run(
        ["bash", "scripts/image.sh", digest], cwd=project, capture_output=True, text=True,
        env={"PATH": os.environ["PATH"], "IMAGE_REGISTRY": REGISTRY},
    )  # fmt: skip
    if re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        assert done.returncode == 0
        assert done.stdout == f"{REGISTRY}/project@{digest}\n"
    else:
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.startswith("image.sh: the digest must be sha256:")


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (None, "service-stack.json is missing: run scripts/service-stack.sh up"),
        ({}, "exports no one-line serviceName"),
        ({"serviceName": "a\nb"}, "exports no one-line serviceName"),
        ({"serviceName": ["x"]}, "exports no one-line serviceName"),
    ],
)
def test_stack_outputs_are_read_or_named_missing(
    rendered: Render, tmp_path: Path, outputs: dict[str, Any] | None, message: str
) -> None:
    project = copy(rendered(), tmp_path)
    if outputs is not None:
        with_outputs(project, outputs)
    done = bash(project, {"PATH": os.environ["PATH"]}, "scripts/stack-output.sh", "serviceName")
    assert done.returncode != 0
    assert message in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_the_gate_reads_the_provider_the_service_stack_exports(
    rendered: Render, clouds: Clouds, tmp_path: Path, cloud: str
) -> None:
    outputs = stack_outputs(rendered, cloud, "llm", "fastapi")
    project = copy(rendered(cloud=cloud, project_kind="llm"), tmp_path)
    clouds.answer(
        "pulumi", "stack", "output", "providerEnv", stdout=json.dumps(outputs["providerEnv"])
    )
    done = bash(project, clouds.env(PULUMI_BACKEND_URL="gs://state"), "scripts/provider-env.sh")
    assert done.returncode == 0, done.stderr
    settings_ = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert settings_["PROVIDER"] == {"gcp": "vertex", "azure": "azure-openai"}[cloud]
    assert settings_["PROVIDER_MODEL"] == outputs["llmModel"]
    [login] = clouds.calls("pulumi")[:1]
    assert login == ["pulumi", "login", "gs://state"]


@pytest.mark.parametrize(
    "exported",
    [
        {"PROVIDER": "vertex\nBASH_ENV=/tmp/x"},
        {"bad key": "x"},
        {"LD_PRELOAD=x": "y"},
        {"PROVIDER": 3},
        {},
        ["PROVIDER=vertex"],
    ],
)
def test_provider_settings_that_would_inject_are_refused(
    rendered: Render, clouds: Clouds, tmp_path: Path, exported: Any
) -> None:
    project = copy(rendered(project_kind="llm"), tmp_path)
    clouds.answer("pulumi", "stack", "output", "providerEnv", stdout=json.dumps(exported))
    done = bash(project, clouds.env(PULUMI_BACKEND_URL="gs://state"), "scripts/provider-env.sh")
    assert done.returncode != 0
    assert "=" not in done.stdout


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(exported=hostile_stack_outputs)
def test_provider_settings_are_name_value_lines_or_refused(
    rendered: Render, tmp_path_factory: pytest.TempPathFactory, exported: dict[str, Any]
) -> None:
    """Whatever the stack exports lands in a CI system's environment file as one
    NAME=value line per setting, or nothing at all (tests/hostile.py's catalogue)."""
    clouds = Clouds(tmp_path_factory.mktemp("clouds"))
    clouds.answer("pulumi", "stack", "output", "providerEnv", stdout=json.dumps(exported))
    project = rendered(project_kind="llm")
    done = bash(project, clouds.env(PULUMI_BACKEND_URL="gs://state"), "scripts/provider-env.sh")
    usable = bool(exported) and all(
        re.fullmatch(r"[A-Z][A-Z0-9_]{0,63}", key) and isinstance(value, str)
        and re.fullmatch(r"[^\n\r]{1,2048}", value)
        for key, value in exported.items()
    )  # fmt: skip
    if usable:
        assert done.returncode == 0, done.stderr
        # Lines as an environment file has them: split at "\n" only.
        assert done.stdout.split("\n") == [*(f"{k}={v}" for k, v in exported.items()), ""]
    else:
        assert done.returncode != 0
        assert done.stdout == ""


def test_service_stack_applies_then_keeps_its_outputs(
    rendered: Render, clouds: Clouds, tmp_path: Path
) -> None:
    project = copy(rendered(), tmp_path)
    clouds.answer("pulumi", "stack", "output", stdout='{"serviceName": "project-dev"}')
    env = clouds.env(PULUMI_BACKEND_URL="gs://state", PULUMI_SECRETS_PROVIDER="gcpkms://k")
    done = bash(project, env, "scripts/service-stack.sh", "up", "dev")
    assert done.returncode == 0, done.stderr
    assert json.loads((project / "service-stack.json").read_text()) == {
        "serviceName": "project-dev"
    }
    commands = [c[1] for c in clouds.calls("pulumi")]
    assert commands == ["login", "install", "stack", "up", "stack"]
    for args in (["apply", "dev"], ["up", "qa"], ["up", "--stack=prod"], []):
        refused = bash(project, env, "scripts/service-stack.sh", *args)
        assert refused.returncode == 2, args
        assert refused.stderr.count("\n") == 1


@pytest.mark.parametrize("identity", ["deployer", "trainer", "owner"])
def test_gcp_login_exchanges_the_ci_token_for_one_service_account(
    rendered: Render, clouds: Clouds, tmp_path: Path, identity: str
) -> None:
    project = copy(rendered(cloud="gcp"), tmp_path)
    env = clouds.env(
        OIDC_TOKEN="header.payload.signature",
        CI_IDENTITY=identity,
        GCP_WORKLOAD_IDENTITY_PROVIDER="projects/1/locations/global/workloadIdentityPools/p/providers/ado",
        GCP_DEPLOYER_SERVICE_ACCOUNT="deployer@p.iam.gserviceaccount.com",
        GCP_TRAINER_SERVICE_ACCOUNT="trainer@p.iam.gserviceaccount.com",
    )
    done = bash(
        project, env, "-c",
        'set -euo pipefail; source scripts/gcp/login.sh; stat -c %a "$(dirname "$GOOGLE_APPLICATION_CREDENTIALS")/oidc-token.jwt"',
    )  # fmt: skip
    if identity == "owner":
        assert done.returncode == 2
        assert "CI_IDENTITY is deployer or trainer, not 'owner'" in done.stderr
        assert clouds.calls() == []
        return
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "600"  # the token file is the job's alone
    [config, login] = clouds.calls("gcloud")
    assert f"--service-account={identity}@p.iam.gserviceaccount.com" in config
    assert login[:3] == ["gcloud", "auth", "login"]
