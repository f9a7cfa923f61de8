"""The WSGI serving shell (Flask, run by gunicorn with gevent workers): the same probes,
error shape, request ids, access lines, metrics and background load as the ASGI shell
(`goldpath_runtime.serving.asgi`), so a Flask service adds only its routes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestEntityTooLarge

from ..logs import configure_logging, request_id
from .access import AccessLog
from .loading import Slot, exit_load_failed
from .metrics import Routes, render
from .observe import Observer
from .requests import RequestError, body_too_large, body_too_slow, one_error

log = logging.getLogger(__name__)

T = TypeVar("T")


class Loaded(Slot[T]):
    def __init__(self, what: str) -> None:
        self._ready = threading.Event()
        super().__init__(what, self._ready)

    def wait(self, timeout: float) -> T | None:
        """What is served, waiting up to `timeout` for the first load (None: still loading)."""
        self._ready.wait(timeout)
        return self.value


def refused(exc: RequestError) -> tuple[Response, int]:
    answer = jsonify(exc.body)
    if exc.closes:
        answer.headers["Connection"] = "close"
    return answer, exc.status


def error(
    status: int, field: str, message: str, retry_after: int | None = None
) -> tuple[Response, int]:
    answer = jsonify(one_error(field, message))
    if retry_after is not None:
        answer.headers["Retry-After"] = str(retry_after)
    return answer, status


def read_body(timeout: float) -> bytes:
    """The request body; Flask's MAX_CONTENT_LENGTH bounds its size while it is read, and
    the worker's socket timeout its pace (a stalled body is a 408)."""
    try:
        return request.get_data(cache=False)
    except ClientDisconnected as exc:
        # werkzeug reports the worker's read deadline as a disconnect; the socket timeout
        # under it says what happened.
        if isinstance(exc.__context__, TimeoutError):
            raise body_too_slow(timeout) from None
        raise


def create_service(
    name: str,
    *,
    loaded: Loaded[T],
    load: Callable[[], T],
    on_failure: Callable[[BaseException, int], float | None],
    readiness: Callable[[T], dict[str, Any]],
    describe: Callable[[T], dict[str, Any]],
    routes: Iterable[str],
    openapi: dict[str, Any],
    max_body_bytes: int,
    log_level: str = "INFO",
    access_log_flush_s: float = 1.0,
) -> Flask:
    """A Flask app with the shell's probes, errors, metrics and logs, loading in a thread."""
    configure_logging(log_level)

    def load_with_policy() -> None:
        attempt = 0
        while True:
            try:
                value = load()
                break
            except Exception as exc:
                delay = on_failure(exc, attempt)
                if delay is None:
                    exit_load_failed(exc, loaded.what)
                    return
                attempt += 1
                time.sleep(delay)
        loaded.fill(value, describe)

    threading.Thread(target=load_with_policy, name=f"{loaded.what}-load", daemon=True).start()
    observer = Observer(AccessLog(access_log_flush_s), Routes(routes))

    app = Flask(name)
    # Werkzeug enforces this while reading the body, so oversized requests are never buffered.
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.request_id = observer.request_id(request.headers.get("X-Request-ID"))
        g.token = request_id.set(g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        response.headers["X-Request-ID"] = g.get("request_id", "")
        observer.finish(
            request.method, request.path, response.status_code, elapsed, g.get("request_id", "")
        )
        return response

    @app.teardown_request
    def _reset(_: BaseException | None) -> None:
        token = g.pop("token", None)
        if token is not None:
            request_id.reset(token)

    @app.errorhandler(RequestError)
    def _refused(exc: RequestError) -> tuple[Response, int]:
        return refused(exc)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_: RequestEntityTooLarge) -> tuple[Response, int]:
        return refused(body_too_large(max_body_bytes))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        # 5xx: the server's fault (the traceback is in the log), never the cause's text.
        field = "server" if status >= 500 else "request"
        return error(status, field, exc.description or "")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        value = loaded.value
        if value is None:
            response = jsonify(status="loading")
            response.headers["Retry-After"] = "1"
            return response, 503
        return jsonify(status="ready", **readiness(value)), 200

    @app.get("/openapi.json")
    def openapi_json() -> Response:
        return jsonify(openapi)

    @app.get("/metrics")
    def metrics() -> Response:
        payload, content_type = render()
        return Response(payload, content_type=content_type)

    return app
