"""gunicorn settings and server hooks every service shares. A project's `gunicorn.conf.py`
imports them and sets its worker class:

    from goldpath_runtime.serving.gunicorn import *  # noqa: F403  (settings and hooks)
    worker_class = "goldpath_runtime.serving.uvicorn_worker.Worker"

gunicorn supervises the workers: a worker that dies is replaced, but one that cannot load
what it serves exits with code 4 (APP_LOAD_ERROR), and gunicorn then stops the whole
service with that code instead of restarting workers that would fail the same way.
Every value can be overridden by environment.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from .loading import remove_run_files

__all__ = [
    "accesslog",
    "bind",
    "child_exit",
    "control_socket_disable",
    "default_workers",
    "errorlog",
    "graceful_timeout",
    "keepalive",
    "on_exit",
    "on_starting",
    "preload_app",
    "timeout",
    "workers",
]

# Where the kernel shows this container's cgroup; tests point it at a fake one.
CGROUP = Path(os.environ.get("CGROUP_ROOT", "/sys/fs/cgroup"))


def cpu_limit(cgroup: Path = CGROUP) -> float | None:
    """The container's CPU quota (cgroup v2 `cpu.max`, else v1 CFS quota), None if unlimited.
    os.cpu_count() reports the host's cores, which in a 0.5-vCPU container may be 64."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
        return quota_us / period_us if quota_us > 0 and period_us > 0 else None
    except (OSError, ValueError):
        return None


def default_workers() -> int:
    """WEB_CONCURRENCY when set, else one worker per CPU the container may use, at least
    one. Each worker holds its own model or prompt client."""
    configured = os.environ.get("WEB_CONCURRENCY")
    if configured:
        return max(1, int(configured))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    limit = cpu_limit()
    usable = min(cores or 1, math.ceil(limit)) if limit else (cores or 1)
    return max(1, usable)


bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
# One process per CPU, each with one BLAS/OpenMP thread (set in the image and by
# `make serve`): processes, not threads, are what scale scoring past the GIL.
workers = default_workers()
# Serving workers load no pydantic plugins: finding them reads every installed package's
# metadata at the first model class, on each worker's start (4 ms of 130 in the tabular
# service's). PYDANTIC_DISABLE_PLUGINS="" loads them again (e.g. an observability one).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl),
# which every service on the machine would share; nothing here uses it.
control_socket_disable = True
# Never preload: each worker starts its own load after the fork.
preload_app = False
timeout = 30
# SIGTERM: stop accepting, finish in-flight requests for up to this long, then exit 0.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# The app writes its own JSON access line with the request id; gunicorn's would duplicate it.
accesslog = None
errorlog = "-"

# /metrics sums every worker: each server start gets its own multiprocess directory (set
# before the workers fork and import prometheus_client), a worker that exits is marked dead
# so its live gauges drop out, and a directory made here is removed on exit.
_metrics_dir: str | None = None


def _refuse_a_taken_port(server: Any) -> None:
    """A taken port is one line, not gunicorn's five "Connection in use" retries and
    "Can't connect". The probe sets SO_REUSEADDR as gunicorn does, so only a listening
    socket counts; sockets handed over by a parent (GUNICORN_FD, LISTEN_FDS) are not probed."""
    if os.environ.get("GUNICORN_FD") or os.environ.get("LISTEN_FDS"):
        return
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a unix socket path
        host, port = address[0], int(address[1])
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                sys.stderr.write(
                    f"error: {host}:{port} is in use (another server is running there): stop "
                    f"it, or serve elsewhere, e.g. make serve PORT={port + 1}\n"
                )
                raise SystemExit(1) from None


def on_starting(server: Any) -> None:
    global _metrics_dir
    _refuse_a_taken_port(server)
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        # Stale files from an earlier run would be summed in: start from an empty folder.
        shutil.rmtree(configured, ignore_errors=True)
        os.makedirs(configured, exist_ok=True)
        return
    _metrics_dir = tempfile.mkdtemp(prefix="prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _metrics_dir is not None:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
    remove_run_files(os.getpid())
