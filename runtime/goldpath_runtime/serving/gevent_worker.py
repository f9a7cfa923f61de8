"""gunicorn's worker class for WSGI services: gevent, so a slow or stalled client
(slowloris) holds one greenlet, never a worker or a thread, with every read on a client
socket bounded by CLIENT_TIMEOUT_S (the WSGI shell answers a stalled body with 408)."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

from .deadlines import client_timeout


class _QuietTimeouts(logging.Filter):
    """A client too slow for the deadline is its own problem, not a server error with a
    traceback: gunicorn logs every socket timeout as one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], TimeoutError))


class Worker(GeventWorker):
    def init_process(self) -> None:
        logging.getLogger("gunicorn.error").addFilter(_QuietTimeouts())
        super().init_process()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.settimeout(client_timeout())
        # GeventWorker.handle would make the socket blocking again (no timeout).
        super(GeventWorker, self).handle(listener, client, addr)
