"""The ASGI serving shell (FastAPI, run by gunicorn with uvicorn workers): what every
FastAPI service of the fleet does the same way, so a kind adds only its routes.

- Each worker answers at once and loads what it serves in the background: `/healthz` is
  200 throughout, `/readyz` 503 (with Retry-After) until loaded, and a kind's route waits
  for the load up to its wait (`Loaded.wait`). A load that fails is retried or ends the
  service, by the kind's policy (`goldpath_runtime.serving.loading`).
- Every answer that is not a success has one shape, `{"detail": [{"field", "message"}]}`:
  unknown routes and methods, unhandled errors (500, the traceback only in the log), and
  the kind's own `RequestError`s.
- Every request gets a request id (the caller's X-Request-ID when it is safe), a JSON
  access line (batched: `goldpath_runtime.serving.access`) and the HTTP metrics, served at
  `/metrics` summed over the workers (`goldpath_runtime.serving.observe`).
- A kind's scoring route may be a hot route (`goldpath_runtime.serving.hotpath`): plain
  ASGI, answered before FastAPI's layers, with the same promises.
- Bodies are read with a size bound and a deadline (`read_body`): 413 before buffering
  what is too large, 408 for a body that stalls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..logs import configure_logging, request_id
from . import hotpath
from .access import AccessLog
from .hotpath import HotRoute, read_headers
from .loading import Slot, exit_load_failed
from .metrics import Routes, render
from .observe import Observer
from .requests import RequestError, one_error

log = logging.getLogger(__name__)

T = TypeVar("T")
OnFailure = Callable[[BaseException, int], "float | None"]


class ObservabilityMiddleware:
    """Request id, access line and HTTP metrics for every request FastAPI answers. Plain
    ASGI rather than BaseHTTPMiddleware: it adds no task or stream copy per request."""

    def __init__(self, app: ASGIApp, observer: Observer) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = self.observer.request_id(read_headers(scope)[2])
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self.observer.finish(scope["method"], scope["path"], status, elapsed, rid)
            request_id.reset(token)


class ServiceApp(FastAPI):
    """FastAPI, with a kind's hot routes answered before FastAPI's layers
    (`goldpath_runtime.serving.hotpath`). Their router routes stay, for the OpenAPI
    document and for the other methods' 405."""

    hot_routes: dict[tuple[str, str], HotRoute]
    observer: Observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.hot_routes.get((scope["method"], scope["path"]))
            if route is not None:
                await hotpath.serve(route, self.observer, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The request body, at most `limit` bytes, received within `timeout` seconds."""
    declared = request.headers.get("content-length")
    length = int(declared) if declared is not None and declared.isdigit() else None
    return await hotpath.read_body(request.receive, length, limit, timeout)


def refused(exc: RequestError) -> JSONResponse:
    return JSONResponse(
        exc.body, status_code=exc.status, headers={"Connection": "close"} if exc.closes else None
    )


def error(status: int, field: str, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(one_error(field, message), status_code=status, headers=headers)


class Loaded(Slot[T]):
    def __init__(self, what: str) -> None:
        self._ready = asyncio.Event()
        super().__init__(what, self._ready)

    async def wait(self, timeout: float) -> T | None:
        """What is served, waiting up to `timeout` for the first load (None: still loading).
        gunicorn hands connections to whichever worker accepts first, so a worker that is
        still loading holds a request briefly rather than failing it."""
        if self.value is None:
            try:
                await asyncio.wait_for(self._ready.wait(), timeout=timeout)
            except TimeoutError:
                return None
        return self.value


def create_service(
    *,
    title: str,
    version: str,
    description: str,
    loaded: Loaded[T],
    load: Callable[[], Awaitable[T]],
    on_failure: OnFailure,
    readiness: Callable[[T], dict[str, Any]],
    describe: Callable[[T], dict[str, Any]],
    routes: Iterable[str],
    log_level: str = "INFO",
    access_log_flush_s: float = 1.0,
    then: Callable[[T], Awaitable[None]] | None = None,
    stop: Callable[[T], Awaitable[None]] | None = None,
) -> ServiceApp:
    """A FastAPI app with the shell's probes, errors, metrics and logs; the kind adds its
    routes to it. `load` builds what is served (run once per worker, off the request
    path), `then` runs after it for as long as the worker lives (following an alias),
    `stop` at shutdown, after in-flight requests finished."""
    configure_logging(log_level)
    access = AccessLog(access_log_flush_s)

    async def load_with_policy() -> None:
        attempt = 0
        while True:
            try:
                value = await load()
                break
            except Exception as exc:
                delay = on_failure(exc, attempt)
                if delay is None:
                    exit_load_failed(exc, loaded.what)
                    return
                attempt += 1
                await asyncio.sleep(delay)
        loaded.fill(value, describe)
        if then is not None:
            await then(value)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(load_with_policy(), name=f"{loaded.what}-load")
        yield
        # Shutdown runs after the server has finished its in-flight requests.
        loading.cancel()
        await asyncio.gather(loading, return_exceptions=True)
        if stop is not None and loaded.value is not None:
            await stop(loaded.value)
        # uvicorn's worker ends by re-raising SIGTERM, so atexit never runs: flush here.
        access.flush()

    app = ServiceApp(title=title, version=version, description=description, lifespan=lifespan)
    app.observer = Observer(access, Routes(routes))
    app.hot_routes = {}
    app.add_middleware(ObservabilityMiddleware, observer=app.observer)

    @app.exception_handler(Exception)
    async def _server_error(_: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log (uvicorn logs the exception after this answer),
        # with the request id the client got back.
        return error(500, "server", "internal error; it is logged")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 404, 405 and friends in the same shape as every other error.
        return JSONResponse(
            one_error("request", str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "Not ready"}})
    def readyz() -> JSONResponse:
        """Readiness: what the service serves is loaded."""
        value = loaded.value
        if value is None:
            return JSONResponse(
                {"status": "loading"}, status_code=503, headers={"Retry-After": "1"}
            )
        return JSONResponse({"status": "ready", **readiness(value)})

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics() -> Response:
        payload, content_type = render()
        return Response(payload, media_type=content_type)

    return app
