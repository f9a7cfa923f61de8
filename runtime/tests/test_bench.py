"""What the projects' benchmarks share: wrk's report read into numbers, a missing wrk named
in one line, servers started, waited for and stopped, the no-op ceiling app and the LLM
benchmark's relay served by a real gunicorn, and a server's memory summed over its process
tree."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldpath_runtime.bench import alternatives
from goldpath_runtime.bench.load import ensure_wrk, parse_wrk, target
from goldpath_runtime.bench.servers import (
    process_tree,
    rss_mib,
    start,
    stop,
    time_to_ready,
    wait_until_up,
)
from goldpath_runtime.bench.startup import heaviest_imports, report, split
from goldpath_runtime.bench.throughput import Peer, ceiling

# wrk 4.1's report of a run with failures, as `--latency` prints it.
WRK_REPORT = """\
Running 10s test @ http://127.0.0.1:8000/predict
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.91ms    1.20ms  30.11ms   90.12%
    Req/Sec     2.06k   150.33     2.40k    71.00%
  Latency Distribution
     50%  812.00us
     75%    4.30ms
     90%    5.10ms
     99%    1.20s
  41000 requests in 10.00s, 8.12MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   4099.51
Transfer/sec:    831.52KB
"""


def test_a_wrk_report_is_read_in_milliseconds_with_every_error_counted() -> None:
    figures = parse_wrk(WRK_REPORT)
    assert figures == {"rps": 4099.51, "p50": 0.812, "p99": 1200.0, "errors": 12.0,
                       "requests": 41000.0}  # fmt: skip


@given(st.text(max_size=2000))
def test_any_text_reads_as_numbers_or_nan_never_an_exception(out: str) -> None:
    figures = parse_wrk(out)
    assert set(figures) == {"rps", "p50", "p99", "errors", "requests"}
    assert all(isinstance(v, float) for v in figures.values())
    assert figures["errors"] >= 0 or math.isnan(figures["errors"])


def test_a_missing_wrk_is_one_line_naming_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SystemExit) as stopped:
        ensure_wrk()
    message = str(stopped.value.code)
    assert message.startswith("wrk is not installed: install it (")
    assert message.endswith("then run this again")
    assert "\n" not in message


def test_the_ceiling_app_is_served_by_a_real_gunicorn(tmp_path: Path) -> None:
    gunicorn = [sys.executable, "-m", "gunicorn", "--worker-class",
                "uvicorn_worker.UvicornWorker", "--workers", "1"]  # fmt: skip
    peer = ceiling(gunicorn, tmp_path, {"x": 1})
    process = serves_the_no_op_answer(peer, {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert process.returncode is not None


def serves_the_no_op_answer(
    peer: Peer, env: dict[str, str], tmp_path: Path, timeout: float = 60
) -> subprocess.Popen[bytes]:
    """Starts `peer`, checks it answers the ceiling app's prediction, stops it."""
    log = tmp_path / "server.log"
    process = start(peer.command, env, log, tmp_path)
    try:
        wait_until_up(peer.ready_url, process, log, timeout=timeout)
        call = urllib.request.Request(  # noqa: S310 - loopback
            peer.target_url, data=json.dumps(peer.body).encode()
        )
        with urllib.request.urlopen(call, timeout=5) as answer:  # noqa: S310 - loopback
            assert json.loads(answer.read())["prediction"] == 1
    finally:
        stop(process)
    return process


def test_a_server_that_exits_is_one_line_not_a_wait(tmp_path: Path) -> None:
    log = tmp_path / "dead.log"
    process = start([sys.executable, "-c", "raise SystemExit(3)"], {}, log)
    with pytest.raises(SystemExit, match=r"exited with code 3: see .*dead\.log$"):
        wait_until_up("http://127.0.0.1:9/", process, log, timeout=30)


SERVER = """
import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ok)
print("model loaded", flush=True)
server.serve_forever()
"""


def test_time_to_ready_counts_until_the_marker_and_the_answer(tmp_path: Path) -> None:
    from goldpath_runtime.bench.servers import free_port

    port = free_port()
    seconds = time_to_ready(
        [sys.executable, "-c", SERVER, str(port)], {}, "model loaded", 1,
        f"http://127.0.0.1:{port}/", tmp_path / "server.log",
    )  # fmt: skip
    assert 0 < seconds < 60
    with pytest.raises(urllib.error.URLError, match="Connection refused"):  # stopped
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_memory_is_summed_over_the_whole_process_tree() -> None:
    child = "import time; time.sleep(60)"
    parent = subprocess.Popen(
        [sys.executable, "-c",
         f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); "
         "time.sleep(60)"],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(process_tree(parent.pid)) < 2:
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        tree = process_tree(parent.pid)
        assert tree[0] == parent.pid
        assert rss_mib(tree) > rss_mib([parent.pid]) > 1
        assert rss_mib([2**22 + 12345]) == 0  # a process that is gone counts nothing
    finally:
        for pid in reversed(process_tree(parent.pid)):
            subprocess.run(["kill", "-9", str(pid)], check=False)
        parent.wait()


def test_a_target_line_says_whether_the_goal_is_met() -> None:
    assert target("share of the ceiling", 41.2, 40, " %").endswith("(goal >= 40 %) met")
    assert target("p99", 5.4, 5, " ms", at_least=False).endswith("(goal <= 5 ms) NOT MET")


TOY_APP = """
import time
time.sleep(0.2)  # an import that costs what FastAPI's does
import slow_dependency

class Predictor:
    def parse(self, body):
        return [body], True
    def score(self, rows):
        return [0.5]
    def respond_json(self, probability, single):
        return b"{}"

def load_settings():
    return {}

def load(settings):
    time.sleep(0.1)
    return Predictor()
"""


def test_a_cold_start_is_split_into_imports_artifact_and_first_request(tmp_path: Path) -> None:
    (tmp_path / "toy_app.py").write_text(TOY_APP)
    (tmp_path / "slow_dependency.py").write_text("import time\ntime.sleep(0.3)\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    phases = split(sys.executable, "toy_app", "toy_app:load", "{}", env, tmp_path, runs=1)
    assert list(phases) == ["imports", "artifact load", "first request"]
    assert phases["imports"] >= 0.5
    assert 0.1 <= phases["artifact load"] < phases["imports"]
    heaviest = dict(heaviest_imports(sys.executable, "toy_app", env, tmp_path))
    assert heaviest["slow_dependency"] >= 0.3
    assert heaviest["toy_app"] >= heaviest["slow_dependency"] + 0.2


LAUNCHER = """
import subprocess, sys, time
# As `uv tool run` starts MLServer: a child that ignores SIGTERM and outlives its parent.
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"])
print(child.pid, flush=True)
time.sleep(300)
"""


def test_start_up_is_reported_as_medians_with_their_range_and_ratio(
    capsys: pytest.CaptureFixture[str],
) -> None:
    times = {"no-op app": [0.2, 0.1, 0.15], "service": [0.3, 0.5, 0.28, 0.31]}
    ratios = report(times, "no-op app")
    assert ratios == {"no-op app": 1.0, "service": pytest.approx(0.305 / 0.15)}
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows == [["no-op", "app", "0.15", "0.10", "0.20", "1.00"],
                    ["service", "0.30", "0.28", "0.50", "2.03"]]  # fmt: skip


def test_stopping_a_server_stops_what_it_started(tmp_path: Path) -> None:
    """A benchmark leaves no server behind: a child that ignores SIGTERM is killed with
    its process group once the parent has gone."""
    log = tmp_path / "launcher.log"
    process = start([sys.executable, "-c", LAUNCHER], os.environ, log)
    deadline = time.monotonic() + 30
    while not log.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(log.read_text().split()[0])
    time.sleep(0.3)  # the child has set its SIGTERM handler
    stop(process)
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{child}/stat").read_text().split(")")[1].split()[0] == "Z":
            return  # killed, waiting for its (re)parent to reap it
        time.sleep(0.05)
    raise AssertionError(f"the launcher's child {child} outlived stop()")


@pytest.mark.parametrize("server", sorted(alternatives.SERVERS))
def test_each_alternative_server_serves_the_no_op_app(server: str, tmp_path: Path) -> None:
    """make bench measures other servers against their own no-op ceiling: each starts
    for real here, with the workers asked for, and answers."""
    found = alternatives.peers("toy:create_app", {"x": 1}, 2, tmp_path)
    noop = found[f"no-op app on {server}"]
    workers = noop.command.index("--workers")
    assert noop.command[workers + 1] == "2"
    serves_the_no_op_answer(noop, {**os.environ, **noop.env}, tmp_path, timeout=120)
    service = found[f"this service on {server}"]
    assert service.command[-2:] == ["--factory", "toy:create_app"]
    assert service.ready_lines == 2


def test_rounds_are_interleaved_and_their_medians_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared machine's speed drifts within minutes: a service and its ceiling are
    measured side by side, round after round, and each figure is its rounds' median."""
    from goldpath_runtime.bench import throughput

    gunicorn = [sys.executable, "-m", "gunicorn", "--worker-class",
                "uvicorn_worker.UvicornWorker", "--workers", "1"]  # fmt: skip
    peers = {"a": ceiling(gunicorn, tmp_path, {"x": 1}), "b": ceiling(gunicorn, tmp_path, {})}
    order: list[str] = []
    speeds = iter([100.0, 10.0, 300.0, 30.0, 200.0, 20.0])  # the machine speeds up and slows

    def fake_wrk(wrk: str, url: str, body: object, *args: object) -> dict[str, float]:
        order.append("a" if body else "b")
        return {"rps": next(speeds), "p99": 1.0}

    monkeypatch.setattr(throughput, "run_wrk", fake_wrk)
    load = throughput.Load("wrk", 1, 1)
    results = throughput.measure(peers, {"PATH": "/usr/bin:/bin"}, load, tmp_path, rounds=3)
    assert order == ["a", "b"] * 3
    assert results == {"a": {"rps": 200.0, "p99": 1.0}, "b": {"rps": 20.0, "p99": 1.0}}


def test_every_server_takes_every_place_in_the_order_once() -> None:
    """The extraction bench rotates its servers: the one right after the relay measured
    10-20 ms more p99, whichever it was, so each takes that place in one round of three."""
    from goldpath_runtime.bench.extraction import rotated

    servers = ["relay", "service", "traced"]
    orders = [rotated(servers, round_) for round_ in range(3)]
    assert all(sorted(order) == sorted(servers) for order in orders)
    for place in range(3):
        assert sorted(order[place] for order in orders) == sorted(servers)


def test_medians_of_rounds_keep_every_error() -> None:
    from goldpath_runtime.bench.load import medians

    runs = {"a": [{"rps": 10.0, "p99": 5.0, "errors": 0.0},
                  {"rps": 30.0, "p99": 1.0, "errors": 3.0},
                  {"rps": 20.0, "p99": 9.0, "errors": 0.0}]}  # fmt: skip
    assert medians(runs) == {"a": {"rps": 20.0, "p99": 5.0, "errors": 3.0}}


def test_the_relay_floor_passes_the_chat_to_the_provider_and_its_answer_back(
    tmp_path: Path,
) -> None:
    from local_ports import free_port

    from goldpath_runtime.bench.extraction import RELAY_APP
    from goldpath_runtime.llm.fake_provider import FakeProvider, running

    (tmp_path / "relay_app.py").write_text(RELAY_APP)
    chat = {"model": "m", "messages": [{"role": "user", "content": "bid 25mm EUR 5y"}]}
    (tmp_path / "chat.json").write_text(json.dumps(chat))
    with running(FakeProvider(lambda system, user: f"answer to {user}"), free_port()) as fake:
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "--worker-class",
                   "uvicorn_worker.UvicornWorker", "--workers", "1", "--bind",
                   f"127.0.0.1:{port}", "--chdir", str(tmp_path), "relay_app:app"]  # fmt: skip
        env = {**os.environ, "RELAY_URL": fake.url + "/chat/completions",
               "RELAY_CHAT": str(tmp_path / "chat.json")}  # fmt: skip
        process = start(command, env, tmp_path / "relay.log", tmp_path)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/readyz", process, tmp_path / "relay.log")
            call = urllib.request.Request(
                f"http://127.0.0.1:{port}/extract", data=b'{"message": "ignored"}'
            )
            with urllib.request.urlopen(call, timeout=10) as answer:  # noqa: S310 - loopback
                completion = json.loads(answer.read())
        finally:
            stop(process)
        assert completion["choices"][0]["message"]["content"] == "answer to bid 25mm EUR 5y"
        assert list(fake.received) == ["bid 25mm EUR 5y"]


def test_the_wsgi_ceiling_app_is_served_by_a_real_gunicorn_with_gevent_workers(
    tmp_path: Path,
) -> None:
    """The Flask variant's ceiling: its gevent workers cannot serve the ASGI one."""
    gunicorn = [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1"]
    peer = ceiling(gunicorn, tmp_path, {"x": 1}, wsgi=True)
    process = serves_the_no_op_answer(peer, {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert process.returncode is not None
