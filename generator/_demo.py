"""`goldpath demo`: the whole golden path on local defaults, end to end.

Scaffold a project with default answers, then in it: install (uv), train, register,
promote, start the real service, score examples/request.json over HTTP, stop the service.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from ._errors import GoldpathError
from ._location import locate
from ._process import git_commit_all, project_env, run, uv
from ._template import render


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


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


def run_demo(destination: Path, template: str | None = None) -> dict[str, Any]:
    """Run the demo into `destination`; returns the prediction the service gave."""
    if destination.exists() and any(destination.iterdir()):
        raise GoldpathError(
            f"{destination} already exists and is not empty: remove it or pass another path"
        )
    uv_bin = uv()
    _step(f"Scaffolding a project with default answers into {destination}")
    location = locate(template)
    render(destination, template=location.source, vcs_ref=location.default_ref)
    git_commit_all(destination, "Start from goldpath")
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    package = answers["project_slug"]

    _step("Installing the project's environment (uv sync)")
    run([uv_bin, "sync", "--quiet"], destination, what="uv sync")
    for action in ("train", "promote"):
        _step(f"{action.capitalize()} ({package} {action})")
        out = run([uv_bin, "run", "python", "-m", package, action], destination, what=action)
        print("    " + out.strip().replace("\n", "\n    "))

    port = _free_port()
    _step(f"Starting the service on http://127.0.0.1:{port}")
    log_path = destination / ".mlflow" / "demo-server.log"
    with log_path.open("wb") as log:
        # The production server (gunicorn, see the project's gunicorn.conf.py), one worker.
        command = [uv_bin, "run", "gunicorn", "--config", "gunicorn.conf.py",
                   "--bind", f"127.0.0.1:{port}", "--workers", "1",
                   f"{package}.serving.app:create_app()"]  # fmt: skip
        server = subprocess.Popen(
            command,
            cwd=destination,
            env=project_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}/readyz", server)
            _step("POST examples/request.json to /predict")
            body = (destination / "examples" / "request.json").read_bytes()
            result: dict[str, Any] = _get_json(f"http://127.0.0.1:{port}/predict", body)
            print(
                f"    prediction={result['prediction']} probability={result['probability']:.3f} "
                f"model_version={result['model_version']}"
            )
        finally:
            _step("Stopping the service")
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    _step(f"Done. The project is in {destination}: cd there and run `make help`.")
    return result
