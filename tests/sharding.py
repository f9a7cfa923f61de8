"""CI shards: `pytest --shard=K/N` runs the K-th of N disjoint parts of whatever pytest
collected, so N parallel CI jobs run every test exactly once. Tests are dealt longest first
onto the least-loaded shard, by the seconds `.ci/durations.json` records (a test it does
not name counts as the median of its kind: slow or not).

Within a run, files go longest first (each file's tests in their own order): the workers
take a file at a time (`--dist loadfile`), so a long file started last would keep one
worker busy after the other has finished."""

from __future__ import annotations

import heapq
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

DURATIONS = Path(__file__).parents[1] / ".ci" / "durations.json"
SLOW_S, QUICK_S = 20.0, 0.25  # the medians of slow and other tests in CI's logs
_SHARD = re.compile(r"([1-9]\d{0,2})/([1-9]\d{0,2})")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shard", default=None, metavar="K/N",
        help="run only the K-th of N balanced, disjoint parts of the collected tests",
    )  # fmt: skip


def shard_of(value: str) -> tuple[int, int]:
    match = _SHARD.fullmatch(value)
    if match is None or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise pytest.UsageError(f"--shard {value[:40]!r}: use K/N with 1 <= K <= N, e.g. 2/4")
    return int(match.group(1)), int(match.group(2))


def deal(weights: dict[str, float], shards: int) -> list[list[str]]:
    """Longest first onto the least-loaded shard (ties by name, so every job agrees)."""
    loads = [(0.0, index) for index in range(shards)]
    dealt: list[list[str]] = [[] for _ in range(shards)]
    for test in sorted(weights, key=lambda name: (-weights[name], name)):
        load, index = heapq.heappop(loads)
        dealt[index].append(test)
        heapq.heappush(loads, (load + weights[test], index))
    return dealt


def _weights(items: Iterable[pytest.Item]) -> dict[str, float]:
    known: dict[str, float] = json.loads(DURATIONS.read_text()) if DURATIONS.is_file() else {}
    return {
        item.nodeid: known.get(item.nodeid, SLOW_S if item.get_closest_marker("slow") else QUICK_S)
        for item in items
    }


def longest_files_first(tests: Sequence[str], weights: dict[str, float]) -> list[str]:
    """The tests, a file's together, files by their total weight, heaviest first (ties in
    the order they came); each file's tests keep their order."""
    totals: Counter[str] = Counter()
    first: dict[str, int] = {}
    for position, test in enumerate(tests):
        file = test.split("::", 1)[0]
        totals[file] += weights.get(test, 0.0)
        first.setdefault(file, position)
    return sorted(tests, key=lambda t: (-totals[t.split("::", 1)[0]], first[t.split("::", 1)[0]]))


@pytest.hookimpl(trylast=True)  # after -m and -k: a shard is a part of what would run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    weights = _weights(items)
    value = config.getoption("--shard")
    if value is not None:
        index, shards = shard_of(value)
        mine = set(deal(weights, shards)[index - 1])
        config.hook.pytest_deselected(items=[item for item in items if item.nodeid not in mine])
        items[:] = [item for item in items if item.nodeid in mine]
    by_id = {item.nodeid: item for item in items}
    items[:] = [by_id[test] for test in longest_files_first(list(by_id), weights)]
