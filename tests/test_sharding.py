"""CI's shards: `pytest --shard=K/N` parts are disjoint, together are the whole suite, and
are balanced by recorded durations; a malformed shard is one line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator._template import REPO_ROOT

from .sharding import deal, longest_files_first, shard_of

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


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 9), st.floats(0, 50)),
                max_size=40, unique_by=lambda t: t[:2]))  # fmt: skip
def test_files_run_heaviest_first_each_in_its_own_order(
    tests: list[tuple[str, int, float]],
) -> None:
    names = [f"tests/test_{file}.py::t{n}" for file, n, _ in tests]
    weights = {name: weight for name, (_, _, weight) in zip(names, tests, strict=True)}
    ordered = longest_files_first(names, weights)
    assert sorted(ordered) == sorted(names)
    files = [name.split("::")[0] for name in ordered]
    blocks = [
        file for position, file in enumerate(files) if position == 0 or files[position - 1] != file
    ]
    assert len(blocks) == len(set(files)), "a file's tests run together"
    totals = [sum(w for n, w in weights.items() if n.startswith(f + "::")) for f in blocks]
    assert totals == sorted(totals, reverse=True)
    for file in blocks:
        assert [n for n in ordered if n.startswith(file + "::")] == [
            n for n in names if n.startswith(file + "::")
        ]


def test_a_run_starts_with_its_longest_file() -> None:
    """What CI's workers take first: the generated project's file (minutes), not the
    alphabetically first one (a second)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
         "tests/test_cli.py", "tests/test_generated_project.py"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    tests = [line for line in done.stdout.splitlines() if "::" in line]
    assert tests[0].startswith("tests/test_generated_project.py::"), tests[:3]
    assert tests[-1].startswith("tests/test_cli.py::")


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
