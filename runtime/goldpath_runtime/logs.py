"""JSON log lines, one per event, carrying the request id when there is one."""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            payload["request_id"] = rid
        payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class _LateBoundHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout/sys.stderr is at emit time (test runners swap them)."""

    def __init__(self, stream_name: str) -> None:
        super().__init__()
        self.stream_name = stream_name

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = getattr(sys, self.stream_name)
        super().emit(record)


def configure_logging(level: str = "INFO", stream: str = "stdout") -> None:
    """JSON lines on stdout for services (what log collectors read); the CLI passes
    stream="stderr" so its own output stays clean for pipes."""
    handler = _LateBoundHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that log per call at INFO would drown the service's own lines. MLflow sets
    # its loggers' level again when it is imported (later, lazily): its variable holds it.
    quiet = str(level).upper() != "DEBUG"
    if quiet:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        # "Failed to resolve installed pip version" on every model save: uv projects have no pip.
        logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
    for noisy in ("mlflow", "alembic", "urllib3", "httpx", "py4j"):
        logging.getLogger(noisy).setLevel(logging.WARNING if quiet else logging.DEBUG)
