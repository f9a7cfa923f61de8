"""The project's governance record (`governance.yml`): what the model or prompt is for,
who owns it, its risk tier. Read with what a hostile record abuses refused (aliases, deep
nesting, links, size); its `latest:` block is edited as a document, the team's other
fields, comments and order kept."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import GovernanceError

if TYPE_CHECKING:
    from .approvals import Approval

RECORD_FILE = "governance.yml"
RISK_TIERS = ("high", "medium", "low")
RECORD_FIELDS = ("model", "kind", "owner", "owner_email", "risk_tier", "purpose")
RECORD_MAX_BYTES = 1 << 20
RECORD_MAX_DEPTH = 32


@dataclass(frozen=True)
class Record:
    model: str
    kind: str
    owner: str
    owner_email: str
    risk_tier: str
    purpose: str
    intended_use: str
    limitations: str
    retired: str = ""  # the ISO date the model or prompt was retired; "" while in use
    # Shadow requests a challenger needs against the champion before promotion, at this
    # record's risk tier (`shadow_evidence: {high: 1000}`; 0: none required).
    shadow_requests_required: int = 0

    def card_fields(self) -> dict[str, str]:
        """What every card (model or prompt) repeats from the record."""
        return {
            "owner": self.owner, "owner_email": self.owner_email, "risk_tier": self.risk_tier,
            "purpose": self.purpose, "intended_use": self.intended_use,
            "limitations": self.limitations,
        }  # fmt: skip


def find_record(package_dir: Path) -> Path:
    """The project's own governance record: governance.yml at the root of the project whose
    `src/` holds the package, else the copy the package carries (a wheel, for jobs that
    have no checkout). Never a working directory's or a variable's: the record that sets a
    decision's rules (the risk tier) cannot be swapped for a copy that says `low`."""
    package = package_dir.resolve()
    root = package.parents[1]
    in_checkout = package.parent.name == "src" and (root / "pyproject.toml").is_file()
    if in_checkout and (root / RECORD_FILE).is_file():
        return root / RECORD_FILE
    if (package / RECORD_FILE).is_file():
        return package / RECORD_FILE
    raise GovernanceError(
        f"{RECORD_FILE} not found at the root of the project that holds {package}: "
        "restore it from git (every project has one)"
    )


def _record_text(path: Path) -> str:
    """The record's text, refused in one line when it is not a regular file of sensible
    size, or uses what a record never needs and a hostile one abuses: aliases (a few
    hundred bytes of them expand to gigabytes) and deep nesting."""
    if path.is_symlink() or not path.is_file():
        raise GovernanceError(f"{path}: not a regular file")
    if path.stat().st_size > RECORD_MAX_BYTES:
        raise GovernanceError(f"{path}: larger than {RECORD_MAX_BYTES // 1024} KiB")
    try:
        text = path.read_text(encoding="utf-8")
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = event.start_mark
                where = f" line {mark.line + 1}" if mark is not None else ""
                raise GovernanceError(
                    f"{path}{where}: uses a YAML anchor or alias; write each value out"
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > RECORD_MAX_DEPTH:
                    raise GovernanceError(f"{path}: nested deeper than {RECORD_MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except (OSError, UnicodeDecodeError) as exc:
        raise GovernanceError(f"{path}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise GovernanceError(f"{path}{where}: not valid YAML") from None
    return text


def load_record(path: Path) -> Record:
    data = yaml.safe_load(_record_text(path))
    if not isinstance(data, dict):
        raise GovernanceError(f"{path}: expected a mapping of fields")
    for field in RECORD_FIELDS:
        if not str(data.get(field) or "").strip():
            raise GovernanceError(f"{path}: {field} is missing; set it (see the README)")
    if data["risk_tier"] not in RISK_TIERS:
        raise GovernanceError(
            f"{path}: risk_tier {data['risk_tier']!r} is not one of {', '.join(RISK_TIERS)}"
        )
    return Record(
        **{f: str(data[f]).strip() for f in RECORD_FIELDS},
        intended_use=str(data.get("intended_use") or "").strip(),
        limitations=str(data.get("limitations") or "").strip(),
        retired=retirement_date(data.get("retired"), str(path)),
        shadow_requests_required=shadow_requirement(
            data.get("shadow_evidence"), data["risk_tier"], str(path)
        ),
    )


SHADOW_REQUESTS_MAX = 10_000_000


def shadow_requirement(block: Any, tier: str, where: str) -> int:
    """The shadow requests `shadow_evidence: {tier: n}` requires at `tier` (0 without)."""
    if block is None or block == {}:
        return 0
    fix = "write `shadow_evidence: {high: 1000, medium: 200}` (requests per risk tier)"
    if not isinstance(block, dict):
        raise GovernanceError(f"{where}: shadow_evidence is not a mapping; {fix}")
    for key, value in block.items():
        if key not in RISK_TIERS:
            raise GovernanceError(
                f"{where}: shadow_evidence.{str(key)[:40]} is not a risk tier "
                f"({', '.join(RISK_TIERS)}); {fix}"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (0 <= value <= SHADOW_REQUESTS_MAX)
        ):
            raise GovernanceError(
                f"{where}: shadow_evidence.{key} must be a whole number of requests from 0 "
                f"to {SHADOW_REQUESTS_MAX}; {fix}"
            )
    return int(block.get(tier, 0))


def retirement_date(block: Any, where: str) -> str:
    """The date of a record's `retired:` block ({at: YYYY-MM-DD, reason: ...}), or "" when
    there is none: a date that is not one, or lies ahead, is refused in one line (a model
    is retired once it is, not announced as such)."""
    if block is None or block is False or block in ({}, ""):  # not retired
        return ""
    fix = "write `retired: {at: YYYY-MM-DD, reason: why}`, or remove it"
    if not isinstance(block, dict) or not str(block.get("reason") or "").strip():
        raise GovernanceError(f"{where}: retired needs its date and reason; {fix}")
    at = block.get("at")
    if isinstance(at, datetime):
        at = at.date()
    if not isinstance(at, date):
        try:
            at = date.fromisoformat(str(at))
        except ValueError:
            said = str(at)[:40]
            raise GovernanceError(f"{where}: retired.at {said!r} is not a date; {fix}") from None
    if at > datetime.now(UTC).date():
        raise GovernanceError(f"{where}: retired.at {at} is in the future; {fix}")
    return at.isoformat()


def note_latest(
    version: str, decision: Approval, path: Path, validation: tuple[str, str] | None = None
) -> Path:
    """Set the record's `latest:` block to the champion this decision made, with its
    validation (this decision's, or `validation`, (at, by), the one the version got when it
    was promoted: a rollback keeps it). The record is edited as a document: every other
    field, comment and the order stay as the team wrote them."""
    document = _round_trip()
    record = document.load(_record_text(path))
    if not isinstance(record, dict):
        raise GovernanceError(f"{path}: expected a mapping of fields")
    latest: dict[str, str] = {"champion": version, f"{decision.action}_at": decision.at}
    if decision.validator:
        validation = (decision.at, decision.validator)
    if validation is not None:
        latest["validated"], latest["validated_by"] = validation
    record["latest"] = latest
    buffer = io.StringIO()
    document.dump(record, buffer)
    # Written beside it and renamed over it: a killed run leaves the old record or the new.
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(scratch, path)
    return path


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    document = YAML(typ="rt")
    document.preserve_quotes = True
    document.width = 4096  # never re-wrap the team's lines
    document.indent(mapping=2, sequence=4, offset=2)
    return document
