"""Throughput and latency of several servers answering the same request, one after the
other on the same machine, each measured once every worker is ready."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .load import medians, run_wrk
from .servers import CEILING_APP, WSGI_CEILING_APP, free_port, start, stop, wait_until_up

CEILING = "HTTP ceiling (no-op app)"


@dataclass(frozen=True)
class Peer:
    """A server to measure: how to start it, when it is ready, what to send it."""

    command: list[str]
    ready_url: str
    target_url: str
    body: object
    ready_lines: int = 0  # workers that must log that they serve before it counts as ready
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Load:
    wrk: str
    connections: int
    duration: int
    warm_up: int = 2


def ceiling(gunicorn: list[str], workdir: Path, body: object, wsgi: bool = False) -> Peer:
    """A no-op app on the same server command and settings: the HTTP stack's own ceiling
    (`wsgi`: a WSGI app, for a server whose workers run one)."""
    (workdir / "ceiling_app.py").write_text(WSGI_CEILING_APP if wsgi else CEILING_APP)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [*gunicorn, "--chdir", str(workdir), "--bind", f"127.0.0.1:{port}", "ceiling_app:app"]
    return Peer(command, url, url, body)


def measure(
    peers: Mapping[str, Peer], env: Mapping[str, str], load: Load, logs: Path,
    cwd: Path | None = None, rounds: int = 1,
) -> dict[str, dict[str, float]]:  # fmt: skip
    """Each peer in turn: started, waited for, loaded with wrk, stopped; `rounds` times
    over, interleaved, each figure the median of its rounds (a shared machine's speed
    drifts by a quarter within minutes: peers measured side by side drift together)."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in peers}
    for round_ in range(rounds):
        for number, (name, peer) in enumerate(peers.items()):
            log = logs / f"server-{number}-{round_}.log"
            process = start(peer.command, {**env, **peer.env}, log, cwd)
            try:
                wait_until_up(peer.ready_url, process, log, peer.ready_lines)
                runs[name].append(run_wrk(
                    load.wrk, peer.target_url, peer.body, load.duration, load.connections,
                    load.warm_up,
                ))  # fmt: skip
            finally:
                stop(process)
    return medians(runs)
