"""`goldpath demo`: the whole golden path on local defaults, end to end.

Scaffold a project with default answers (and any `--data`), then in it: install (uv),
register and promote (a trained model, or for `project_kind=llm` a prompt that passed the
evaluation gate), start the real service (with the fake LLM provider beside it for the LLM
kind), call it with examples/request.json over HTTP, stop everything.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from ._errors import GoldpathError
from ._location import locate
from ._options import load_questions
from ._process import git_commit_all, project_env, run, uv
from ._questions import check_answers, check_applicable
from ._runtime import local_runtime_env
from ._template import render
from ._vcs import check_not_nested


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


@contextmanager
def _still_working(every_s: float = 10.0) -> Iterator[None]:
    """A line every `every_s` while a long quiet step runs, so a first run that downloads
    for a minute does not look hung."""
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(every_s):
            print(f"    ... {time.monotonic() - started:.0f} s", flush=True)

    ticker = threading.Thread(target=tick, name="demo-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get_json(url: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - a loopback URL we built
        url, data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise GoldpathError(f"the service exited with code {process.returncode} before ready")
        try:
            _get_json(url)
            return
        except OSError:
            time.sleep(0.5)
    raise GoldpathError(f"the service was not ready after {timeout:.0f}s")


# What the demo runs, per project kind: the registering steps, the route it calls, and
# how it prints the answer.
KINDS = {
    "tabular": (("train", "promote"), "/predict"),
    "llm": (("eval", "promote"), "/extract"),
}


def _summary(kind: str, result: dict[str, Any]) -> str:
    if kind == "llm":
        fields = ", ".join(f"{k}={v}" for k, v in result["result"].items())
        prompt = result["prompt"]
        usage = result["usage"]
        return (
            f"{fields}\n    prompt={prompt['name']} v{prompt['version']} model={result['model']} "
            f"tokens in/out={usage['tokens_in']}/{usage['tokens_out']}"
        )
    return (
        f"prediction={result['prediction']} probability={result['probability']:.3f} "
        f"model_version={result['model_version']}"
    )


def run_demo(
    destination: Path, template: str | None = None, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run the demo into `destination`; returns the answer the service gave."""
    if destination.exists() and any(destination.iterdir()):
        raise GoldpathError(
            f"{destination} already exists and is not empty: remove it or pass another path"
        )
    check_not_nested(destination)
    location = locate(template)
    answers_given = dict(data or {})
    if location.local is not None:
        answers_given = check_answers(answers_given, load_questions(location.local))
        check_applicable(answers_given, location.local)
    uv_bin = uv()
    if location.local is not None:
        # The project runs on this checkout's goldpath-runtime: the template it came from.
        os.environ.update(local_runtime_env())
    shown = "".join(f" {k}={v}" for k, v in answers_given.items())
    _step(f"Scaffolding a project into {destination}: default answers{shown}")
    render(destination, template=location.source, data=answers_given, vcs_ref=location.default_ref)
    git_commit_all(destination, "Start from goldpath")
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    package = answers["project_slug"]
    kind = answers.get("project_kind", "tabular")
    if kind not in KINDS:
        raise GoldpathError(f"project_kind {kind!r} has no demo: add it to KINDS in _demo.py")
    actions, route = KINDS[kind]

    _step("Installing the project's environment (uv sync)")
    with _still_working():
        run([uv_bin, "sync", "--quiet"], destination, what="uv sync")
    # Every promotion records who approved it and why (the project's governance.py); the
    # demo says so in its own name, and stands in as the validator a high risk tier needs.
    approval = {"APPROVER": "goldpath-demo", "REASON": "goldpath demo: the first model",
                "VALIDATOR": "goldpath-demo-validator"}  # fmt: skip
    for action in actions:
        _step(f"{action.capitalize()} ({package} {action})")
        out = run(
            [uv_bin, "run", "python", "-m", package, action], destination, what=action,
            env={**project_env(), **approval} if action == "promote" else None,
        )  # fmt: skip
        print("    " + out.strip().replace("\n", "\n    "))

    port = _free_port()
    env = project_env()
    helpers: list[subprocess.Popen[bytes]] = []
    log_path = destination / ".mlflow" / "demo-server.log"
    if kind == "llm":
        fake_port = _free_port()
        _step(f"Starting the fake LLM provider on http://127.0.0.1:{fake_port}")
        env["PROVIDER_URL"] = f"http://127.0.0.1:{fake_port}/v1"
        helpers.append(
            subprocess.Popen(
                [
                    uv_bin,
                    "run",
                    "python",
                    "-m",
                    f"{package}.fake_provider",
                    "--port",
                    str(fake_port),
                ],
                cwd=destination,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        )
    _step(f"Starting the service on http://127.0.0.1:{port}")
    # The project's one service module (serving/<kind>_app.py), whichever kind it is.
    [app] = (destination / "src" / package / "serving").glob("*_app.py")
    with log_path.open("wb") as log:
        # The production server (gunicorn, see the project's gunicorn.conf.py), one worker.
        command = [uv_bin, "run", "gunicorn", "--config", "gunicorn.conf.py",
                   "--bind", f"127.0.0.1:{port}", "--workers", "1",
                   f"{package}.serving.{app.stem}:create_app()"]  # fmt: skip
        server = subprocess.Popen(
            command,
            cwd=destination,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}/readyz", server)
            _step(f"POST examples/request.json to {route}")
            body = (destination / "examples" / "request.json").read_bytes()
            result: dict[str, Any] = _get_json(f"http://127.0.0.1:{port}{route}", body)
            print("    " + _summary(kind, result))
        finally:
            _step("Stopping the service")
            for process in (server, *helpers):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
    _step(f"Done. The project is in {destination}: cd there and run `make help`.")
    return result
