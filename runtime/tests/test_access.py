"""The batched access log: same line shape as every other log line, nothing written late
or lost on a graceful stop (tests/test_server.py counts them through a real server)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldpath_runtime.logs import configure_logging
from goldpath_runtime.serving.access import MAX_LINES, AccessLog


@pytest.fixture(autouse=True)
def info_level() -> Iterator[None]:
    configure_logging("INFO")
    yield
    configure_logging("INFO")


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_lines_wait_for_the_batch_then_come_out_whole(capsys: pytest.CaptureFixture[str]) -> None:
    access = AccessLog(flush_s=60)
    for status in (200, 422, 503):
        access.write("POST", "/predict", status, 0.00123, "abc-123")
    assert capsys.readouterr().out == ""
    access.flush()
    written = lines(capsys.readouterr().out)
    assert [e["status"] for e in written] == [200, 422, 503]
    assert written[0] == {
        "ts": written[0]["ts"],
        "level": "INFO",
        "logger": "access",
        "message": "request",
        "request_id": "abc-123",
        "method": "POST",
        "path": "/predict",
        "status": 200,
        "duration_ms": 1.23,
    }
    assert str(written[0]["ts"]).endswith("+00:00")


def test_a_full_batch_is_written_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    access = AccessLog(flush_s=60)
    for _ in range(MAX_LINES):
        access.write("GET", "/healthz", 200, 0.0, "r")
    assert len(lines(capsys.readouterr().out)) == MAX_LINES


def test_zero_flush_interval_writes_each_line(capsys: pytest.CaptureFixture[str]) -> None:
    AccessLog(flush_s=0).write("GET", "/readyz", 503, 0.0, "r")
    assert len(lines(capsys.readouterr().out)) == 1


def test_above_info_there_is_no_access_log(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING")
    access = AccessLog(flush_s=0)
    access.write("GET", "/readyz", 200, 0.0, "r")
    access.flush()
    assert capsys.readouterr().out == ""
    assert not logging.getLogger("access").isEnabledFor(logging.INFO)


@given(st.lists(st.text(max_size=20), min_size=1, max_size=100))
@settings(max_examples=30, deadline=None)
def test_any_method_is_written_as_a_json_string(methods: list[str]) -> None:
    """Methods are quoted once each and remembered (at most 64 of them): every line, the
    first and the repeated, the remembered and the rest, still reads back as written."""
    access = AccessLog(flush_s=0, stream="stderr")
    written: list[str] = []
    access._emit = written.extend  # type: ignore[method-assign]
    for method in methods * 2:
        access.write(method, "/predict", 200, 0.001, "abc")
    assert [json.loads(line)["method"] for line in written] == methods * 2
