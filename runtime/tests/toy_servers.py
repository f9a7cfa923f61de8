"""The toy service under a real gunicorn (as a project's image runs it), on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_ports import free_port

HERE = Path(__file__).parent
LOADED = '"model loaded"'
# The extraction service of the example project (trade_project.py), as its image runs it.
EXTRACTION_APP = "trade_project:create_app()"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    workers: int
    loaded: str = LOADED  # the line each worker logs once what it serves is loaded

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 60) -> dict[str, Any]:
        """The /readyz body once it is 200, and every worker has loaded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "server exited:\n" + self.log_text()[-3000:]
            if self.log_text().count(self.loaded) >= self.workers:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as response:  # noqa: S310
                    return json.loads(response.read())  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"not ready after {timeout}s:\n" + self.log_text()[-3000:])

    def post(self, path: str, payload: Any, timeout: float = 10) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(  # noqa: S310
            self.url(path), data=json.dumps(payload).encode(),
            headers={"content-type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def wait_exit(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def workers_pids(self) -> list[int]:
        master = self.process.pid
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def start(
    shell: str,
    workdir: Path,
    workers: int = 2,
    env: dict[str, str] | None = None,
    app: str = "toy_service:create_app()",
) -> Server:
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "TOY_SHELL": shell,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        **(env or {}),
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "gunicorn", "--config", str(HERE / "toy_gunicorn.conf.py"),
               app]  # fmt: skip
    log_path = workdir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=workdir, env=environment, stdout=log, stderr=log)
    loaded = '"prompt loaded"' if app == EXTRACTION_APP else LOADED
    return Server(process, port, log_path, workers, loaded)


def status_of_oversized_headers(server: Server, size: int = 4 << 20) -> int:
    """The status a request with `size` bytes of headers gets (0: the connection closed)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        head = b"GET /healthz HTTP/1.1\r\nHost: test\r\n"
        filler = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"a" * 4000) for n in range(size // 4000))
        with contextlib.suppress(OSError):  # refused mid-send: the answer may be waiting
            connection.sendall(head + filler + b"\r\n")
        try:
            line = connection.recv(64).split(b"\r\n", 1)[0]
        except OSError:
            return 0
    return int(line.split()[1]) if line.startswith(b"HTTP/") else 0


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def kill_all(server: Server) -> None:
    """SIGKILL every worker, then the master: no graceful stop, no flush."""
    for pid in server.workers_pids():
        os.kill(pid, signal.SIGKILL)
    server.process.send_signal(signal.SIGKILL)
    assert server.process.wait(timeout=30) == -signal.SIGKILL


def fuzz(server: Server, mode: Any, examples: int = 30) -> None:
    """Requests generated from the server's own OpenAPI document in `mode` (schemathesis'
    GenerationMode): valid bodies must be accepted, invalid ones refused with a documented
    4xx, and none may get a 5xx."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        negative_data_rejection,
        positive_data_acceptance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(server.url("/openapi.json"))

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples, deadline=None, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def call(case: Any) -> None:
        case.call_and_validate(
            checks=[
                not_a_server_error,
                status_code_conformance,
                positive_data_acceptance,
                negative_data_rejection,
            ]
        )

    call()
