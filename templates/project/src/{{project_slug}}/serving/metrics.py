"""Prometheus metrics, summed over every worker: gunicorn.conf.py gives each server start
its own PROMETHEUS_MULTIPROC_DIR (or empties the one you set) before the workers fork."""

from __future__ import annotations

import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
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
PREDICTIONS = Counter("model_predictions_total", "Rows scored", ["model_version"])
MODEL_INFO = Gauge(
    "model_info", "The model this process serves", ["name", "version"], multiprocess_mode="max"
)

KNOWN_ROUTES = frozenset({"/predict", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"})
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def route_label(path: str) -> str:
    """Unknown paths share one label, so scanners cannot explode metric cardinality."""
    return path if path in KNOWN_ROUTES else "other"


def safe_request_id(candidate: str | None) -> str | None:
    """Accept a caller's X-Request-ID only if it cannot forge log lines."""
    return candidate if candidate and _SAFE_ID.match(candidate) else None


def render() -> tuple[bytes, str]:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
