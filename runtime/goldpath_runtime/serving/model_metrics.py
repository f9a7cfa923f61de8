"""The metrics of a service that scores a registered model, beside the shell's HTTP ones."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

PREDICTIONS = Counter("model_predictions_total", "Rows scored", ["model_version"])
MODEL_INFO = Gauge(
    "model_info", "The model this process serves", ["name", "version"], multiprocess_mode="max"
)
