"""Where a cold start's time goes: importing the app, loading the baked artifact, and the
first request, each measured in a fresh interpreter of the environment that serves
(the slim image's), plus the modules that cost the most to import (`python -X
importtime`)."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

# Run in the serving environment: times each phase in one fresh process, the way a worker
# goes through them, and prints them as JSON. The app and loader are named by the project;
# the request is its example.
PROBE = """
import asyncio, gc, json, os, sys, time
started = time.perf_counter()
module, loader_module, loader_name, body = sys.argv[1:5]
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # as goldpath's gunicorn settings
gc.disable()  # as the serving worker imports the app (goldpath_runtime.serving.uvicorn_worker)
app_module = __import__(module, fromlist=["create_app"])
gc.freeze()
gc.enable()
imported = time.perf_counter()
loader = getattr(__import__(loader_module, fromlist=[loader_name]), loader_name)
settings = app_module.load_settings()
predictor = loader(settings)
loaded = time.perf_counter()
rows, single = predictor.parse(body.encode())
predictor.respond_json(predictor.score(rows), single)
answered = time.perf_counter()
print(json.dumps({"imports": imported - started, "artifact load": loaded - imported,
                  "first request": answered - loaded}))
"""


def split(
    python: str, module: str, loader: str, body: str, env: Mapping[str, str], cwd: Path,
    runs: int = 3,
) -> dict[str, float]:  # fmt: skip
    """Median seconds of each phase over `runs` fresh processes. `loader` is
    "<module>:<function>" building the predictor from the app module's settings."""
    loader_module, loader_name = loader.split(":")
    phases: dict[str, list[float]] = {}
    for _ in range(runs):
        out = subprocess.run(
            [python, "-c", PROBE, module, loader_module, loader_name, body],
            env=dict(env), cwd=cwd, capture_output=True, text=True, check=True,
        )  # fmt: skip
        for phase, seconds in json.loads(out.stdout.strip().splitlines()[-1]).items():
            phases.setdefault(phase, []).append(seconds)
    return {phase: statistics.median(values) for phase, values in phases.items()}


def heaviest_imports(
    python: str, module: str, env: Mapping[str, str], cwd: Path, top: int = 8
) -> list[tuple[str, float]]:
    """The packages that cost the most to import: seconds from the start to the end of each
    one's first import, so a package another one imports counts in both."""
    out = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"],
        env=dict(env), cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    totals: dict[str, float] = {}
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| *([\w]+)$", line)
        if match:  # a top-level package's own import, with everything it imported
            totals[match.group(2)] = int(match.group(1)) / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def report(times: Mapping[str, Sequence[float]], baseline: str) -> dict[str, float]:
    """Print each server's median seconds to ready, the fastest and slowest start, and the
    median's ratio to `baseline`'s; return the ratios. The range is printed because a
    gunicorn start varies by up to 0.1 s (a random wait after spawning each worker), half
    a no-op app's start: a reader sees how far one run's ratio can move."""
    base = statistics.median(times[baseline])
    ratios = {}
    print(f"{'server':<30} {'ready s':>8} {'fastest':>8} {'slowest':>8} {'x no-op':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        ratios[name] = median / base
        print(
            f"{name:<30} {median:>8.2f} {min(values):>8.2f} {max(values):>8.2f} "
            f"{ratios[name]:>8.2f}"
        )
    return ratios
