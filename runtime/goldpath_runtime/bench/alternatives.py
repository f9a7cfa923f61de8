"""Other Python HTTP servers for the same ASGI app, each measured beside a no-op app of its
own (its ceiling), so `make bench` says what the server costs and what the app costs.

- uvicorn alone: its own process manager (`--workers`), httptools and uvloop, as the
  default's workers use; no gunicorn.
- granian: a Rust HTTP server with its own workers (`uv run --with granian`: this
  project's environment plus granian, fetched once into uv's cache).

The default stays gunicorn with the platform's uvicorn worker while only it keeps the
fault guarantees the serving tests check: SIGTERM drains in-flight requests, a dead
worker is replaced, slow clients are cut at CLIENT_TIMEOUT_S (headers and body), metrics
are summed across workers (gunicorn's hooks give each start its multiprocess directory)
and the access log is batched. Neither alternative has the header deadline or the
per-start metrics directory.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .servers import CEILING_APP, free_port
from .throughput import Peer

GRANIAN = "granian==2.8.9"


def uvicorn_alone(target: list[str], workers: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--workers", str(workers), "--http", "httptools",
            "--loop", "uvloop", "--no-access-log", "--host", "127.0.0.1", *target]  # fmt: skip


def granian(target: list[str], workers: int) -> list[str]:
    uv = shutil.which("uv") or sys.exit("uv is not on PATH: pip install uv")
    return [uv, "run", "--with", GRANIAN, "granian", "--interface", "asgi", "--workers",
            str(workers), "--loop", "uvloop", "--host", "127.0.0.1", *target]  # fmt: skip


SERVERS = {"uvicorn alone (httptools)": uvicorn_alone, "granian": granian}


def peers(factory: str, row: object, workers: int, workdir: Path) -> dict[str, Peer]:
    """This service (`factory`: "<module>:<function>" building the app) and a no-op app on
    each alternative server: "<server>" and "<server>, no-op app" rows."""
    (workdir / "ceiling_app.py").write_text(CEILING_APP)
    found: dict[str, Peer] = {}
    for name, command in SERVERS.items():
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        service = command(["--port", str(port), "--factory", factory], workers)
        found[f"this service on {name}"] = Peer(
            service, f"{base}/readyz", f"{base}/predict", row, workers
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        noop = command(["--port", str(port), "ceiling_app:app"], workers)
        found[f"no-op app on {name}"] = Peer(noop, f"{base}/", f"{base}/", row, 0, {
            "PYTHONPATH": str(workdir)
        })  # fmt: skip
    return found
