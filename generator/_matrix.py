"""Option combinations of the template, from copier.yml: every choice and boolean
question, with `when:` conditions honoured, as a full matrix or a pairwise cover.

The pairwise cover is greedy (the classic AETG-style construction): start from the full
list of valid combinations and repeatedly take the one that covers the most value pairs
not yet covered, until every pair that occurs in some valid combination is covered. It
is not minimal, but it is deterministic and every pair is guaranteed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import yaml

Combination = dict[str, Any]


def option_questions(template: Path) -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((template / "copier.yml").read_text()) or {}
    options: dict[str, dict[str, Any]] = {}
    for name, spec in config.items():
        if name.startswith("_") or not isinstance(spec, dict):
            continue
        choices = spec.get("choices")
        if choices:
            values = list(choices.values()) if isinstance(choices, dict) else list(choices)
        elif spec.get("type") == "bool":
            values = [False, True]
        else:
            continue
        options[name] = {"values": values, "when": spec.get("when")}
    return options


def _applies(when: Any, answers: Combination) -> bool:
    if when is None:
        return True
    if isinstance(when, bool):
        return when
    rendered = jinja2.Environment(autoescape=False).from_string(str(when)).render(**answers)  # noqa: S701 - renders YAML conditions, not HTML
    return rendered.strip().lower() not in {"", "false", "none", "0"}


def full_matrix(template: Path) -> list[Combination]:
    options = option_questions(template)

    def expand(index: int, answers: Combination) -> Iterator[Combination]:
        if index == len(options):
            yield dict(answers)
            return
        name, spec = list(options.items())[index]
        if not _applies(spec["when"], answers):
            yield from expand(index + 1, answers)
            return
        for value in spec["values"]:
            answers[name] = value
            yield from expand(index + 1, answers)
            del answers[name]

    return list(expand(0, {}))


def _pairs(combination: Combination) -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
    items = sorted(combination.items(), key=lambda kv: kv[0])
    return {(a, b) for a, b in itertools.combinations(items, 2)}


def pairwise(template: Path) -> list[Combination]:
    candidates = full_matrix(template)
    uncovered = set().union(*(_pairs(c) for c in candidates)) if candidates else set()
    chosen: list[Combination] = []
    while uncovered:
        best = max(candidates, key=lambda c: len(_pairs(c) & uncovered))
        chosen.append(best)
        uncovered -= _pairs(best)
    return chosen


def label(combination: Combination) -> str:
    return ",".join(f"{k}={v}" for k, v in combination.items())
