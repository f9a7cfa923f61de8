"""Serving throughput and latency: this service against two peers serving the same
registered model, `mlflow models serve` and Seldon's MLServer (scikit-learn runtime), and
against a no-op app on the same HTTP stack (the ceiling).

    make bench        # or: uv run python benchmarks/serving.py [--duration 10]

Each server gets the same worker count; wrk (installed by you: the benchmark names the
command when it is missing) drives it with the same single-row request from CONNECTIONS
concurrent clients, once every worker is ready. The named baseline is `mlflow models
serve`, measured in the same run. MLServer runs in its own uv tool environment with this
project's scikit-learn version (`--no-mlserver` skips it, e.g. offline). Then the same app
and a no-op app on other servers, uvicorn alone and granian, each against its own ceiling
(`goldpath_runtime.bench.alternatives`; `--no-alternatives` skips them).

A project's `benchmarks/serving.py` hands over its parts: `main(PROJECT, root, app, label)`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GovernanceError, ModelNotFoundError, ProjectError
from . import alternatives, models
from .load import ensure_wrk, print_table, target
from .servers import free_port, server_env
from .throughput import CEILING, Load, Peer, ceiling, measure

if TYPE_CHECKING:
    from ..tabular.project import TabularProject
    from ..tabular.registry import LoadedModel


def ensure_champion(project: TabularProject) -> tuple[Any, LoadedModel]:
    """The local store's @champion, training and promoting one first if there is none.

    Promoting is a recorded decision here as anywhere: it needs APPROVER and REASON (and
    VALIDATOR for risk tier high), e.g. `make bench APPROVER=<you> REASON=benchmark`."""
    from ..tabular.registry import load_serving_model, promote
    from ..tabular.training import train

    settings = project.load_settings()
    try:
        return settings, load_serving_model(settings)
    except ModelNotFoundError:
        pass
    try:
        try:
            # `make train` left a @challenger that passed its gate
            move = promote(settings, project.record())
            print(f"no @champion yet: promoted the @challenger, v{move.version}", flush=True)
        except GovernanceError:
            raise
        except ProjectError:
            print("no @champion yet: training one", flush=True)
            train(project, settings)
            promote(settings, project.record())
    except GovernanceError as exc:
        sys.exit(f"error: no @champion to measure, and promoting one is a recorded decision: {exc}")
    return settings, load_serving_model(settings)


def ensure_challenger(project: TabularProject, settings: Any, champion: LoadedModel) -> str:
    """A @challenger other than the champion, for the shadowed run: `make train` leaves
    one; without, one is trained (registered as @challenger, never promoted)."""
    from ..store import connect
    from ..tabular.registry import alias_version
    from ..tabular.training import train

    found = alias_version(connect(settings), settings.model_name, "challenger")
    if found is not None and str(found.version) != champion.version:
        return str(found.version)
    print("no @challenger besides the champion: training one to shadow", flush=True)
    return str(train(project, settings).version)


def this_service(
    gunicorn: list[str], app: str, row: dict[str, object], workers: int,
    env: dict[str, str] | None = None,
) -> Peer:  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*gunicorn, "--bind", f"127.0.0.1:{port}", app]
    return Peer(command, f"{base}/readyz", f"{base}/predict", row, workers, env or {})


def main(project: TabularProject, root: Path, app: str, label: str, wsgi: bool = False) -> None:
    """`root`: the project's checkout; `app`: its gunicorn app; `label`: how the table
    names it ("this service (FastAPI)"); `wsgi`: the app is WSGI (the Flask variant's
    gevent workers), so is its ceiling, and the other servers, all ASGI, are skipped."""
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", str(root / "gunicorn.conf.py")]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-mlserver", action="store_true", help="skip the MLServer peer")
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="rounds of this service beside its ceiling (and of each other server beside its "
        "own), interleaved; medians are reported",
    )  # fmt: skip
    parser.add_argument(
        "--no-alternatives", action="store_true",
        help="skip this service and a no-op app on other servers (uvicorn alone, granian)",
    )  # fmt: skip
    parser.add_argument(
        "--shadow-rate", type=float, default=0.1,
        help="share of requests a @challenger scores in the shadow, measured as a run of its "
        "own beside the unshadowed one (0 skips it)",
    )  # fmt: skip
    args = parser.parse_args()

    settings, model = ensure_champion(project)
    challenger = ensure_challenger(project, settings, model) if args.shadow_rate > 0 else None
    wrk = ensure_wrk()
    row = json.loads((root / "examples" / "request.json").read_text())
    logs = Path(tempfile.mkdtemp(prefix="bench-"))
    uri = f"models:/{model.name}/{model.version}"
    peers = {
        label: this_service(gunicorn, app, row, args.workers),
        "mlflow models serve": models.mlflow_serve(uri, row, args.workers),
    }
    shadowed = f"{label}, {100 * args.shadow_rate:g}% shadowed"
    if challenger is not None:
        shadow_env = {"SHADOW_SAMPLE_RATE": str(args.shadow_rate),
                      "SHADOW_LOG_DIR": str(logs / "shadow")}  # fmt: skip
        peers[shadowed] = this_service(gunicorn, app, row, args.workers, shadow_env)
    if not args.no_mlserver:
        peers["MLServer (scikit-learn)"] = models.mlserver(
            model.pipeline, model.version, row, logs, args.workers
        )
    # The ceiling runs on the same server and settings (gunicorn.conf.py) as this service,
    # measured beside it round after round: their ratio is the figure that matters.
    ceiling_peer = ceiling(gunicorn, logs, row, wsgi)
    env = server_env(settings.mlflow_tracking_uri, args.workers)
    load = Load(wrk, args.connections, args.duration)
    (logs / "pair").mkdir()
    pair = {label: peers.pop(label), CEILING: ceiling_peer}
    results = measure(pair, env, load, logs / "pair", root, rounds=args.rounds)
    results.update(measure(peers, env, load, logs, root))
    results = {name: results[name] for name in [label, *peers, CEILING]}
    if wsgi and not args.no_alternatives:
        print("other servers not measured: they are ASGI servers and this app is WSGI")
    elif not args.no_alternatives:
        (logs / "alternatives").mkdir()
        others = alternatives.peers(
            app.removesuffix("()"), row, args.workers, logs / "alternatives"
        )
        try:
            results.update(
                measure(others, env, load, logs / "alternatives", root, rounds=args.rounds)
            )
        except SystemExit as exc:  # e.g. offline: granian cannot be fetched
            print(f"other servers not measured: {exc}", flush=True)

    print(f"\nmodel v{model.version}, {args.workers} workers, {args.connections} connections, "
          f"{args.duration}s each, single-row requests; this service and the ceiling: "
          f"median of {args.rounds} interleaved rounds\n")  # fmt: skip
    print_table(results, width=40)
    ours, baseline, top = results[label], results["mlflow models serve"], results[CEILING]
    print(f"\nfraction of the HTTP ceiling reached: {100 * ours['rps'] / top['rps']:.0f}%")
    print(f"throughput ratio vs mlflow models serve: {ours['rps'] / baseline['rps']:.1f}x")
    if shadowed in results:
        peer = results[shadowed]
        print(f"shadow overhead at {100 * args.shadow_rate:g}% (v{challenger} beside "
              f"v{model.version}): throughput x{peer['rps'] / ours['rps']:.2f}, "
              f"p99 {peer['p99']:.2f} ms vs {ours['p99']:.2f} ms")  # fmt: skip
    if "MLServer (scikit-learn)" in results:
        peer = results["MLServer (scikit-learn)"]
        print(f"throughput ratio vs MLServer: {ours['rps'] / peer['rps']:.1f}x "
              f"(p99 {ours['p99']:.2f} ms vs {peer['p99']:.2f} ms)")  # fmt: skip
    print("\nshare of each server's own no-op ceiling:")
    worker = "gevent" if wsgi else "uvicorn"
    print(f"  gunicorn + {worker} worker (the default): {100 * ours['rps'] / top['rps']:.0f}%")
    for name in alternatives.SERVERS:
        served, noop = results.get(f"this service on {name}"), results.get(f"no-op app on {name}")
        if served and noop:
            print(f"  {name}: {100 * served['rps'] / noop['rps']:.0f}% "
                  f"({served['rps']:,.0f} of {noop['rps']:,.0f} requests/s)")  # fmt: skip
    print(f"\nload generator (wrk) and servers share this machine's {os.cpu_count()} CPUs")
    target("share of the HTTP ceiling", 100 * ours["rps"] / top["rps"], 40, " %")
    target(f"p99 at {args.connections} connections", ours["p99"], 5, " ms", at_least=False)
    target("throughput vs mlflow models serve", ours["rps"] / baseline["rps"], 40, "x")
