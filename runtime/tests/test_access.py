"""The batched access log: same line shape as every other log line, nothing written late
or lost on a graceful stop (tests/test_server.py counts them through a real server)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

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
