"""The HTTP metrics every service exposes, summed over its workers.

gunicorn's hooks (`goldpath_runtime.serving.gunicorn`) give each server start its own
PROMETHEUS_MULTIPROC_DIR before the workers fork; `render` then sums every worker's
files. A kind's own metrics (predictions, tokens, cost) are defined by the kind, in the
same registry."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
SHELL_ROUTES = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"})
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class Routes:
    """The route label of a path: unknown paths share one label ("other"), so scanners
    cannot explode the metrics' cardinality (or write their path into the access log)."""

    def __init__(self, service_routes: Iterable[str]) -> None:
        self.known = SHELL_ROUTES | frozenset(service_routes)

    def label(self, path: str) -> str:
        return path if path in self.known else "other"


_CHILDREN: dict[tuple[Any, tuple[Any, ...]], Any] = {}


def child(metric: Any, *labels: Any) -> Any:
    """`metric.labels(*labels)`, looked up once per label set: prometheus_client's
    `labels()` costs more than the increment. For labels the service sets (versions,
    models, outcomes), never what a client sends; prometheus_client keeps every child
    anyway, so the cache holds nothing it would not."""
    key = (metric, labels)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = metric.labels(*labels)
    return found


def safe_request_id(candidate: str | None) -> str | None:
    """A caller's X-Request-ID, only if it cannot forge log lines."""
    return candidate if candidate and _SAFE_ID.match(candidate) else None


def render() -> tuple[bytes, str]:
    """The exposition text and its content type, every worker's samples summed."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
