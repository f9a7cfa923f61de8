"""What a worker does when what it serves (a model, a prompt) cannot load.

With no worker of the server serving yet, the failure is the service's: the first worker
to fail logs one line and exits with gunicorn's APP_LOAD_ERROR, and gunicorn stops the
whole service with that code instead of booting replacements that would fail the same way.
Once a worker serves, a replacement that cannot load (say the store went down) retries,
unready, while the others serve. Workers of one server run find each other through flag
files named after the gunicorn master (its pid and start time); the hooks in
`goldpath_runtime.serving.gunicorn` remove them on exit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import ProjectError
from .heap import settle_heap

log = logging.getLogger(__name__)

# gunicorn's APP_LOAD_ERROR.
LOAD_FAILED_EXIT_CODE = 4
FLAG_PREFIX = "goldpath-serving"


def server_run_file(kind: str) -> Path | None:
    """A flag file for this gunicorn server run, fresh for every run (None outside one)."""
    master = os.getppid()
    try:
        stat = Path(f"/proc/{master}/stat").read_text()
        started = stat[stat.rindex(")") + 2 :].split()[19]
    except (OSError, ValueError, IndexError):
        return None
    return Path(tempfile.gettempdir()) / f"{FLAG_PREFIX}-{kind}-{master}-{started}"


def remove_run_files(master: int) -> None:
    for flag in Path(tempfile.gettempdir()).glob(f"{FLAG_PREFIX}-*-{master}-*"):
        flag.unlink(missing_ok=True)


def _first_to_fail() -> bool:
    """Whether this worker is the first of its master to fail loading; anything unexpected
    counts as first (then the worker simply exits)."""
    claim = server_run_file("load-failed")
    if claim is None:
        return True
    try:
        claim.touch(exist_ok=False)
    except FileExistsError:
        return False
    except OSError:
        return True
    return True


def mark_loaded() -> None:
    """Record that a worker of this server run serves (see `retry_delay`)."""
    flag = server_run_file("loaded")
    if flag is not None:
        flag.touch(exist_ok=True)


def _reason(exc: BaseException) -> str:
    reason = str(exc) if isinstance(exc, ProjectError) else f"{type(exc).__name__}: {exc}"
    return " ".join(reason.split())


def retry_delay(exc: BaseException, attempt: int, longest: float = 60) -> float | None:
    """Seconds before this worker tries again, when another worker of its server already
    serves; None when nobody serves yet (the failure is the service's: `exit_load_failed`)."""
    flag = server_run_file("loaded")
    if flag is None or not flag.exists():
        return None
    delay = float(min(longest, 2**attempt))
    log.error(
        "failed to load in this worker; the other workers keep serving; retry in %.0f s: %s",
        delay,
        _reason(exc),
    )
    return delay


def retry_unless_missing(exc: BaseException, attempt: int, longest: float = 30) -> float | None:
    """For what a service can wait for: a store that does not answer is retried with
    backoff while the worker stays unready; what does not exist (a ProjectError: no such
    prompt or alias) will not appear by retrying, and ends the service."""
    if isinstance(exc, ProjectError):
        return retry_delay(exc, attempt, longest)
    delay = float(min(longest, 0.5 * 2 ** (attempt + 1)))
    log.warning(
        "store unavailable, retrying", extra={"error": type(exc).__name__, "attempt": attempt + 1}
    )
    return delay


def exit_load_failed(exc: BaseException, what: str = "model") -> None:
    """Report what cannot load as one line, and end the service.

    `_exit`, because this runs in a background thread or task, where SystemExit would only
    end that. A worker failing after the first stays up, unready, until gunicorn's SIGTERM
    reaches it: a second APP_LOAD_ERROR while gunicorn is already stopping crashes its
    arbiter with a traceback. A timer still ends such a worker should that SIGTERM never come.
    """
    if _first_to_fail():
        log.error("%s failed to load: %s", what, _reason(exc))
        logging.shutdown()
        os._exit(LOAD_FAILED_EXIT_CODE)
    fallback = threading.Timer(30, os._exit, args=(LOAD_FAILED_EXIT_CODE,))
    fallback.daemon = True
    fallback.start()


T = TypeVar("T")


class Slot(Generic[T]):
    """What a worker serves, once loaded; it may be replaced later (a promotion followed)
    by one assignment, so a request in flight keeps what it started with."""

    def __init__(self, what: str, ready: asyncio.Event | threading.Event) -> None:
        self.what = what
        self.value: T | None = None
        self._set_ready = ready.set

    def fill(self, value: T, describe: Callable[[T], dict[str, Any]]) -> None:
        """Serve `value`: the heap settled, the server run told, one log line."""
        settle_heap()
        mark_loaded()
        self.value = value
        self._set_ready()
        log.info(f"{self.what} loaded", extra=describe(value))
