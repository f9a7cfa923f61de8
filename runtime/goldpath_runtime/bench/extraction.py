"""`make bench` for the extraction service: how close it gets to the throughput the
provider allows, and how much latency it adds on top of the provider.

The fake provider answers every call after 200 ms. With 64 clients each waiting for its
answer before sending again (wrk's closed loop), Little's law bounds throughput at
64 / 0.2 s = 320 requests/s. Baseline, in the same run: the same 64 clients calling the
fake provider directly; the service's added latency is its percentile minus the
baseline's. Targets: >= 97 % of the bound, p99 <= 1.02x the provider's alone (1.05x
with 5 % traced), each printed as a `target` line.

The floor, in the same run: a relay that does nothing but pass each request to the
provider and its answer back (RELAY_APP: the same gunicorn config and workers, the same
aiohttp client). Every request crosses HTTP twice more than the provider alone, on the
same two cores as the load and the provider, so no service built this way does better
than the relay; the service's p99 is also reported against it.

Every figure is the median of `--rounds` rounds, each server in a different place in
the order each round (`rotated`): in one fixed order, whichever service ran right after
the relay answered its p99 10-20 ms later than the one after it, whatever its settings.

A project's `benchmarks/extraction.py` hands over its parts: `main(PROJECT, root, app)`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import ProjectError
from .load import ensure_wrk, medians, print_table, run_wrk, target
from .servers import free_port, ready_everywhere, start, stop

if TYPE_CHECKING:
    from ..llm.project import ExtractionProject

# Passes each request's chat (RELAY_CHAT, the one the service would send) to the provider
# (RELAY_URL) and its answer back: no validation, no guardrails, no logging, no metrics.
RELAY_APP = """
import os
import aiohttp

URL, CHAT = os.environ["RELAY_URL"], open(os.environ["RELAY_CHAT"], "rb").read()
HEADERS = {"content-type": "application/json", "authorization": "Bearer relay"}
session = None


async def app(scope, receive, send):
    global session
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    body = b'{"status": "ready"}'
    if scope["path"] != "/readyz":
        if session is None:
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        async with session.post(URL, data=CHAT, headers=HEADERS) as answer:
            body = await answer.read()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
"""


FLOOR = "relay to the provider (floor)"
BASELINE = "fake provider alone (baseline)"
SERVICE = "this service -> fake provider"

T = TypeVar("T")


def rotated(servers: Sequence[T], round_: int) -> list[T]:
    """The order of a round: over len(servers) rounds each server takes every place once."""
    shift = round_ % len(servers)
    return [*servers[shift:], *servers[:shift]]


def main(project: ExtractionProject, root: Path, app: str) -> None:
    """`root`: the project's checkout; `app`: its gunicorn app (`<module>:create_app()`)."""
    from ..llm.gate import evaluate
    from ..llm.prompts import promote, version_tags, working_prompt

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=200, help="the fake provider's")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="rounds of every server, in a different order each round (figures are medians)",
    )  # fmt: skip
    parser.add_argument(
        "--trace-sample-ratio",
        type=float,
        default=0.05,
        help="share of requests traced into the local SQLite store (it writes ~20 traces/s; "
        "production points MLFLOW_TRACKING_URI at a tracking server)",
    )
    args = parser.parse_args()

    settings = project.load_settings()
    try:
        if version_tags(settings, settings.serving_alias) is None:
            print(
                "no @champion prompt yet: running the evaluation gate and promoting",
                file=sys.stderr,
            )
            if not evaluate(project, settings, working_prompt(settings)).passed:
                sys.exit("the working prompt fails the evaluation gate: make eval")
            promote(settings, project.record())
    except ProjectError as exc:
        sys.exit(f"error: {exc}")
    wrk = ensure_wrk()
    logs = Path(tempfile.mkdtemp(prefix="bench-"))
    python = sys.executable
    fake_port, port = free_port(), free_port()
    provider_url = f"http://127.0.0.1:{fake_port}/v1"
    fake = start(
        [
            python,
            "-m",
            f"{project.package}.fake_provider",
            "--port",
            str(fake_port),
            "--latency-ms",
            str(args.latency_ms),
        ],
        os.environ,
        logs / "fake.log",
        root,
    )
    env = {
        **os.environ,
        "PROVIDER": "fake",
        "PROVIDER_URL": provider_url,
        "WEB_CONCURRENCY": str(args.workers),
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    message = json.loads((root / "examples" / "request.json").read_text())["message"]
    prompt = working_prompt(settings).text
    chat: dict[str, object] = {
        "model": project.stand_in_name,
        "messages": [{"role": "system", "content": prompt}, {"role": "user", "content": message}],
    }
    (logs / "relay_app.py").write_text(RELAY_APP)
    (logs / "chat.json").write_text(json.dumps(chat))
    relay_env = {**env, "RELAY_URL": provider_url + "/chat/completions",
                 "RELAY_CHAT": str(logs / "chat.json")}  # fmt: skip
    gunicorn = [python, "-m", "gunicorn", "--config", str(root / "gunicorn.conf.py")]
    traced_label = f"... with {args.trace_sample_ratio:.0%} traced"
    # The service as the goal is measured (tracing off), and with a share of requests
    # traced into the local SQLite store, to show what tracing costs.
    servers = [
        (FLOOR, [*gunicorn, "--chdir", str(logs), "relay_app:app"], relay_env),
        (SERVICE, [*gunicorn, app], {**env, "TRACE_SAMPLE_RATIO": "0.0"}),
        (traced_label, [*gunicorn, app],
         {**env, "TRACE_SAMPLE_RATIO": str(args.trace_sample_ratio)}),
    ]  # fmt: skip
    runs: dict[str, list[dict[str, float]]] = {BASELINE: [], **{s[0]: [] for s in servers}}
    places: dict[str, list[int]] = {label: [] for label in runs}  # in each round's order
    try:
        ready_everywhere(f"http://127.0.0.1:{fake_port}/healthz", fake)
        for round_ in range(args.rounds):
            runs[BASELINE].append(run_wrk(
                wrk, provider_url + "/chat/completions", chat, args.duration, args.clients
            ))  # fmt: skip
            for number, (label, command, server_env) in enumerate(rotated(servers, round_)):
                places[label].append(number + 1)
                server = start(command, server_env, logs / f"server-{round_}-{number}.log", root)
                try:
                    ready_everywhere(f"http://127.0.0.1:{port}/readyz", server)
                    runs[label].append(run_wrk(
                        wrk, f"http://127.0.0.1:{port}/extract", {"message": message},
                        args.duration, args.clients,
                    ))  # fmt: skip
                finally:
                    stop(server)
    finally:
        stop(fake)
    results = medians(runs)

    bound = args.clients / (args.latency_ms / 1000)
    print(
        f"\n{args.clients} clients, provider latency {args.latency_ms:g} ms, "
        f"{args.workers} workers, {args.duration}s each, median of {args.rounds} rounds "
        "(each server in a different place in the order each round)\n"
    )
    print_table(results)
    print("\np99 ms by round (place in that round's order):")
    for label, values in runs.items():
        each = ", ".join(
            f"{r['p99']:.1f}" + (f" ({places[label][i]})" if places[label] else "")
            for i, r in enumerate(values)
        )
        print(f"  {label:<32} {each}")
    ours, base = results[SERVICE], results[BASELINE]
    print(f"\nLittle's-law bound: {bound:,.0f} requests/s")
    print(f"throughput / bound: {100 * ours['rps'] / bound:.1f}%")
    print(
        f"added latency p50: {ours['p50'] - base['p50']:.2f} ms, "
        f"p99: {ours['p99'] - base['p99']:.2f} ms"
    )
    print(f"service p99 / provider-alone p99: {ours['p99'] / base['p99']:.3f}")
    floor = results[FLOOR]
    print(
        f"the relay's p99 / provider-alone p99: {floor['p99'] / base['p99']:.3f} (the floor "
        f"of any service here); service p99 / the relay's: {ours['p99'] / floor['p99']:.3f}"
    )
    traced = results[traced_label]
    print(
        f"\nload generator (wrk), provider and service share this machine's {os.cpu_count()} CPUs"
    )
    target("share of the Little's-law bound", 100 * ours["rps"] / bound, 97, " %")
    target("p99 / provider alone", ours["p99"] / base["p99"], 1.02, "x", at_least=False)
    target(f"p99 / provider alone, {args.trace_sample_ratio:.0%} traced",
           traced["p99"] / base["p99"], 1.05, "x", at_least=False)  # fmt: skip
