"""`goldpath demo`, the README's first command: what it refuses before anything runs, and
how it shows progress. Both demos run end to end, in the README's order on a clone, in
tests/test_readme.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generator._cli import main


def test_demo_refuses_a_non_empty_destination(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine.txt").write_text("precious\n")
    assert main(["demo", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("goldpath: error:")
    assert "is not empty" in err
    assert (tmp_path / "mine.txt").read_text() == "precious\n"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["fly"])
    assert caught.value.code == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("project_kind=llm serving=flask", "serving='flask' does not apply"),
        ("project_kind=chatbot", "not one of tabular, llm"),
    ],
)
def test_answers_that_cannot_apply_are_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: str, problem: str
) -> None:
    arguments = [item for pair in data.split() for item in ("--data", pair)]
    assert main(["demo", str(tmp_path / "demo"), *arguments]) == 1
    err = capsys.readouterr().err
    assert problem in err
    assert err.count("\n") == 1
    assert not (tmp_path / "demo").exists()


def test_a_long_quiet_step_shows_it_is_still_working(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`uv sync` prints nothing for up to a minute on a first run: the demo ticks."""
    from generator._demo import _still_working

    with _still_working(every_s=0.05):
        time.sleep(0.3)
    ticks = [line for line in capsys.readouterr().out.splitlines() if line.startswith("    ...")]
    assert len(ticks) >= 2
    assert ticks[-1].endswith(" s")
    with _still_working(every_s=60):
        pass  # a quick step prints nothing, and the ticker stops with it
    assert capsys.readouterr().out == ""
