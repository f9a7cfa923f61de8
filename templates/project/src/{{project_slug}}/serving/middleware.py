"""Request id, access log line and Prometheus metrics for every HTTP request."""

from __future__ import annotations

import time
import uuid

from goldpath_runtime.logs import request_id
from goldpath_runtime.serving.access import AccessLog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import LATENCY, REQUESTS, route_label, safe_request_id


class ObservabilityMiddleware:
    """Request id, access log line and Prometheus metrics for every HTTP request.

    Plain ASGI rather than BaseHTTPMiddleware: it adds no task or stream copy per request.
    """

    def __init__(self, app: ASGIApp, access: AccessLog) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = safe_request_id(incoming) or uuid.uuid4().hex
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
            route = route_label(scope["path"])
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(route).observe(elapsed)
            self.access.write(scope["method"], route, status, elapsed, rid)
            request_id.reset(token)
