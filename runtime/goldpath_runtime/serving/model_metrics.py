"""The metrics of a service that scores a registered model, beside the shell's HTTP ones."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge

PREDICTIONS = Counter("model_predictions_total", "Rows scored", ["model_version"])
MODEL_INFO = Gauge(
    "model_info", "The model this process serves", ["name", "version"], multiprocess_mode="max"
)


class PredictionCounter:
    """PREDICTIONS by model version, each version's child looked up once."""

    def __init__(self) -> None:
        self._children: dict[str, Any] = {}

    def inc(self, version: str, rows: int) -> None:
        child = self._children.get(version)
        if child is None:
            child = self._children[version] = PREDICTIONS.labels(version)
        child.inc(rows)
