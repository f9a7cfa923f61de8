"""What every request leaves behind, whatever answers it: a request id, the HTTP metrics and
an access line. Shared by the ASGI and WSGI shells and by a kind's hot route.

Per request this is most of what the shell adds, so it is kept cheap: metric children are
looked up once per label set (prometheus_client's `labels()` costs more than the
increment), and a request id is a per-process random prefix and a counter rather than a
uuid4 (which reads the OS's random source on every call)."""

from __future__ import annotations

import itertools
import os
from typing import Any

from .access import AccessLog
from .metrics import LATENCY, REQUESTS, Routes, safe_request_id


class RequestIds:
    """32 hex digits, as a uuid4's hex was, unique across processes and restarts: 16
    random ones drawn per process (again in a forked child), then a counter."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def new(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


_IDS = RequestIds()


class Observer:
    def __init__(self, access: AccessLog, routes: Routes) -> None:
        self.access = access
        self.routes = routes
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    def request_id(self, incoming: str | bytes | None) -> str:
        """The caller's X-Request-ID when it is safe to log, else a new one."""
        if isinstance(incoming, bytes):
            incoming = incoming.decode("latin-1")
        return safe_request_id(incoming) or _IDS.new()

    def finish(self, method: str, path: str, status: int, elapsed: float, rid: str) -> None:
        route = self.routes.label(path)
        key = (method, route, status)
        counter = self._counters.get(key)
        if counter is None:
            # Bounded: routes are known or "other", and methods and statuses are few.
            counter = self._counters[key] = REQUESTS.labels(method, route, str(status))
        counter.inc()
        histogram = self._histograms.get(route)
        if histogram is None:
            histogram = self._histograms[route] = LATENCY.labels(route)
        histogram.observe(elapsed)
        self.access.write(method, route, status, elapsed, rid)
