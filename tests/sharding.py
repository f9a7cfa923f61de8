"""CI shards: `pytest --shard=K/N` runs the K-th of N disjoint parts of whatever pytest
collected, so N parallel CI jobs run every test exactly once. Tests are dealt longest first
onto the least-loaded shard, by the seconds `.ci/durations.json` records (a test it does
not name counts as the median of its kind: slow or not)."""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Iterable
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


@pytest.hookimpl(trylast=True)  # after -m and -k: a shard is a part of what would run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    value = config.getoption("--shard")
    if value is None:
        return
    index, shards = shard_of(value)
    mine = set(deal(_weights(items), shards)[index - 1])
    keep = [item for item in items if item.nodeid in mine]
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid not in mine])
    items[:] = keep
