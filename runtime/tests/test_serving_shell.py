"""The serving shells in process (FastAPI's test client, Flask's): probes, the wait for
the first load, one error shape for everything refused, request ids and route labels. The
real-server behaviour (workers, signals, slow clients) is in test_serving_server.py."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import toy_service

from goldpath_runtime.serving.metrics import Routes, child, safe_request_id


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any
    text: str


class Client:
    """One way to call either shell's app in process."""

    def __init__(self, shell: str, raw: Any) -> None:
        self.shell = shell
        self.raw = raw

    def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        response = self.raw.open(path, method=method, **kwargs) if self.shell == "wsgi" else (
            self.raw.request(method, path, **kwargs))  # fmt: skip
        body = response.get_json(silent=True) if self.shell == "wsgi" else _json(response)
        text = response.get_data(as_text=True) if self.shell == "wsgi" else response.text
        return Answer(response.status_code, body, response.headers, text)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@contextmanager
def open_client(shell: str, loader: Callable[[], str] | None = None) -> Iterator[Client]:
    if shell == "wsgi":
        yield Client(shell, toy_service.create_wsgi(loader).test_client())
        return
    from fastapi.testclient import TestClient

    # Unhandled errors answered as a client sees them (500), not raised into the test.
    with TestClient(toy_service.create_asgi(loader), raise_server_exceptions=False) as client:
        yield Client(shell, client)


@pytest.fixture(params=["asgi", "wsgi"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def gated() -> tuple[Callable[[], str], threading.Event]:
    """A load that holds like a large model still downloading, until released."""
    release = threading.Event()

    def load() -> str:
        assert release.wait(30), "the test never released the load"
        return "v7"

    return load, release


def _until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_ready_only_once_loaded_and_alive_throughout(
    shell: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(toy_service, "WAIT_S", 0.2)
    load, release = gated()
    with open_client(shell, load) as client:
        assert client.call("GET", "/healthz").status == 200
        loading = client.call("GET", "/readyz")
        assert (loading.status, loading.body["status"]) == (503, "loading")
        assert loading.headers["Retry-After"] == "1"
        refused = client.call("POST", "/echo", json={"a": 1})
        assert refused.status == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.body == {
            "detail": [{"field": "model", "message": "still loading, retry shortly"}]
        }
        release.set()
        _until(lambda: client.call("GET", "/readyz").status == 200)
        assert client.call("GET", "/readyz").body == {"status": "ready", "version": "v7"}
        assert client.call("POST", "/echo", json={"a": 1}).body["served"] == "v7"


def test_a_request_that_arrives_while_loading_is_held_then_served(shell: str) -> None:
    load, release = gated()
    with open_client(shell, load) as client:
        answers: list[Answer] = []
        caller = threading.Thread(
            target=lambda: answers.append(client.call("POST", "/echo", json={"a": 1}))
        )
        caller.start()
        time.sleep(0.5)
        assert not answers, "answered before the load"
        release.set()
        caller.join(timeout=30)
    assert (answers[0].status, answers[0].body["served"]) == (200, "v7")


JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "field"),
    [
        ("GET", "/nowhere", {}, 404, "request"),
        ("GET", "/echo", {}, 405, "request"),
        ("GET", "/boom", {}, 500, "server"),
        ("POST", "/echo", {"content": b"x" * 5000, "headers": JSON}, 413, "body"),
        ("POST", "/echo", {"content": b"{}", "headers": TEXT}, 415, "content-type"),
        ("POST", "/echo", {"content": b"{nope", "headers": JSON}, 400, "body"),
        ("POST", "/echo", {"content": b"[" * 100_000, "headers": JSON}, 413, "body"),
    ],
)
def test_everything_refused_has_one_shape(
    shell: str, method: str, path: str, kwargs: dict[str, Any], status: int, field: str
) -> None:
    if shell == "wsgi" and "content" in kwargs:
        kwargs = {"data": kwargs["content"], "headers": kwargs["headers"]}
    with open_client(shell) as client:
        _until(lambda: client.call("GET", "/readyz").status == 200)
        answer = client.call(method, path, **kwargs)
    assert answer.status == status, answer.body
    [detail] = answer.body["detail"]
    assert detail["field"] == field
    assert detail["message"]
    if status == 500:
        assert "a bug" not in detail["message"], "an internal error's cause leaked"


def test_a_safe_request_id_is_kept_and_any_other_replaced(shell: str) -> None:
    with open_client(shell) as client:
        kept = client.call("GET", "/healthz", headers={"X-Request-ID": "abc-123.x_y"})
        forged = client.call("GET", "/healthz", headers={"X-Request-ID": 'x", "level": "ERROR'})
    assert kept.headers["X-Request-ID"] == "abc-123.x_y"
    assert re.fullmatch("[0-9a-f]{32}", forged.headers["X-Request-ID"])  # a fresh one


def test_unknown_paths_share_one_metric_label(shell: str) -> None:
    with open_client(shell) as client:
        for n in range(5):
            client.call("GET", f"/scanner/{n}")
        metrics = client.call("GET", "/metrics")
    assert metrics.status == 200
    assert 'route="other"' in metrics.text
    assert "/scanner" not in metrics.text
    routes = Routes(toy_service.ROUTES)
    assert routes.label("/echo") == "/echo"
    assert routes.label("/readyz") == "/readyz"
    assert routes.label("/scanner/1") == "other"


@pytest.mark.parametrize(
    ("candidate", "kept"),
    [("abc", True), ("a" * 128, True), ("a" * 129, False), ("", False), (None, False),
     ("a b", False), ('a"b', False), ("a\nb", False), ("é", False)],
)  # fmt: skip
def test_safe_request_ids(candidate: str | None, kept: bool) -> None:
    assert (safe_request_id(candidate) == candidate) is kept or (candidate is None and not kept)


def test_a_metric_child_is_looked_up_once_per_label_set() -> None:
    from prometheus_client import CollectorRegistry, Counter

    counter = Counter("lookups_total", "test", ["outcome"], registry=CollectorRegistry())
    calls: list[tuple[str, ...]] = []
    labels = counter.labels

    def counted(*values: str) -> Any:
        calls.append(values)
        return labels(*values)

    counter.labels = counted  # type: ignore[method-assign]
    for _ in range(3):
        child(counter, "ok").inc()
    child(counter, "refused").inc()
    assert calls == [("ok",), ("refused",)]
    assert labels("ok")._value.get() == 3
    assert labels("refused")._value.get() == 1
