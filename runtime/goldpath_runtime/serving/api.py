"""The FastAPI side of the ASGI shell, imported on the first request it answers
(`goldpath_runtime.serving.asgi.ServiceApp`): the OpenAPI document and its pages, the
probes as documented operations, a kind's routes that are not hot, and 404 and 405 in the
one error shape. A worker that only scores and answers probes never imports it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .metrics import render
from .observe import Observer
from .requests import one_error


def build_api(
    *, title: str, version: str, description: str, observer: Observer,
    value: Callable[[], Any], readiness: Callable[[Any], dict[str, Any]],
    extensions: Iterable[Callable[[FastAPI], None]],
) -> FastAPI:  # fmt: skip
    """`value` gives what is served (None while loading); `extensions` add a kind's routes."""
    from .asgi import ObservabilityMiddleware

    app = FastAPI(title=title, version=version, description=description)
    app.add_middleware(ObservabilityMiddleware, observer=observer)

    @app.exception_handler(Exception)
    async def _server_error(_: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log (uvicorn logs the exception after this answer),
        # with the request id the client got back.
        return JSONResponse(one_error("server", "internal error; it is logged"), status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 404, 405 and friends in the same shape as every other error.
        return JSONResponse(
            one_error("request", str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    # The probes are answered before FastAPI (hot routes); these document them, and
    # answer what reaches FastAPI all the same (HEAD).
    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "Not ready"}})
    def readyz() -> JSONResponse:
        """Readiness: what the service serves is loaded."""
        served = value()
        if served is None:
            return JSONResponse(
                {"status": "loading"}, status_code=503, headers={"Retry-After": "1"}
            )
        return JSONResponse({"status": "ready", **readiness(served)})

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics() -> Response:
        payload, content_type = render()
        return Response(payload, media_type=content_type)

    for extend in extensions:
        extend(app)
    return app
