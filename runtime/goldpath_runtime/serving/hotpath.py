"""A kind's scoring route answered in plain ASGI, ahead of FastAPI.

FastAPI's layers around a route (its telemetry check, Starlette's middleware and exception
layers, the router, the Request and JSONResponse objects) cost more per request than
validating and scoring a row (issue #35's profile). A hot route skips them and keeps what
the shell promises every route: a request id, the HTTP metrics and the access line, the
one error shape, and a 500 whose traceback goes only to the log.

A hot route is `async (scope, receive, Incoming) -> Answer`; the shell sends the answer
with its content length and request id, then runs `Answer.after` (work that must not
delay the response, like a shadow model's scoring).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import Receive, Scope, Send

from ..logs import request_id
from .deadlines import body_deadlines
from .observe import Observer
from .requests import RequestError, body_too_large, body_too_slow, one_error

log = logging.getLogger(__name__)

Headers = Sequence[tuple[bytes, bytes]]


class Incoming(NamedTuple):
    """The request headers a hot route needs, read once."""

    content_type: str | None
    content_length: int | None
    request_id: str


class Answer(NamedTuple):
    status: int
    body: bytes
    headers: Headers = ()
    after: Callable[[], Awaitable[None]] | None = None
    media_type: bytes = b"application/json"


HotRoute: TypeAlias = "Callable[[Scope, Receive, Incoming], Awaitable[Answer]]"


def encode(payload: Any) -> bytes:
    """JSON as Starlette's JSONResponse writes it, so both paths answer the same bytes."""
    return json.dumps(
        payload, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def error(status: int, field: str, message: str, retry_after: int | None = None) -> Answer:
    headers = () if retry_after is None else ((b"retry-after", str(retry_after).encode()),)
    return Answer(status, encode(one_error(field, message)), headers)


def refused(exc: RequestError) -> Answer:
    headers = ((b"connection", b"close"),) if exc.closes else ()
    return Answer(exc.status, encode(exc.body), headers)


SERVER_ERROR = error(500, "server", "internal error; it is logged")


async def read_body(receive: Receive, declared: int | None, limit: int, timeout: float) -> bytes:
    """The request body, at most `limit` bytes, received within `timeout` seconds: 413
    before buffering what is too large, 408 for a body that stalls."""
    if declared is not None and declared > limit:
        raise body_too_large(limit)
    deadlines = body_deadlines()
    task = deadlines.start(timeout)  # a stalled body must not hold the connection
    try:
        message = await receive()
        body = message.get("body", b"")
        if not message.get("more_body", False):
            if len(body) > limit:
                raise body_too_large(limit)
            return bytes(body)
        chunks = bytearray(body)
        while message.get("more_body", False):
            message = await receive()
            chunks += message.get("body", b"")
            if len(chunks) > limit:
                raise body_too_large(limit)
        return bytes(chunks)
    except asyncio.CancelledError:
        if deadlines.expired(task):
            raise body_too_slow(timeout) from None
        raise
    finally:
        deadlines.stop(task)


def read_headers(scope: Scope) -> tuple[str | None, int | None, bytes | None]:
    content_type = content_length = rid = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"content-length":
            content_length = int(value) if value.isdigit() else None
        elif name == b"x-request-id":
            rid = value
    return content_type, content_length, rid


async def serve(
    route: HotRoute, observer: Observer, scope: Scope, receive: Receive, send: Send
) -> None:
    started = time.perf_counter()
    content_type, content_length, incoming = read_headers(scope)
    rid = observer.request_id(incoming)
    token = request_id.set(rid)
    status = 500
    try:
        try:
            answer = await route(scope, receive, Incoming(content_type, content_length, rid))
        except Exception:
            log.exception("unhandled error answering %s %s", scope["method"], scope["path"])
            answer = SERVER_ERROR
        status = answer.status
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(answer.body)).encode()),
                    (b"content-type", answer.media_type),
                    *answer.headers,
                    (b"x-request-id", rid.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})
        if answer.after is not None:
            try:
                await answer.after()
            except Exception:  # the client has its answer: the failure is only logged
                log.exception("work after answering %s %s failed", scope["method"], scope["path"])
    finally:
        observer.finish(scope["method"], scope["path"], status, time.perf_counter() - started, rid)
        request_id.reset(token)


async def through_fastapi(route: HotRoute, request: Request) -> Response:
    """A hot route answering a request that reached FastAPI instead (another method's 405
    aside: the app mounted under another), with the same bytes and background work."""
    from starlette.background import BackgroundTask
    from starlette.responses import Response

    content_type, length, _ = read_headers(request.scope)
    incoming = Incoming(content_type, length, request_id.get() or "")
    answer = await route(request.scope, request.receive, incoming)
    return Response(
        answer.body, answer.status,
        headers={k.decode(): v.decode() for k, v in answer.headers},
        media_type=answer.media_type.decode(),
        background=None if answer.after is None else BackgroundTask(answer.after),
    )  # fmt: skip
