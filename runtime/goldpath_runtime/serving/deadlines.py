"""How long a client may take to send its request: CLIENT_TIMEOUT_S (default 10 s).

A client that connects and sends slowly, or not at all (slowloris), must not hold a
connection forever: the workers bound how long a request's headers may take to arrive,
and the shells bound its body the same way (408)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

DEFAULT_S = 10.0


def client_timeout() -> float:
    """CLIENT_TIMEOUT_S; a bad value falls back to the default here, and a project's
    settings then stop the app with one line naming the variable."""
    try:
        value = float(os.environ.get("CLIENT_TIMEOUT_S", str(DEFAULT_S)))
    except ValueError:
        return DEFAULT_S
    return value if 0 < value <= 300 else DEFAULT_S


class BodyDeadlines:
    """Deadlines on reading request bodies, kept by one timer per event loop rather than
    one per request (`asyncio.timeout` makes and cancels a timer-heap entry on every
    request: about 5 us, a tenth of a scoring request's CPU). The timer runs only while a
    body is being read, every tenth of the shortest timeout (between 50 ms and 1 s), and
    cancels the readers that are past their deadline: a deadline is met late by at most
    that tick."""

    def __init__(self) -> None:
        self._reading: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._tick = 1.0

    def start(self, timeout: float) -> asyncio.Task[Any] | None:
        """Watch the current task's read for `timeout` seconds; `stop` ends it."""
        task = asyncio.current_task()
        if task is None:
            return None
        loop = task.get_loop()
        self._reading[task] = loop.time() + timeout
        tick = min(1.0, max(0.05, timeout / 10))
        if self._timer is None or tick < self._tick:
            if self._timer is not None:
                self._timer.cancel()
            self._tick = tick
            self._timer = loop.call_later(tick, self._check, loop)
        return task

    def stop(self, task: asyncio.Task[Any] | None) -> None:
        self._reading.pop(task, None)  # type: ignore[arg-type]

    def expired(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether `task` was cancelled for its deadline (and clears that cancellation);
        a cancellation for any other reason stays one."""
        if task is None or task not in self._expired:
            return False
        self._expired.discard(task)
        task.uncancel()
        return True

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for task, deadline in list(self._reading.items()):
            if now >= deadline:
                del self._reading[task]
                self._expired.add(task)
                task.cancel()
        if self._reading:
            self._timer = loop.call_later(self._tick, self._check, loop)
        else:
            self._timer, self._tick = None, 1.0


_BODY_DEADLINES: dict[asyncio.AbstractEventLoop, BodyDeadlines] = {}


def body_deadlines() -> BodyDeadlines:
    """This event loop's body deadlines (a worker has one loop; tests start several)."""
    loop = asyncio.get_running_loop()
    found = _BODY_DEADLINES.get(loop)
    if found is None:
        _BODY_DEADLINES.clear()  # loops that ended: their timers ended with them
        found = _BODY_DEADLINES[loop] = BodyDeadlines()
    return found
