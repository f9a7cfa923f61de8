"""Servers under measurement: started with their output in a log, waited for until every
worker is ready, stopped with SIGTERM (SIGKILL after 30 s); their memory read from /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

# The HTTP ceiling: a no-op ASGI app on the same server and settings as the service.
CEILING_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body",
                "body": b'{"model_version": "0", "prediction": 1, "probability": 0.5}'})
"""
# The same for a WSGI service (the Flask variant's gevent workers).
WSGI_CEILING_APP = """
def app(environ, start_response):
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"model_version": "0", "prediction": 1, "probability": 0.5}']
"""
# What a worker of the serving shell logs once it serves (goldpath_runtime.serving).
READY_LINE = "model loaded"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(tracking_uri: str, workers: int, **extra: str) -> dict[str, str]:
    """The environment every measured server gets: one BLAS thread per worker."""
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "WEB_CONCURRENCY": str(workers),
        **extra,
    }


def start(
    command: list[str], env: Mapping[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    # Its own process group, so `stop` reaches what it starts too: `uv tool run` leaves
    # MLServer running when only uv is signalled.
    with log.open("wb") as handle:
        return subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL to what is left after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their parent


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
            return bool(answer.status == 200)
    except OSError:
        return False


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, ready_lines: int = 0,
    timeout: float = 300,
) -> None:  # fmt: skip
    """Until `url` answers 200 and `ready_lines` workers logged READY_LINE (the first 200
    only says one worker is ready). A peer's first start may download it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server for {url} exited with code {process.returncode}: see {log}")
        if log.read_text(errors="replace").count(READY_LINE) >= ready_lines and _answers(url):
            return
        time.sleep(0.3)
    sys.exit(f"{url} not up after {timeout}s: see {log}")


def ready_everywhere(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until `url` has answered 200 twenty times in a row: every worker is ready (each
    connection lands on whichever worker accepts it first)."""
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 20:
        if process.poll() is not None:
            sys.exit(f"server for {url} exited with code {process.returncode}")
        if time.monotonic() > deadline:
            sys.exit(f"{url} not ready after {timeout}s")
        if _answers(url):
            streak += 1
        else:
            streak = 0
            time.sleep(0.2)


def time_to_ready(
    command: list[str], env: Mapping[str, str], marker: str, workers: int, ready_url: str,
    log: Path, cwd: Path | None = None, timeout: float = 180,
) -> float:  # fmt: skip
    """Seconds from Popen until `marker` was logged `workers` times and `ready_url` is 200."""
    started = time.perf_counter()
    process = start(command, env, log, cwd)
    try:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                sys.exit(f"server exited with code {process.returncode}: see {log}")
            if log.read_text(errors="replace").count(marker) >= workers and _answers(ready_url):
                return time.perf_counter() - started
            time.sleep(0.005)
        sys.exit(f"not ready after {timeout}s: see {log}")
    finally:
        stop(process)


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc (gunicorn's master and workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_mib(pids: list[int]) -> float:
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024
