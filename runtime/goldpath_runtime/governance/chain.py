"""The audit chain as text: each decision one JSON line that carries the SHA-256 of the line
before it (`prev`). Plain Python, no MLflow: the runtime writes and reads the chain with
these rules, and the fleet's inventory verifies a chain CI published with the same ones."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

AUDIT_FIELDS = ("subject", "version", "action", "approver", "reason", "at", "system", "step")
APPROVED, APPLIED = "approved", "applied"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_entry(text: str) -> dict[str, Any] | str:
    """The decision in `text`, or why it is damaged."""
    try:
        entry = json.loads(text)
    except RecursionError:
        return "nested too deeply to be a decision"
    except ValueError:
        return "not JSON (a write cut short?)"
    if not isinstance(entry, dict):
        return "not a decision (a JSON object)"
    missing = [f for f in AUDIT_FIELDS if not isinstance(entry.get(f), str)]
    return f"lacks {', '.join(missing)}" if missing else entry


def link_problem(entry: dict[str, Any] | str, previous: str, chained: bool) -> str | None:
    """Why an entry does not follow the one before it (whose digest is `previous`), or None
    when it does. Entries before the first linked one were written before chains."""
    if isinstance(entry, str):
        return None  # named as damaged already
    if "prev" in entry:
        if entry["prev"] != previous:
            return "does not follow the entry before it: an entry was changed, removed or inserted"
        return None
    if chained:
        return "has no link to the entry before it: it was written around goldpath-runtime"
    return None


@dataclass(frozen=True)
class ChainCheck:
    """A chain read from its lines: the decisions that follow one another, each broken or
    damaged line by its position (1-based) and why, and the digest of the last line."""

    entries: list[dict[str, Any]]
    broken: list[tuple[int, str]]
    head: str

    @property
    def intact(self) -> bool:
        return not self.broken

    def recorded(self) -> dict[str, Any] | None:
        """The last applied decision: the one that put the alias where it should be."""
        applied = [e for e in self.entries if e.get("step") == APPLIED]
        return applied[-1] if applied else None


def verify_lines(lines: Sequence[str]) -> ChainCheck:
    """Check every line of a chain in order; a line after a broken one is still checked
    against its own predecessor, so each break is named once, where it is."""
    entries: list[dict[str, Any]] = []
    broken: list[tuple[int, str]] = []
    previous, chained = "", False
    for position, text in enumerate(lines, 1):
        entry = parse_entry(text)
        problem = entry if isinstance(entry, str) else link_problem(entry, previous, chained)
        previous = digest(text)
        if isinstance(entry, dict):
            chained = chained or "prev" in entry
        if problem is not None:
            broken.append((position, problem))
        elif isinstance(entry, dict):
            entries.append(entry)
    return ChainCheck(entries, broken, previous)
