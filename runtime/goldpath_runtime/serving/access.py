"""The access log: one JSON line per request, in the shape of every other log line, written
in batches.

Through `logging`, with stdout unbuffered as containers run it, the line cost a quarter of
the service's throughput (record, formatter, one write per request). Here a line is one
f-string, and lines are written together every ACCESS_LOG_FLUSH_S (default 1 s) or every
256 lines, like nginx's `access_log ... buffer= flush=`. What that trades: a worker killed
with SIGKILL loses at most that long of access lines (a graceful stop writes them all);
every other log line is still written at once. ACCESS_LOG_FLUSH_S=0 writes each line as
it comes.
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
import time

LOGGER = "access"
_QUOTED: dict[str, str] = {}  # methods as JSON strings
MAX_LINES = 256
LINE = (
    '{"ts": "%s", "level": "INFO", "logger": "access", "message": "request", '
    '"request_id": "%s", "method": %s, "path": "%s", "status": %d, "duration_ms": %.2f}\n'
)


class AccessLog:
    def __init__(self, flush_s: float, stream: str = "stdout") -> None:
        self.flush_s = flush_s
        self.stream = stream
        self.enabled = logging.getLogger(LOGGER).isEnabledFor(logging.INFO)
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._emitting = threading.Lock()  # one batch at a time reaches the stream
        self._second = -1
        self._stamp = ""
        self._flusher: threading.Thread | None = None
        atexit.register(self.flush)

    def _timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:  # the date part changes once a second
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((now - second) * 1000):03d}+00:00"

    def write(
        self, method: str, path: str, status: int, duration_s: float, request_id: str
    ) -> None:
        if not self.enabled:
            return
        # path is a known route or "other" and request_id passed safe_request_id: only the
        # method needs quoting.
        quoted = _QUOTED.get(method)
        if quoted is None:
            quoted = json.dumps(method)
            if len(_QUOTED) < 64:  # the usual methods; anything else is quoted each time
                _QUOTED[method] = quoted
        stamp = self._timestamp(time.time())
        line = LINE % (stamp, request_id, quoted, path, status, duration_s * 1000)
        if self.flush_s <= 0:
            self._emit([line])
            return
        with self._lock:
            self._lines.append(line)
            full = len(self._lines) >= MAX_LINES
            if self._flusher is None:
                self._start()
        if full:
            self.flush()

    def _start(self) -> None:
        # Started by the first request, so it lives in the worker, not in gunicorn's master.
        self._flusher = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._flusher.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.flush_s)
            self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            self._emit(lines)

    def _emit(self, lines: list[str]) -> None:
        stream = getattr(sys, self.stream)  # late-bound: test runners swap sys.stdout
        with self._emitting:
            try:
                stream.write("".join(lines))
                stream.flush()
            except (OSError, ValueError):  # stdout closed at shutdown: nothing left to tell
                pass
