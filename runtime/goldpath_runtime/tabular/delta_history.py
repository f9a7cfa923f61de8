"""What a Delta table's history says: its version now, and the raw inputs the dataset job
wrote into each commit's `userMetadata`, so a model trained on Databricks names the raw
tables' versions on its card as a locally trained one names their file hashes.

A commit's metadata is text anyone with write access to the table could have set: it is
read as data, bounded, shape-checked, and what does not fit is counted, never followed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ProjectError

MAX_METADATA_CHARS = 64 * 1024
MAX_COMMITS = 10_000
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,254}")


def table_identifier(name: str) -> str:
    """`catalog.schema.table` quoted for Spark SQL; anything else is refused in one line
    (a table name from a job's parameters never becomes SQL)."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(_PART.fullmatch(part) for part in parts):
        raise ProjectError(
            f"table {name[:80]!r} is not catalog.schema.table (letters, digits, _ and -)"
        )
    return ".".join(f"`{part}`" for part in parts)


def _history(spark: Any, table: str, limit: int) -> list[Any] | None:
    try:
        return list(
            spark.sql(f"DESCRIBE HISTORY {table_identifier(table)} LIMIT {limit}").collect()
        )
    except ProjectError:
        raise
    except Exception:  # not a Delta table (PySpark's local warehouse has none)
        return None


def table_version(spark: Any, table: str) -> str:
    """A table's version: its Delta version on Databricks ("unversioned" elsewhere)."""
    history = _history(spark, table, 1)
    return f"delta v{history[0]['version']}" if history else "unversioned"


def lineage_from_history(commits: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The raw inputs named by the commits' metadata (None: no commit names any), the
    newest version, and how many commits' metadata was not the dataset job's."""
    inputs: dict[str, set[str]] = {}
    newest, built, unreadable = -1, 0, 0
    for count, commit in enumerate(commits):
        if count >= MAX_COMMITS:
            break
        version = commit.get("version")
        if isinstance(version, int):
            newest = max(newest, version)
        text = commit.get("userMetadata")
        if text is None:
            continue
        raw = _raw_inputs(text)
        if raw is None:
            unreadable += 1
            continue
        built += 1
        for table, table_version in raw.items():
            inputs.setdefault(table, set()).add(table_version)
    if not built:
        return None
    return {"table_version": f"delta v{newest}", "commits": built, "unreadable_commits": unreadable,
            "raw_inputs": {name: sorted(v) for name, v in sorted(inputs.items())}}  # fmt: skip


def _raw_inputs(text: object) -> dict[str, str] | None:
    """A commit's {"raw_inputs": {table: version}}, or None when it is anything else."""
    if not isinstance(text, str) or len(text) > MAX_METADATA_CHARS:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    raw = data.get("raw_inputs") if isinstance(data, dict) else None
    if not isinstance(raw, dict) or not raw:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        return None
    return {k[:128]: v[:128] for k, v in raw.items()}


def delta_lineage(spark: Any, table: str) -> dict[str, Any] | None:
    """What `table`'s Delta history says it was built from (None: not Delta, or never
    built by the dataset job)."""
    history = _history(spark, table, MAX_COMMITS)
    if not history:
        return None
    return lineage_from_history(row.asDict() if hasattr(row, "asDict") else row for row in history)
