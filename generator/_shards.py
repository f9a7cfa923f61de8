"""A fleet split over CI runners: every repository in exactly one shard, the same one on
every runner (the split depends on the fleet file alone), and shards of equal size.

Repositories are ordered by a hash of their location, then dealt round-robin: a shard's
repositories are spread across the fleet (not one team's block), and adding a repository
moves few others."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import TypeVar, cast

from ._errors import GoldpathError

T = TypeVar("T")


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` (1-based, as a CI matrix numbers its jobs)."""
    match = re.fullmatch(r"(\d{1,4})/(\d{1,4})", text.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise GoldpathError(f"--shard {text!r}: write I/N with 1 <= I <= N, e.g. --shard 2/4")
    return int(match[1]), int(match[2])


def assign(keys: Sequence[str], shards: int) -> list[int]:
    """The shard (1..shards) of each key, in the keys' order."""
    order = sorted(range(len(keys)), key=lambda i: hashlib.sha256(keys[i].encode()).hexdigest())
    shard_of = [0] * len(keys)
    for position, index in enumerate(order):
        shard_of[index] = position % shards + 1
    return shard_of


def shard_of(items: Sequence[T], keys: Sequence[str], shard: tuple[int, int]) -> list[T]:
    number, total = shard
    return [item for item, at in zip(items, assign(keys, total), strict=True) if at == number]


def plan(
    keys: Sequence[str], shards: int, names: Sequence[str | None] | None = None
) -> dict[str, object]:
    """The written plan: the CI matrix (`include`) and each shard's repositories. With
    `names` (each key's repository name on GitHub, or None), each leg also lists its
    shard's names, so the job's token is scoped to those repositories alone."""
    if shards < 1:
        raise GoldpathError("--shards: give at least 1")
    assigned = assign(keys, shards)
    legs: list[dict[str, str]] = []
    repos = {}
    for number in range(1, shards + 1):
        members = [i for i, at in enumerate(assigned) if at == number]
        leg = {"shard": f"{number}/{shards}"}
        if names is not None:
            leg["repositories"] = ",".join(sorted({n for i in members if (n := names[i])}))
        legs.append(leg)
        repos[leg["shard"]] = [keys[i] for i in members]
    return {"shards": shards, "include": legs, "repos": repos}


def matrix(written: dict[str, object], ci: str = "github") -> str:
    """One line a CI job hands to its matrix: GitHub's `fromJSON` takes `include`, Azure
    DevOps' runtime matrix a leg per name."""
    legs = cast(list[dict[str, str]], written["include"])
    if ci == "azure-devops":
        value: object = {f"shard_{leg['shard'].replace('/', '_of_')}": {"SHARD": leg["shard"]}
                         for leg in legs}  # fmt: skip
        return json.dumps(value, separators=(",", ":"))
    # A shard with no repository gets no job: its token would not be scoped to any.
    value = {"include": [leg for leg in legs if leg.get("repositories") != ""]}
    return json.dumps(value, separators=(",", ":"))
