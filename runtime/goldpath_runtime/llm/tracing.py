"""Request traces in MLflow (the local store by default, next to the prompt registry), for
an LLM service (needs the `registry` extra too: MLflow).

No-content by default: a trace holds the prompt version, model, token counts, latency and
guardrail outcomes, never the message or the answer. TRACE_CONTENT=true adds the redacted
message and the extracted fields (still never the personal data the guardrails removed).
TRACE_SAMPLE_RATIO traces a share of requests: the local SQLite store writes about 20
traces/s, so a busy service samples or points MLFLOW_TRACKING_URI at a tracking server.

With OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT) set, the same spans,
with their OpenTelemetry GenAI attributes, also go to that collector over OTLP/HTTP; MLflow
keeps its copy unless MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT=false.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import mlflow

log = logging.getLogger(__name__)


class TraceSettings(Protocol):
    """What the tracer reads of a project's settings (its pydantic Settings fit)."""

    @property
    def trace_sample_ratio(self) -> float: ...
    @property
    def trace_content(self) -> bool: ...
    @property
    def experiment_name(self) -> str: ...


class Tracer:
    def __init__(self, settings: TraceSettings) -> None:
        # MLflow prices traced LLM calls from a catalog it downloads from github.com: a
        # service must not call a third party per trace (and offline it stalls ~7 s on
        # retries). This service counts its own cost (PRICES); a mirror can be named.
        os.environ.setdefault("MLFLOW_MODEL_CATALOG_URI", "")
        self.ratio = settings.trace_sample_ratio
        self.content = settings.trace_content
        self.experiment = settings.experiment_name

    def start(self) -> None:
        """Point traces at the project's experiment (made by `make eval` or here)."""
        if self.ratio <= 0:
            return
        if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        ):
            # The exporter this project installs speaks OTLP over HTTP (gRPC is MLflow's
            # default); MLflow's own store keeps every trace too unless told otherwise.
            os.environ.setdefault("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
            os.environ.setdefault("MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT", "true")
        if mlflow.get_tracking_uri().startswith("sqlite:"):
            # SQLite takes one writer at a time: MLflow's ten export threads only queue on
            # its lock, holding the GIL the event loop needs. One thread: at 5 % traced and
            # the benchmark's load, p99 219.7 against 227.1 ms (medians of six rounds).
            os.environ.setdefault("MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS", "1")
        try:
            mlflow.set_experiment(self.experiment)
        except Exception as exc:  # another worker created it first, or the store is busy
            log.warning("traces: experiment not set", extra={"error": type(exc).__name__})
            try:
                mlflow.set_experiment(self.experiment)
            except Exception:
                self.ratio = 0.0

    @contextmanager
    def request(self, name: str) -> Iterator[Any]:
        """A root span for one HTTP request, or None when this request is not sampled."""
        if self.ratio <= 0 or (self.ratio < 1 and random.random() >= self.ratio):  # noqa: S311
            yield None
            return
        with mlflow.start_span(name=name, span_type="CHAIN") as span:
            yield span

    @contextmanager
    def message(self, parent: Any, attributes: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A child span per message; the caller fills `attributes` as the work goes."""
        if parent is None:
            yield attributes
            return
        with mlflow.start_span(name="extract_message", span_type="LLM") as span:
            try:
                yield attributes
            finally:
                content = {k: attributes.pop(k) for k in ("input", "output") if k in attributes}
                span.set_attributes(attributes)
                if self.content and content:
                    span.set_inputs(content.get("input"))
                    span.set_outputs(content.get("output"))
