"""Canary analysis against a real Prometheus (Debian's `prometheus`) scraping real
services: the toy service under gunicorn as a stable revision and three canaries (healthy,
slowed, failing: set by configuration), all under live traffic. The analysis promotes the
healthy one and rolls the two bad ones back, naming why; no evidence is no verdict."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from local_ports import free_port
from local_prometheus import prometheus_scraping
from toy_servers import Server, start

from goldpath_runtime.serving.canary import (
    CanaryError,
    Prometheus,
    Thresholds,
    _single,
    analyse,
    check_selector,
    main,
)

pytestmark = pytest.mark.slow  # four servers, a Prometheus and half a minute of traffic
REVISIONS = {"stable": {}, "healthy": {}, "slowed": {"TOY_EXTRA_LATENCY_S": "0.3"},
             "failing": {"TOY_ERROR_RATE": "0.2"}}  # fmt: skip
LIMITS = Thresholds(min_requests=20)
TRAFFIC_S, WINDOW = 25, "20s"


def _traffic(server: Server, until: float) -> None:
    while time.monotonic() < until:
        server.post("/echo", {"a": 1})
        time.sleep(0.05)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("canary")
    servers = {name: start("asgi", workdir, workers=1, env=env) for name, env in REVISIONS.items()}
    targets = [{"targets": [f"127.0.0.1:{s.port}"], "labels": {"revision": name}}
               for name, s in servers.items()]  # fmt: skip
    try:
        with prometheus_scraping(targets, workdir) as url:
            for server in servers.values():
                server.wait_ready()
            until = time.monotonic() + TRAFFIC_S
            threads = [threading.Thread(target=_traffic, args=(s, until))
                       for s in servers.values()]  # fmt: skip
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            time.sleep(2.5)  # the last scrapes
            yield url
    finally:
        for server in servers.values():
            server.stop()


def verdict_for(url: str, canary: str) -> tuple[str, list[str]]:
    verdict = analyse(Prometheus(url), 'revision="stable"', f'revision="{canary}"', WINDOW,
                      LIMITS)  # fmt: skip
    return verdict.decision, verdict.reasons


def test_a_healthy_canary_is_promoted(prometheus: str) -> None:
    decision, reasons = verdict_for(prometheus, "healthy")
    assert (decision, reasons) == ("promote", [])


def test_a_slower_canary_is_rolled_back_for_its_p99(prometheus: str) -> None:
    decision, reasons = verdict_for(prometheus, "slowed")
    assert decision == "rollback"
    assert [r.split(" ", 1)[0] for r in reasons] == ["p99"], reasons


def test_a_failing_canary_is_rolled_back_for_its_error_rate(prometheus: str) -> None:
    decision, reasons = verdict_for(prometheus, "failing")
    assert decision == "rollback"
    assert reasons[0].startswith("error rate"), reasons


def test_no_traffic_is_no_verdict(prometheus: str) -> None:
    decision, reasons = verdict_for(prometheus, "absent")
    assert decision == "no-verdict"
    assert "fewer than 20" in reasons[0]


@pytest.mark.parametrize(("canary", "code"), [("healthy", 0), ("failing", 1), ("absent", 2)])
def test_the_pipeline_reads_the_exit_code_and_one_json_line(
    prometheus: str, canary: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--prometheus", prometheus, "--stable", 'revision="stable"',
                 "--canary", f'revision="{canary}"', "--window", WINDOW,
                 "--min-requests", "20"]) == code  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert printed["decision"] == ["promote", "rollback", "no-verdict"][code]


def test_an_unreachable_prometheus_is_no_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["--prometheus", url, "--stable", 'revision="a"', "--canary", 'revision="b"']) == 2
    assert "cannot be read" in json.loads(capsys.readouterr().out)["reasons"][0]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_a_selector_is_label_matchers_or_refused_in_one_line(text: str) -> None:
    try:
        checked = check_selector(text, "canary")
    except CanaryError as exc:
        said = str(exc)
        assert "\n" not in said
        return
    outside_strings = re.sub(r'"[^"\\]*"', "", checked)
    assert re.fullmatch(r"[A-Za-z0-9_=!~,\s]*", outside_strings), "nothing but label matchers"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=64), st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(
                                ["status", "data", "result", "value", "metric"]), inner)),
    max_leaves=10).map(lambda v: json.dumps(v).encode())))  # fmt: skip
def test_whatever_prometheus_answers_is_a_number_nothing_or_one_line(answer: bytes) -> None:
    try:
        value = _single(answer)
    except CanaryError as exc:
        value, said = None, str(exc)
    else:
        said = ""
    assert "\n" not in said
    assert value is None or isinstance(value, float)


def test_the_promql_never_carries_more_than_the_checked_matchers(tmp_path: Path) -> None:
    with pytest.raises(CanaryError, match="not label matchers"):
        check_selector('revision="a"}) or vector(1) #', "canary")
