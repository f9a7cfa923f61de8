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
- The probes, `/metrics` and a kind's scoring route are hot routes
  (`goldpath_runtime.serving.hotpath`): plain ASGI, answered before FastAPI, with the same
  promises. FastAPI itself (`goldpath_runtime.serving.api`: the OpenAPI document and its
  pages, a kind's other routes, 404 and 405) is imported on the first request it answers,
  so a worker that only scores starts without it.
- Bodies are read with a size bound and a deadline (`read_body`): 413 before buffering
  what is too large, 408 for a body that stalls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..logs import configure_logging, request_id
from . import hotpath
from .access import AccessLog
from .hotpath import Answer, HotRoute, Incoming, encode, read_headers
from .loading import Slot, exit_load_failed
from .metrics import Routes, render
from .observe import Observer
from .requests import RequestError, one_error

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class ServiceApp:
    """The shell's ASGI app: its lifespan, the hot routes (probes, metrics, a kind's
    scoring route) in plain ASGI, and everything else by FastAPI, built on the first
    request that needs it (importing FastAPI was most of a worker's cold start).

    A kind adds FastAPI routes with `extend`, applied when FastAPI is built."""

    def __init__(
        self, *, title: str, version: str, description: str, observer: Observer,
        value: Callable[[], Any], readiness: Callable[[Any], dict[str, Any]],
        startup: Callable[[], Awaitable[None]], shutdown: Callable[[], Awaitable[None]],
    ) -> None:  # fmt: skip
        self.title, self.version, self.description = title, version, description
        self.observer = observer
        self.hot_routes: dict[tuple[str, str], HotRoute] = {}
        self._value, self._readiness = value, readiness
        self._startup, self._shutdown = startup, shutdown
        self._extensions: list[Callable[[FastAPI], None]] = []
        self._api: FastAPI | None = None

    def extend(self, add_routes: Callable[[FastAPI], None]) -> None:
        self._extensions.append(add_routes)

    @property
    def api(self) -> FastAPI:
        if self._api is None:
            from .api import build_api

            self._api = build_api(
                title=self.title, version=self.version, description=self.description,
                observer=self.observer, value=self._value, readiness=self._readiness,
                extensions=self._extensions,
            )  # fmt: skip
        return self._api

    def openapi(self) -> dict[str, Any]:
        return self.api.openapi()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.hot_routes.get((scope["method"], scope["path"]))
            if route is not None:
                await hotpath.serve(route, self.observer, scope, receive, send)
                return
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.api(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        try:
            await self._startup()
        except Exception as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown: after the server finished in-flight requests
        try:
            await self._shutdown()
        finally:
            await send({"type": "lifespan.shutdown.complete"})


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The request body, at most `limit` bytes, received within `timeout` seconds."""
    declared = request.headers.get("content-length")
    length = int(declared) if declared is not None and declared.isdigit() else None
    return await hotpath.read_body(request.receive, length, limit, timeout)


def refused(exc: RequestError) -> JSONResponse:
    from fastapi.responses import JSONResponse

    return JSONResponse(
        exc.body, status_code=exc.status, headers={"Connection": "close"} if exc.closes else None
    )


def error(status: int, field: str, message: str, retry_after: int | None = None) -> JSONResponse:
    from fastapi.responses import JSONResponse

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


_HEALTHY = Answer(200, encode({"status": "ok"}))
_LOADING = Answer(503, encode({"status": "loading"}), ((b"retry-after", b"1"),))


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
    """The shell's app, with its probes, errors, metrics and logs; the kind adds its
    routes to it (`hot_routes`, `extend`). `load` builds what is served (run once per
    worker, off the request path), `then` runs after it for as long as the worker lives
    (following an alias), `stop` at shutdown, after in-flight requests finished."""
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

    loading: list[asyncio.Task[None]] = []

    async def startup() -> None:
        loading.append(asyncio.create_task(load_with_policy(), name=f"{loaded.what}-load"))

    async def shutdown() -> None:
        for task in loading:
            task.cancel()
        await asyncio.gather(*loading, return_exceptions=True)
        try:
            if stop is not None and loaded.value is not None:
                await stop(loaded.value)
        finally:
            # uvicorn's worker ends by re-raising SIGTERM, so atexit never runs: flush here.
            access.flush()

    app = ServiceApp(
        title=title, version=version, description=description,
        observer=Observer(access, Routes(routes)), value=lambda: loaded.value,
        readiness=readiness, startup=startup, shutdown=shutdown,
    )  # fmt: skip

    async def healthz(_: Scope, __: Receive, ___: Incoming) -> Answer:
        return _HEALTHY

    async def readyz(_: Scope, __: Receive, ___: Incoming) -> Answer:
        value = loaded.value
        if value is None:
            return _LOADING
        return Answer(200, encode({"status": "ready", **readiness(value)}))

    async def metrics(_: Scope, __: Receive, ___: Incoming) -> Answer:
        payload, content_type = render()
        return Answer(200, payload, media_type=content_type.encode())

    app.hot_routes.update(
        {("GET", "/healthz"): healthz, ("GET", "/readyz"): readyz, ("GET", "/metrics"): metrics}
    )
    return app
