"""Technical documentation of one registered version, on demand, laid out along the EU AI
Act's Annex IV headings: the record (purpose, use, limitations, owner, risk tier), what the
version's tags say of its evaluation and lineage, and the audit log's decisions about it.
Generated from what the registry and the log hold, so it says what is, not what was meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .record import Record

# Tags a decision writes (approvals.Approval.tags) and tags that say where a version came
# from; every other tag is evaluation evidence (gate scores, metrics, thresholds).
_DECISION = ("promoted_", "rolled_back", "validated_")
_LINEAGE = ("git_commit", "template_version", "lock_sha256", "ci_run", "card_id", "trained_by",
            "data_", "digest", "source", "run_id")  # fmt: skip
# Evidence from live traffic: the challenger scored in the shadow of the champion.
_LIVE = ("shadow_",)


def _cell(value: object) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|") or "-"


def _table(rows: Iterable[tuple[str, object]]) -> list[str]:
    lines = ["| item | value |", "|---|---|"]
    lines += [f"| {_cell(key)} | {_cell(value)} |" for key, value in rows]
    return [*lines, ""] if len(lines) > 2 else ["None recorded.", ""]


def technical_documentation(
    record: Record,
    kind: str,
    name: str,
    number: str,
    tags: dict[str, str],
    decisions: list[dict[str, Any]],
    registered_at: datetime | None = None,
) -> str:
    """The document for version `number` of `name` (a model or a prompt) as Markdown."""
    decision = sorted((k, v) for k, v in tags.items() if k.startswith(_DECISION))
    lineage = sorted((k, v) for k, v in tags.items() if k.startswith(_LINEAGE))
    live = sorted((k, v) for k, v in tags.items() if k.startswith(_LIVE))
    evidence = sorted(
        (k, v) for k, v in tags.items()
        if (k, v) not in decision and (k, v) not in lineage and (k, v) not in live
    )  # fmt: skip
    audit = [
        (f"{e.get('at', '')} {e.get('action', '')} ({e.get('step', '')})",
         f"approver {e.get('approver', '-')}, validator {e.get('validator') or '-'}, "
         f"tier {e.get('risk_tier', '-')}, writer {e.get('writer', '-')}: {e.get('reason', '')}")
        for e in decisions
    ]  # fmt: skip
    made = datetime.now(UTC).isoformat(timespec="seconds")
    general = [
        ("purpose", record.purpose),
        ("intended use", record.intended_use),
        ("owner", f"{record.owner} <{record.owner_email}>"),
        ("kind", record.kind),
        ("risk tier", record.risk_tier),
        ("registered", registered_at.isoformat(timespec="seconds") if registered_at else "-"),
    ]
    validator = ", and an independent validator" if record.risk_tier == "high" else ""
    oversight = (
        f"Human oversight: every move of the serving alias needs an approver and a reason"
        f"{validator}; each is written to a hash-chained audit log before and after."
    )
    lines = [
        f"# Technical documentation: {kind} {name}, version {number}",
        "",
        f"Generated {made} from the registry, the audit log and `governance.yml`; laid out "
        "along Annex IV of Regulation (EU) 2024/1689 (the AI Act).",
        "",
        "## 1. General description",
        "",
        *_table(general),
        "## 2. Elements and development process",
        "",
        "Where this version came from (code, template release, dependencies, data, CI run):",
        "",
        *_table(lineage),
        "## 3. Monitoring, functioning and control",
        "",
        f"Limitations: {' '.join(record.limitations.split()) or 'none recorded'}",
        "",
        oversight,
        "",
        "## 4. Performance metrics",
        "",
        "The evaluation evidence this version was registered with (its gate):",
        "",
        *_table(evidence),
        "## 5. Risk management",
        "",
        "Decisions recorded on this version:",
        "",
        *_table(decision),
        "## 6. Changes through the lifecycle",
        "",
        "The audit log's entries about this version, in order:",
        "",
        *_table(audit),
        "## 7. Standards applied",
        "",
        "Not recorded by goldpath: name the harmonised standards or specifications applied.",
        "",
        "## 8. EU declaration of conformity",
        "",
        "Not recorded by goldpath: attach the declaration where the use requires one.",
        "",
        "## 9. Post-market monitoring",
        "",
        "The service exports Prometheus metrics and structured access logs; the project's "
        "monitoring job and alerts are described in its README.",
        "",
        "Live evidence: this version scored in the shadow of the champion of its day "
        "(`make shadow-evidence`):",
        "",
        *_table(live),
    ]
    return "\n".join(lines)
