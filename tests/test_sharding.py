"""CI's shards: `pytest --shard=K/N` parts are disjoint, together are the whole suite, and
are balanced by recorded durations; a malformed shard is one line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator._template import REPO_ROOT

from .sharding import deal, shard_of

SAMPLE = ["tests/test_cli.py", "tests/test_libraries.py", "runtime/tests/test_fake_provider.py"]


def collected(*options: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
         "-m", "not slow", *options, *SAMPLE],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_shards_are_disjoint_and_together_the_whole_suite() -> None:
    whole = collected()
    parts = [collected(f"--shard={k}/3") for k in (1, 2, 3)]
    assert all(parts), "every shard has work"
    assert sorted(test for part in parts for test in part) == sorted(whole)


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.floats(0, 200), max_size=60),
       st.integers(1, 6))  # fmt: skip
def test_dealing_is_a_partition_within_one_test_of_balance(
    weights: dict[str, float], shards: int
) -> None:
    dealt = deal(weights, shards)
    assert sorted(test for part in dealt for test in part) == sorted(weights)
    loads = [sum(weights[test] for test in part) for part in dealt]
    assert max(loads) - min(loads) <= max(weights.values(), default=0) + 1e-9


@pytest.mark.parametrize("shard", ["0/4", "5/4", "x", "1/0", "-1/4", "1/4/2", "1/4 ", ""])
def test_a_malformed_shard_names_the_option_and_the_form(shard: str) -> None:
    with pytest.raises(pytest.UsageError, match=r"^--shard '.*': use K/N with 1 <= K <= N"):
        shard_of(shard)


def test_a_malformed_shard_is_one_line_from_pytest() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "--shard=5/4",
         "tests/test_cli.py"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 4  # pytest's usage error
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert errors == ["ERROR: --shard '5/4': use K/N with 1 <= K <= N, e.g. 2/4"]
