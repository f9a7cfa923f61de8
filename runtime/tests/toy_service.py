"""A toy service on each serving shell, for the shell's own tests: it "loads" a value
(slowly, or failing as configured), and echoes what it is sent.

Configured by environment, as gunicorn workers are: TOY_STORE names a file the load
reads (missing: the store is unreachable, retried or fatal by the tabular policy);
TOY_MISSING=1 makes the load find nothing (a ProjectError); TOY_LOAD_DELAY_S slows it.
A bad release, for canary analysis: TOY_EXTRA_LATENCY_S slows every /echo answer, and
TOY_ERROR_RATE answers that share of them 500.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from pathlib import Path
from typing import Any

from goldpath_runtime.errors import ModelNotFoundError
from goldpath_runtime.serving.loading import retry_delay
from goldpath_runtime.serving.requests import RequestError, is_json, not_json

ROUTES = ("/echo", "/boom")
MAX_BODY_BYTES = int(os.environ.get("MAX_BODY_BYTES", "4096"))
CLIENT_TIMEOUT_S = float(os.environ.get("CLIENT_TIMEOUT_S", "10"))
WAIT_S = float(os.environ.get("TOY_WAIT_S", "5"))
FLUSH_S = float(os.environ.get("ACCESS_LOG_FLUSH_S", "1"))
EXTRA_LATENCY_S = float(os.environ.get("TOY_EXTRA_LATENCY_S", "0"))
ERROR_RATE = float(os.environ.get("TOY_ERROR_RATE", "0"))


def load_value() -> str:
    time.sleep(float(os.environ.get("TOY_LOAD_DELAY_S", "0")))
    if os.environ.get("TOY_MISSING"):
        raise ModelNotFoundError("no toy@champion in the store: run make train first")
    store = os.environ.get("TOY_STORE")
    if store is None:
        return "v1"
    try:
        return Path(store).read_text().strip()
    except FileNotFoundError:
        raise ConnectionError(f"store {store} does not answer") from None


def on_failure(exc: BaseException, attempt: int) -> float | None:
    return retry_delay(exc, attempt, float(os.environ.get("TOY_RETRY_MAX_S", "60")))


def echo(value: str, body: bytes, content_type: str | None) -> dict[str, Any]:
    if not is_json(content_type):
        raise not_json()
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise RequestError.about(400, "body", "not valid JSON") from None
    if not isinstance(payload, dict):
        raise RequestError.about(422, "body", "send a JSON object")
    return {"served": value, "keys": sorted(payload)[:10], "sleep": payload.get("sleep", 0)}


def readiness(value: str) -> dict[str, Any]:
    return {"version": value}


def describe(value: str) -> dict[str, Any]:
    return {"version": value}


def create_asgi(loader: Any = None) -> Any:
    from fastapi import Request, Response
    from fastapi.responses import JSONResponse

    from goldpath_runtime.serving.asgi import Loaded, create_service, error, read_body, refused

    loaded: Loaded[str] = Loaded("model")
    load = loader or load_value
    app = create_service(
        title="toy", version="1", description="A toy.", loaded=loaded,
        load=lambda: asyncio.to_thread(load), on_failure=on_failure,
        readiness=readiness, describe=describe, routes=ROUTES, access_log_flush_s=FLUSH_S,
    )  # fmt: skip

    async def echo_route(request: Request) -> Response:
        value = await loaded.wait(WAIT_S)
        if value is None:
            return error(503, "model", "still loading, retry shortly", retry_after=1)
        try:
            body = await read_body(request, MAX_BODY_BYTES, CLIENT_TIMEOUT_S)
            answer = echo(value, body, request.headers.get("content-type"))
        except RequestError as exc:
            return refused(exc)
        await asyncio.sleep(float(answer["sleep"]) + EXTRA_LATENCY_S)
        if random.random() < ERROR_RATE:  # noqa: S311 - a test's bad release, not crypto
            return error(500, "model", "a bad release")
        return JSONResponse(answer)

    async def boom(_: Request) -> Response:
        raise RuntimeError("a bug")

    def add_routes(api: Any) -> None:  # routes through FastAPI, as a kind's non-hot ones
        api.router.add_route("/echo", echo_route, methods=["POST"])
        api.router.add_route("/boom", boom, methods=["GET"])

    app.extend(add_routes)
    return app


def create_wsgi(loader: Any = None) -> Any:
    from flask import Response, jsonify, request

    from goldpath_runtime.serving.wsgi import Loaded, create_service, error, read_body

    loaded: Loaded[str] = Loaded("model")
    app = create_service(
        __name__, loaded=loaded, load=loader or load_value, on_failure=on_failure,
        readiness=readiness, describe=describe, routes=ROUTES, max_body_bytes=MAX_BODY_BYTES,
        openapi={"openapi": "3.1.0", "info": {"title": "toy", "version": "1"}, "paths": {}},
        access_log_flush_s=FLUSH_S,
    )  # fmt: skip

    @app.post("/echo")
    def echo_route() -> tuple[Response, int]:
        value = loaded.wait(WAIT_S)
        if value is None:
            return error(503, "model", "still loading, retry shortly", retry_after=1)
        answer = echo(value, read_body(CLIENT_TIMEOUT_S), request.content_type)
        time.sleep(float(answer["sleep"]))
        return jsonify(answer), 200

    @app.get("/boom")
    def boom() -> Response:
        raise RuntimeError("a bug")

    return app


def create_app() -> Any:
    return create_wsgi() if os.environ.get("TOY_SHELL") == "wsgi" else create_asgi()
