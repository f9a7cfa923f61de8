"""`goldpath inventory`: every model of a fleet with its governance record, for the model
risk function: owner, risk tier, kind, purpose, the template release it came from, and the
latest champion and validation the record holds: in the work tree (promotions made there)
or on the governance-record branch (promotions in CI publish it there), whichever decision
is newer.

A repo whose record is missing or broken is listed with the reason, never skipped: an
inventory that silently drops a model is worse than none.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ._errors import GoldpathError
from ._fleet import _local_copy, _read_answers
from ._repofile import read_at, read_inside
from ._report import csv_cell, table
from ._yaml import decode, loads

RECORD = "governance.yml"
PUBLISHED = "governance-record"  # the branch CI promotions publish the record to
REQUIRED = ("model", "kind", "owner", "risk_tier", "purpose")
RISK_TIERS = ("high", "medium", "low")


@dataclass
class InventoryRow:
    repo: str
    model: str = ""
    owner: str = ""
    risk_tier: str = ""
    kind: str = ""
    purpose: str = ""
    template: str = ""
    champion: str = ""
    validated: str = ""
    problem: str = ""


def _record(path: Path) -> dict[str, Any]:
    try:
        data = read_inside(path, RECORD)
    except FileNotFoundError:
        raise GoldpathError(
            f"no {RECORD} (a project from before governance: copier update)"
        ) from None
    record = loads(decode(data, RECORD), RECORD)
    if not isinstance(record, dict):
        raise GoldpathError(f"{RECORD} is not a mapping of fields")
    missing = [f for f in REQUIRED if not str(record.get(f) or "").strip()]
    if missing:
        raise GoldpathError(f"{RECORD} lacks {', '.join(missing)}")
    if record["risk_tier"] not in RISK_TIERS:
        raise GoldpathError(f"{RECORD}: risk_tier {record['risk_tier']!r} is not high/medium/low")
    return record


def _latest(record: Any) -> dict[str, Any]:
    noted = record.get("latest") if isinstance(record, dict) else None
    return noted if isinstance(noted, dict) else {}


def _published_latest(path: Path) -> dict[str, Any]:
    """The `latest:` block CI promotions publish on the governance-record branch (their
    runners' checkouts are thrown away): the local branch, else the clone's remote one."""
    for ref in (f"refs/heads/{PUBLISHED}", f"refs/remotes/origin/{PUBLISHED}"):
        try:
            data = read_at(path, ref, RECORD)
            if data is not None:
                return _latest(loads(decode(data, RECORD), RECORD))
        except GoldpathError:
            return {}  # a broken publication: the work tree's record still counts
    return {}


def _decided_at(latest: dict[str, Any]) -> str:
    """When the decision behind a `latest:` block was made (ISO 8601 UTC: sortable)."""
    return max((str(v) for k, v in latest.items() if k.endswith("_at")), default="")


def inventory_row(repo: str) -> InventoryRow:
    row = InventoryRow(repo)
    try:
        with _local_copy(repo) as path:
            answers = _read_answers(path)
            row.template = str(answers["_commit"])
            record = _record(path)
            published = _published_latest(path)  # inside: a clone is gone after the block
    except GoldpathError as exc:
        row.problem = str(exc).removeprefix(f"{repo}: ")
        return row
    latest = max(_latest(record), published, key=_decided_at)
    row.model = str(record["model"])
    row.owner = str(record["owner"])
    row.risk_tier = str(record["risk_tier"])
    row.kind = str(record["kind"])
    row.purpose = " ".join(str(record["purpose"]).split())
    row.champion = str(latest.get("champion") or "")
    row.validated = str(latest.get("validated") or "")
    return row


def render(rows: list[InventoryRow], form: str) -> str:
    if form == "json":
        return json.dumps([asdict(r) for r in rows], indent=2)
    names = [f.name for f in fields(InventoryRow)]
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[csv_cell(getattr(r, n)) for n in names] for r in rows])
        return buffer.getvalue().rstrip("\n")
    if form == "table":
        shown = [n for n in names if n != "purpose"]  # a sentence: in JSON and CSV
        return table(shown, [[getattr(r, n) or "-" for n in shown] for r in rows])
    raise GoldpathError(f"--format {form!r}: use table, json or csv")
