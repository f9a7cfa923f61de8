"""`goldpath inventory`: every model of a fleet with its governance record, for the model
risk function: owner, risk tier, kind, purpose, the template release it came from, and the
champion and validation the record holds, with whether an audit chain backs them.

Promotions in CI publish the record, the audit chain and the registry's champion on the
governance-record branch (see _published): when a chain is there, the record is listed
only if the chain verifies it. Otherwise the work tree's record (promotions made there,
shown as `local`) and the published one are compared as times, the newer decision
winning. A block whose champion is not a version number or whose times are not times, or
lie in the future, is not believed and the row says why. `--verify` also checks that the
branch only ever grew, and counts a champion no chain backs as a problem.

A repo whose record is missing or broken is listed with the reason, never skipped: an
inventory that silently drops a model is worse than none.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from goldpath_runtime.errors import GovernanceError
from goldpath_runtime.governance.record import retirement_date

from ._catalog import read_catalog
from ._errors import GoldpathError
from ._fleet import _local_copy
from ._projects import read_answers
from ._published import PUBLISHED, Publication, Witness, read_publication, rewrites
from ._repofile import read_template_file
from ._report import csv_cell, table
from ._yaml import decode, loads

RECORD = "governance.yml"
REQUIRED = ("model", "kind", "owner", "risk_tier", "purpose")
RISK_TIERS = ("high", "medium", "low")


@dataclass
class InventoryRow:
    repo: str
    model: str = ""
    owner: str = ""
    risk_tier: str = ""
    kind: str = ""
    status: str = ""  # in production (a champion), in development, or retired
    developer: str = ""
    materiality: str = ""
    purpose: str = ""
    intended_use: str = ""
    limitations: str = ""
    inputs: str = ""
    dependencies: str = ""
    template: str = ""
    champion: str = ""
    card: str = ""  # the champion's card id, and its published technical documentation
    validated: str = ""
    validated_by: str = ""
    next_validation: str = ""  # validated + validity_months
    validity: str = ""  # how long a validation holds (the record's validity_months)
    exceptions: str = ""
    retired: str = ""  # the date it was retired (the record's `retired: {at, reason}`)
    verified: str = ""  # yes / no / local: whether a published audit chain backs the champion
    problem: str = ""


def _record(path: Path) -> dict[str, Any]:
    data = read_template_file(path, RECORD, "governance")
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


def _decided_at(latest: dict[str, Any]) -> datetime:
    """When the decision behind a believed `latest:` block was made (the oldest time for
    an empty block)."""
    times = [_when(v) for k, v in latest.items() if k.endswith("_at")]
    return max((t for t in times if t is not None), default=datetime.min.replace(tzinfo=UTC))


def _when(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _doubt(latest: dict[str, Any]) -> str | None:
    """Why a `latest:` block is not believed, or None. Times are compared as times (a
    string `9999-…` used to win every comparison), and none may lie in the future."""
    if not latest:
        return None
    champion = str(latest.get("champion") or "")
    if not champion.isdigit() or len(champion) > 9:
        return f"champion {champion[:20]!r} is not a version number"
    horizon = datetime.now(UTC) + timedelta(days=1)
    for key, value in latest.items():
        if key.endswith("_at") or key == "validated":
            moment = _when(value)
            if moment is None:
                return f"{key} {str(value)[:40]!r} is not an ISO 8601 time"
            if moment > horizon:
                return f"{key} {str(value)[:40]} is in the future"
    return None


def inventory_row(
    repo: str,
    *,
    verify: bool = False,
    witness: Witness | None = None,
    catalog: list[dict[str, Any]] | None = None,
) -> InventoryRow:
    """The repository's row; with `catalog`, its catalog entities are appended there."""
    row = InventoryRow(repo)
    try:
        with _local_copy(repo) as path:
            answers = read_answers(path)
            row.template = str(answers["_commit"])
            record = _record(path)
            if catalog is not None:
                catalog.extend(read_catalog(path, repo))
            published = read_publication(path)  # inside: a clone is gone after the block
            if verify and published.chain is not None and published.ref is not None:
                published.problems += rewrites(path, published.ref)
    except GoldpathError as exc:
        row.problem = str(exc).removeprefix(f"{repo}: ")
        return row
    if witness is not None and published.lines is not None:
        rewritten = witness.check(repo, published.lines)
        if rewritten is not None:
            published.problems.append(rewritten)
        elif published.verified:
            witness.note(repo, published.lines)
    local = _latest(record)
    latest, doubts = _believed(local, published)
    row.verified = _verified(published, latest, local)
    if verify and row.verified == "local":
        doubts.append(
            f"champion v{latest.get('champion')} is recorded only in {RECORD} (a local "
            f"decision): no audit chain published on {PUBLISHED} backs it"
        )
    row.model = str(record["model"])
    row.owner = str(record["owner"])
    row.risk_tier = str(record["risk_tier"])
    row.kind = str(record["kind"])
    row.purpose, row.intended_use, row.limitations = (
        " ".join(str(record.get(field) or "").split())
        for field in ("purpose", "intended_use", "limitations")
    )
    row.developer = " ".join(str(record.get("developer") or "").split())
    row.materiality = " ".join(str(record.get("materiality") or "").split())
    row.inputs, row.dependencies, row.exceptions = (
        _listed(record.get(field)) for field in ("inputs", "dependencies", "exceptions")
    )
    row.champion = str(latest.get("champion") or "")
    row.card = published.card if row.verified == "yes" and row.champion else ""
    row.status = "in production" if row.champion else "in development"
    row.retired, doubt = _retired(record.get("retired"))
    if row.retired:
        row.status = "retired"
    if doubt:
        doubts.append(doubt)
    row.validated = str(latest.get("validated") or "")
    row.validated_by = str(latest.get("validated_by") or "")
    months = _validity_months(record.get("validity_months"))
    row.next_validation = _due(row.validated, months)
    row.validity = f"{months} months" if months else ""
    row.problem = "; ".join(doubts)
    return row


def _believed(local: dict[str, Any], published: Publication) -> tuple[dict[str, Any], list[str]]:
    """The `latest:` block to list, and why others were not believed. A published chain
    is CI's registry speaking: its record is listed if it verifies and nothing is if it
    does not. Without one, the work tree's block and the published one are compared as
    times, the newer decision winning."""
    doubts = [f"{p}; not believed" for p in published.problems]
    if published.chain is not None:
        doubt = _doubt(published.latest) if published.verified else None
        if doubt is not None:
            doubts.append(f"latest on {PUBLISHED} not believed: {doubt}")
        return (published.latest if published.verified and doubt is None else {}), doubts
    believed = []
    for where, block in ((RECORD, local), (PUBLISHED, published.latest)):
        doubt = _doubt(block)
        if doubt is None:
            believed.append(block)
        else:
            doubts.append(f"latest on {where} not believed: {doubt}")
    return max(believed, key=_decided_at, default={}), doubts


def _verified(published: Publication, latest: dict[str, Any], local: dict[str, Any]) -> str:
    """yes: the published chain backs the champion; no: it does not; local: the champion
    is a decision only the work tree's record names; empty: nothing to verify."""
    if published.chain is not None:
        return "yes" if published.verified else "no"
    if published.problems:
        return "no"
    if latest and latest is local:
        return "local"
    return ""


def _retired(block: Any) -> tuple[str, str | None]:
    """The date a record says the model was retired, and why a `retired:` block is not
    believed: the runtime's own rule (a retirement without its reason, a date that is not
    one or lies ahead), so the inventory and the refusal to promote agree."""
    try:
        return retirement_date(block, RECORD), None
    except GovernanceError as refused:
        return "", f"retired not believed: {refused}"


def _listed(value: Any) -> str:
    """A record's list (or text) as one cell: items joined by `; `."""
    items = value if isinstance(value, list) else [value] if value else []
    return "; ".join(" ".join(str(item).split()) for item in items if item is not None)


def _validity_months(value: Any) -> int | None:
    """How long a validation holds, when the record says so believably (1 to 120 months)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 120:
        return None
    return value


def _due(validated: str, months: int | None) -> str:
    """The date the next validation is due, when the last one and its validity are known."""
    moment = _when(validated) if validated else None
    if moment is None or months is None:
        return ""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    return moment.date().replace(year=year, month=month, day=min(moment.day, 28)).isoformat()


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
        sentences = {"purpose", "intended_use", "limitations", "inputs", "dependencies",
                     "exceptions", "developer", "materiality", "card", "validity"}  # fmt: skip
        shown = [n for n in names if n not in sentences]  # those are in JSON and CSV
        return table(shown, [[getattr(r, n) or "-" for n in shown] for r in rows])
    raise GoldpathError(f"--format {form!r}: use table, json or csv")
