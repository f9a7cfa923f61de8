"""gunicorn's worker class for ASGI services: uvicorn (uvloop and httptools) with a
deadline and a size bound for request headers, which uvicorn itself does not have."""

from __future__ import annotations

import asyncio
import gc
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

from .deadlines import client_timeout

# Request headers larger than this are refused with a 431 (httptools has no limit: 200 MB
# of headers used to be read and answered 200). Counted per read, so the read that ends the
# headers may bring part of the body too: generous, yet far below what exhausts memory.
MAX_HEADER_BYTES = 1 << 20
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
    b"connection: close\r\n\r\n"
)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's protocol, closing a connection whose request headers are not complete
    CLIENT_TIMEOUT_S after it opened or after its request began (uvicorn itself only
    times out idle keep-alive connections), or are larger than MAX_HEADER_BYTES."""

    deadline: asyncio.TimerHandle | None = None
    header_bytes = 0
    in_headers = True
    began = 0.0
    # Read once: the environment lookup cost more than the rest of the bookkeeping.
    timeout = client_timeout()

    def data_received(self, data: bytes) -> None:
        if self.in_headers:
            self.header_bytes += len(data)
            if self.header_bytes > MAX_HEADER_BYTES:
                self.in_headers = False
                self._disarm()
                self.transport.write(TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)
        # Headers that arrived whole (nearly every request) never need a timer: it is set
        # only when a read ends with a request's headers still incomplete.
        if self.in_headers and self.deadline is None and not self.transport.is_closing():
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        self.deadline = self.loop.call_at(self.began + self.timeout, self._expire)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expire(self) -> None:
        self.deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.began = self.loop.time()
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_headers = True
        self.began = self.loop.time()
        self._disarm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self.in_headers, self.header_bytes = False, 0
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class Worker(UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {"loop": "auto", "http": HeaderDeadlineProtocol}

    def load_wsgi(self) -> None:
        # Importing the app (numpy, pydantic, the service) allocates objects that live as
        # long as the worker: the collections they set off found no garbage and cost an
        # eighth of the import. Frozen, they are out of every later collection's reach, so
        # settle_heap's once the model is loaded walks only what loading made (0.07 ms
        # against 11 ms for the whole heap of the tabular service).
        gc.disable()
        try:
            super().load_wsgi()
            gc.freeze()
        finally:
            gc.enable()

    async def _serve(self) -> None:
        # uvloop takes over a listening socket.socket (and closes it itself), but not
        # gunicorn's wrapper around one: given the wrapper, the fd is closed twice at
        # shutdown and gunicorn logs "Error while closing socket [Errno 9]".
        listeners: list[Any] = getattr(self, "sockets")  # noqa: B009 - untyped in gunicorn
        setattr(self, "sockets", [getattr(s, "sock", s) for s in listeners])  # noqa: B010
        await super()._serve()
