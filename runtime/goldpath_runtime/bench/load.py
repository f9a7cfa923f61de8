"""wrk, the load generator: found (or one line naming how to install it), driven with one
JSON body from a fixed number of clients, its report read into numbers."""

from __future__ import annotations

import json
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path


def ensure_wrk() -> str:
    """wrk, or one line naming the command that installs it here (a benchmark never
    installs system packages by itself)."""
    found = shutil.which("wrk")
    if found:
        return found
    if platform.system() == "Darwin":
        how = "brew install wrk"
    elif shutil.which("apt-get"):
        how = "sudo apt-get install -y wrk"
    elif shutil.which("dnf"):
        how = "sudo dnf install -y wrk"
    else:
        how = "your package manager, or https://github.com/wg/wrk"
    sys.exit(f"wrk is not installed: install it ({how}), then run this again")


def wrk_script(body: object) -> Path:
    """A wrk Lua script that POSTs `body` as JSON on every request."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
        )
    return Path(script.name)


def wrk_command(wrk: str, url: str, script: Path, seconds: int, connections: int) -> list[str]:
    return [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
            "-s", str(script), url]  # fmt: skip


def parse_wrk(out: str) -> dict[str, float]:
    """Requests/s, p50 and p99 in ms, errors (non-2xx plus socket errors) and requests."""

    def latency_ms(percentile: str) -> float:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    requests = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50": latency_ms("50"),
        "p99": latency_ms("99"),
        "errors": float(errors),
        "requests": float(requests.group(1)) if requests else float("nan"),
    }


def run_wrk(
    wrk: str, url: str, body: object, seconds: int, connections: int, warm_up: int = 2
) -> dict[str, float]:
    """`seconds` of load after `warm_up` seconds of the same load, not measured."""
    script = wrk_script(body)
    try:
        if warm_up:
            warming = wrk_command(wrk, url, script, warm_up, connections)
            subprocess.run(warming, capture_output=True, check=True)
        command = wrk_command(wrk, url, script, seconds, connections)
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        script.unlink(missing_ok=True)
    return parse_wrk(out)


def medians(runs: Mapping[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each server's figures over its rounds: the median of each, but every error counted
    (a median would hide a round that failed)."""
    return {
        name: {
            key: sum(r[key] for r in results) if key == "errors"
            else statistics.median(r[key] for r in results)
            for key in results[0]
        }
        for name, results in runs.items()
    }  # fmt: skip


def print_table(results: dict[str, dict[str, float]], width: int = 32) -> None:
    print(f"{'server':<{width}} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in results.items():
        figures = f"{r['rps']:>11,.1f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['errors']:>7.0f}"
        print(f"{name:<{width}} {figures}")


def target(what: str, value: float, goal: float, unit: str = "", at_least: bool = True) -> str:
    """One summary line: a measure, its goal (issue #35's targets) and whether it is met,
    so a run can be read, or grepped, at a glance."""
    met = value >= goal if at_least else value <= goal
    sign = ">=" if at_least else "<="
    verdict = "met" if met else "NOT MET"
    line = f"target {what}: {value:,.3g}{unit} (goal {sign} {goal:g}{unit}) {verdict}"
    print(line)
    return line
