"""Soak: a service under steady load while the resident memory (RSS) of its server and
workers is sampled every second. It passes with zero errors and an RSS at the end no more
than `max_growth` above the RSS after warm-up (the baseline, measured in the same run): a
leak of a few hundred bytes per request shows up as steady growth well past that."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .load import parse_wrk, wrk_command, wrk_script
from .servers import process_tree, rss_mib, start, stop, wait_until_up


@dataclass(frozen=True)
class Load:
    wrk: str
    connections: int
    warm_up: int
    duration: int


def soak(
    command: list[str], env: Mapping[str, str], ready_url: str, url: str, body: object,
    load: Load, workers: int, max_growth: float, cwd: Path | None = None,
) -> int:  # fmt: skip
    """Run the soak, print what it measured; 0 when it passed, 1 when it did not."""
    log = Path(tempfile.mkdtemp(prefix="soak-")) / "server.log"
    server = start(command, env, log, cwd)
    script = wrk_script(body)
    try:
        wait_until_up(ready_url, server, log, workers)
        print(f"warm-up: {load.warm_up}s at {load.connections} connections", flush=True)
        warm = subprocess.run(
            wrk_command(load.wrk, url, script, load.warm_up, load.connections),
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        pids = process_tree(server.pid)
        baseline = rss_mib(pids)
        print(f"soak: {load.duration}s; RSS after warm-up {baseline:.1f} MiB "
              f"({len(pids)} processes)", flush=True)  # fmt: skip
        running = subprocess.Popen(
            wrk_command(load.wrk, url, script, load.duration, load.connections),
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        samples: list[float] = []
        while running.poll() is None:
            time.sleep(1)
            samples.append(rss_mib(process_tree(server.pid)))
        out, _ = running.communicate()
    finally:
        script.unlink(missing_ok=True)
        stop(server)

    warm_up, result = parse_wrk(warm.stdout), parse_wrk(out)
    final = sum(samples[-5:]) / len(samples[-5:])  # the last seconds, not one noisy sample
    growth = (final - baseline) / baseline
    print(f"\n{workers} workers, {load.connections} connections\n")
    print(f"{'phase':<10} {'seconds':>8} {'requests':>10} {'req/s':>8} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'errors':>7}")  # fmt: skip
    for name, seconds, r in (("warm-up", load.warm_up, warm_up), ("soak", load.duration, result)):
        print(f"{name:<10} {seconds:>8} {r['requests']:>10,.0f} {r['rps']:>8,.0f} "
              f"{r['p50']:>7.2f} {r['p99']:>7.2f} {r['errors']:>7.0f}")  # fmt: skip
    print(f"\nRSS (MiB): after warm-up {baseline:.1f} (baseline), peak {max(samples):.1f}, "
          f"end {final:.1f}")  # fmt: skip
    print(f"RSS growth vs the after-warm-up baseline: {100 * growth:+.1f}% "
          f"(limit {100 * max_growth:.0f}%)")  # fmt: skip
    failures = []
    if result["errors"]:
        failures.append(f"{result['errors']:.0f} errors")
    if growth > max_growth:
        failures.append(f"RSS grew {100 * growth:.1f}%")
    print("soak: " + ("FAILED: " + ", ".join(failures) if failures else "passed"))
    return 1 if failures else 0
