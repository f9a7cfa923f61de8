"""The serving shells under a real gunicorn, as every project's image runs them: workers,
signals, slow and stalled clients, metrics and access lines across workers, and what
cannot load. The toy service (toy_service.py) stands in for a kind's routes."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from toy_servers import HERE, Server, kill_all, read_all, start, status_of_oversized_headers

from goldpath_runtime.serving.gunicorn import cpu_limit
from goldpath_runtime.serving.loading import LOAD_FAILED_EXIT_CODE

pytestmark = pytest.mark.slow


@pytest.fixture(params=["asgi", "wsgi"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _access(server: Server, path: str = "/echo") -> list[dict[str, object]]:
    return [e for e in server.entries() if e.get("logger") == "access" and e["path"] == path]


def test_serves_and_stops_cleanly(shell: str, tmp_path: Path) -> None:
    server = start(shell, tmp_path)
    try:
        assert server.wait_ready() == {"status": "ready", "version": "v1"}
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("POST", "/echo", body=b'{"a": 1}',
                           headers={"Content-Type": "application/json"})  # fmt: skip
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["served"]) == (200, "v1")
        assert response.getheader("x-request-id")
        connection.close()
    finally:
        exit_code = server.stop()
    text = server.log_text()
    assert exit_code == 0, text[-2000:]
    # A clean stop: no listening socket closed twice (uvloop and gunicorn's wrapper).
    assert "Error while closing socket" not in text
    assert "Traceback" not in text
    assert [e["request_id"] for e in _access(server)] == [response.getheader("x-request-id")]


# An app that says whether the collector ran while it was imported, whether it runs while
# the app serves, and whether what was imported is frozen out of its reach.
GC_PROBE = """
import gc, json, os, sys
IMPORTED_WITH_GC = gc.isenabled()
print('"model loaded"', file=sys.stderr, flush=True)

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = json.dumps({"status": "ready", "imported": IMPORTED_WITH_GC, "serving": gc.isenabled(),
                       "frozen": gc.get_freeze_count() > 0,
                       "pydantic plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS")})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body.encode()})
"""


def test_the_app_is_imported_with_the_collector_off_then_frozen_out_of_its_reach(
    tmp_path: Path,
) -> None:
    """And with pydantic's plugin discovery off (a scan of every installed package)."""
    (tmp_path / "gc_probe.py").write_text(GC_PROBE)
    env = {"PYTHONPATH": f"{HERE}{os.pathsep}{tmp_path}"}
    server = start("asgi", tmp_path, workers=1, env=env, app="gc_probe:app")
    try:
        answer = server.wait_ready()
        assert answer == {
            "status": "ready", "imported": False, "serving": True, "frozen": True,
            "pydantic plugins": "__all__",
        }  # fmt: skip
    finally:
        assert server.stop() == 0


def test_metrics_and_access_lines_add_up_across_workers(shell: str, tmp_path: Path) -> None:
    """N requests through 2 workers: /metrics (whichever worker answers) counts exactly N,
    and after a graceful stop the batched access log holds exactly N lines."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = start(shell, tmp_path, env={"TMPDIR": str(scratch)})
    sent = 40
    try:
        server.wait_ready()
        for _ in range(sent):
            assert server.post("/echo", {"a": 1})[0] == 200
        assert len(list(scratch.glob("prometheus-*"))) == 1, "one directory per server start"
        assert list(scratch.glob("goldpath-serving-loaded-*")), "workers flag what they serve"
        for _ in range(6):  # several scrapes: the answering worker varies, the total does not
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", "/metrics")
            text = connection.getresponse().read().decode()
            connection.close()
            counted = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("http_requests_total{") and 'route="/echo"' in line
            )
            assert counted == sent, text
    finally:
        assert server.stop() == 0
    assert list(scratch.iterdir()) == [], "metrics and flag files removed when the server exits"
    access = _access(server)
    assert len(access) == sent
    assert all(e["status"] == 200 and e["request_id"] for e in access)


def test_a_killed_server_keeps_every_access_line_older_than_the_flush_interval(
    shell: str, tmp_path: Path
) -> None:
    """The batching's documented bound: SIGKILL to every worker and then the master loses
    no line of a request answered more than ACCESS_LOG_FLUSH_S before."""
    flush_s = 0.2
    server = start(shell, tmp_path, env={"ACCESS_LOG_FLUSH_S": str(flush_s)})
    sent = 30
    try:
        server.wait_ready()
        for _ in range(sent):
            assert server.post("/echo", {"a": 1})[0] == 200
        time.sleep(flush_s * 5)
    finally:
        kill_all(server)
    assert len(_access(server)) == sent, "lines lost to SIGKILL"


def test_a_taken_port_is_one_line(tmp_path: Path) -> None:
    """A port something already listens on: one line naming it and what to do, at once
    (not gunicorn's five "Connection in use" retries, then "Can't connect")."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = start("asgi", tmp_path, workers=1, env={"PORT": str(port)})
        assert server.wait_exit(timeout=30) == 1
    log = server.log_text()
    assert f"error: 127.0.0.1:{port} is in use" in log
    assert f"make serve PORT={port + 1}" in log
    assert "Connection in use" not in log


def test_oversized_request_headers_are_refused(shell: str, tmp_path: Path) -> None:
    """Megabytes of request headers get a 4xx (or a closed connection) and the server goes
    on (httptools has no limit: 200 MB used to be read and answered 200)."""
    server = start(shell, tmp_path, workers=1)
    try:
        server.wait_ready()
        assert status_of_oversized_headers(server) in {0, 400, 431}
        assert server.post("/echo", {"a": 1})[0] == 200
    finally:
        assert server.stop() == 0


def test_sigterm_lets_in_flight_requests_finish(shell: str, tmp_path: Path) -> None:
    server = start(shell, tmp_path)
    server.wait_ready()
    body = b'{"sleep": 0}'
    head = (b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))  # fmt: skip
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            sock.sendall(head + body[:5])  # half the body: the request is in flight
            time.sleep(0.5)
            server.process.send_signal(signal.SIGTERM)  # as a rolling deploy sends it
            time.sleep(1.0)
            assert server.process.poll() is None, "the server quit with a request in flight"
            sock.sendall(body[5:])
            response = http.client.HTTPResponse(sock)
            response.begin()
            answer = json.loads(response.read())
        assert response.status == 200, answer
        assert server.process.wait(timeout=30) == 0, server.log_text()[-2000:]
    finally:
        if server.process.poll() is None:
            server.process.kill()


def test_stalled_clients_cannot_starve_the_others(shell: str, tmp_path: Path) -> None:
    """Slowloris: 64 connections that send half a request and stall hold no worker and no
    thread: a normal caller is answered at once."""
    server = start(shell, tmp_path)
    server.wait_ready()
    half = (b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500\r\n\r\n{")  # fmt: skip
    stalled: list[socket.socket] = []
    try:
        for _ in range(64):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(half)
            stalled.append(sock)
        time.sleep(0.5)
        for _ in range(5):
            started = time.monotonic()
            assert server.post("/echo", {"a": 1})[0] == 200
            assert time.monotonic() - started < 2.0
    finally:
        for sock in stalled:
            sock.close()
        server.stop()


def test_slow_clients_are_disconnected_at_the_deadline(shell: str, tmp_path: Path) -> None:
    """CLIENT_TIMEOUT_S bounds the headers (connection closed) and the body (408, then
    closed). Quietly: no traceback."""
    server = start(shell, tmp_path, env={"CLIENT_TIMEOUT_S": "1"})
    server.wait_ready()
    silent, half_headers, half_body = (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)
    )
    try:
        half_headers.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Ty")
        half_body.sendall(
            b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500\r\n\r\n{"
        )
        started = time.monotonic()
        assert read_all(silent) == b""
        assert read_all(half_headers) == b""
        answer = read_all(half_body)
        assert time.monotonic() - started < 6
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        detail = json.loads(answer.split(b"\r\n\r\n", 1)[1])["detail"][0]
        assert detail["field"] == "body"
        assert "CLIENT_TIMEOUT_S" in detail["message"]
    finally:
        for sock in (silent, half_headers, half_body):
            sock.close()
        assert server.stop() == 0
    assert "Traceback" not in server.log_text()


def _failures(server: Server) -> list[dict[str, object]]:
    return [e for e in server.entries() if "failed to load" in str(e.get("message"))]


def test_what_cannot_load_stops_the_service_with_one_clear_line(shell: str, tmp_path: Path) -> None:
    server = start(shell, tmp_path, workers=1, env={"TOY_MISSING": "1"})
    exit_code = server.wait_exit()
    text = server.log_text()
    assert exit_code == LOAD_FAILED_EXIT_CODE, text[-2000:]
    assert "Traceback" not in text
    [failure] = _failures(server)
    assert failure["level"] == "ERROR"
    assert failure["message"] == (
        "model failed to load: no toy@champion in the store: run make train first"
    )


def test_every_worker_failing_to_load_still_ends_the_service(tmp_path: Path) -> None:
    """With several workers, gunicorn stops, not boots replacements in a loop, and says so
    once for the service, not once per worker."""
    server = start("asgi", tmp_path, workers=2, env={"TOY_STORE": str(tmp_path / "absent")})
    exit_code = server.wait_exit()
    text = server.log_text()
    assert exit_code == LOAD_FAILED_EXIT_CODE, text[-2000:]
    assert "Traceback" not in text
    assert text.count("Booting worker") == 2, "a failed worker was replaced"
    [failure] = _failures(server)
    assert "ConnectionError: store" in str(failure["message"])


def test_a_worker_dying_while_the_store_is_down_does_not_stop_the_service(
    shell: str, tmp_path: Path
) -> None:
    """Two workers serve; the store goes away; one worker dies. Its replacement cannot
    load: it retries, unready, while the other serves, and loads once the store is back."""
    store = tmp_path / "store"
    store.write_text("v3")
    env = {"TOY_STORE": str(store), "TOY_WAIT_S": "1", "TOY_RETRY_MAX_S": "1"}
    server = start(shell, tmp_path, workers=2, env=env)
    try:
        server.wait_ready()
        store.rename(tmp_path / "away")
        os.kill(server.workers_pids()[0], signal.SIGKILL)
        _until(lambda: "the other workers keep serving" in server.log_text())
        assert server.process.poll() is None, "the service stopped"
        statuses: list[int] = []
        # New connections reach either worker, the unready one included (503, Retry-After):
        # retry as a client would.
        while 200 not in statuses and len(statuses) < 40:
            statuses.append(server.post("/echo", {"a": 1})[0])
        assert 200 in statuses, statuses
        assert set(statuses) <= {200, 503}, statuses
        (tmp_path / "away").rename(store)
        _until(lambda: server.log_text().count('"model loaded"') == 3)
    finally:
        exit_code = server.stop()
    assert exit_code == 0, server.log_text()[-2000:]
    assert "Traceback" not in server.log_text()


@pytest.mark.parametrize(
    ("files", "limit"),
    [
        ({"cpu.max": "50000 100000\n"}, 0.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "150000", "cpu/cpu.cfs_period_us": "100000"}, 1.5),
        ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),
        ({}, None),
        ({"cpu.max": "garbage"}, None),
    ],
)
def test_the_container_cpu_limit_is_read_from_its_cgroup(
    tmp_path: Path, files: dict[str, str], limit: float | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_limit(tmp_path) == limit
