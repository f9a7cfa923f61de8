"""One lifecycle for every versioned artifact: a version is registered holding
`challenger`; `promote` moves the serving alias to it only when its evaluation gate
passed and a person (and, for a high risk tier, an independent validator) approved;
`rollback` moves the alias back to the version that held it before. Each move is written
ahead to the audit log and finished there (`AuditTrail`); a rolled-back version is retired.
The kind of artifact (model, prompt) is an adapter (`Versions`)."""

from __future__ import annotations

import logging

from ..errors import GateFailedError, GovernanceError, ModelNotFoundError, ProjectError
from ..governance import AuditTrail, approval, load_record
from ..store import AliasMove
from .versions import Version, Versions

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
SERVING = "champion"


def _risk_tier(trail: AuditTrail) -> str:
    if trail.record is None:
        raise GovernanceError("governance.yml not found: run from the project's root folder")
    return load_record(trail.record).risk_tier


def _candidate(versions: Versions, number: str | None, register: str) -> Version:
    what = f"{versions.kind} {versions.name!r}"
    if number is None:
        found = versions.at_alias(CHALLENGER)
        if found is None:
            raise ModelNotFoundError(f"{what} has no @{CHALLENGER}: {register}")
        return found
    found = versions.get(number)
    if found is None:
        raise ModelNotFoundError(f"{what} has no version {number}")
    return found


def promote(
    versions: Versions, trail: AuditTrail, *, alias: str = SERVING, number: str | None = None,
    register: str = "register one first",
) -> AliasMove:  # fmt: skip
    """Move `alias` to version `number` (default: the challenger) if its gate passed."""
    candidate = _candidate(versions, number, register)
    if candidate.tags.get("gate") != "passed":
        reason = candidate.tags.get("gate_reason", "no passed evaluation gate recorded")
        raise GateFailedError(
            f"version {candidate.number} of {versions.kind} {versions.name!r} did not pass the "
            f"evaluation gate ({reason}); @{alias} unchanged"
        )
    current = versions.at_alias(alias)
    previous = None if current is None else current.number
    target = candidate.number
    resumed = trail.resume(previous, versions.set_tag)
    if previous == target:
        if resumed is not None and resumed["action"] == "promoted":
            return AliasMove(versions.name, alias, target, resumed["previous"] or None)
        return AliasMove(versions.name, alias, target, previous)
    # Checked before anything moves: a refused promotion changes nothing.
    decision = approval("promoted", _risk_tier(trail), candidate.tags.get("trained_by"))

    def apply() -> None:
        history = versions.history()
        if previous is not None and (not history or history[-1] != previous):
            history.append(previous)
        history.append(target)
        versions.set_history(history)
        versions.set_alias(alias, target)

    trail.move(target, decision, previous, versions.set_tag, apply)
    log.info("promoted", extra={"subject": versions.name, "version": target, "previous": previous})
    return AliasMove(versions.name, alias, target, previous)


def rollback(versions: Versions, trail: AuditTrail, *, alias: str = SERVING) -> AliasMove:
    """Move `alias` back to the version that held it before the current one."""
    if not versions.registered():
        raise ModelNotFoundError(f"{versions.kind} {versions.name!r} is not registered")
    history = versions.history()
    current = versions.at_alias(alias)
    previous = None if current is None else current.number
    resumed = trail.resume(previous, versions.set_tag)
    if resumed is not None and resumed["action"] == "rolled_back":
        # A killed rollback that had moved the alias: finish it rather than roll back again.
        undone = resumed["previous"] or None
        retire(versions, undone)
        return AliasMove(versions.name, alias, str(previous), undone)
    while history and history[-1] == previous:
        history.pop()
    if not history:
        raise ProjectError(
            f"{versions.kind} {versions.name!r} has no earlier @{alias} to roll back to"
        )
    target = history[-1]
    decision = approval("rolled_back", _risk_tier(trail), None)

    def apply() -> None:
        versions.set_history(history)
        versions.set_alias(alias, target)

    trail.move(target, decision, previous, versions.set_tag, apply)
    retire(versions, previous)
    log.info(
        "rolled back", extra={"subject": versions.name, "version": target, "previous": previous}
    )
    return AliasMove(versions.name, alias, target, previous)


def retire(versions: Versions, number: str | None) -> None:
    """A rolled-back version must not come back through the next promotion: it loses
    @challenger and says why on its tags; promoting it again takes its number."""
    if number is None:
        return
    versions.set_tag(number, "rolled_back", "true")
    challenger = versions.at_alias(CHALLENGER)
    if challenger is not None and challenger.number == number:
        versions.delete_alias(CHALLENGER)


def status(
    versions: Versions, *, alias: str = SERVING, tags: tuple[str, ...] = ("gate",)
) -> list[dict[str, str]]:
    """What is live: the versions holding `alias` and @challenger, when each was
    registered, and the tags asked for (gate scores, thresholds)."""
    rows = []
    for name in (alias, CHALLENGER):
        found = versions.at_alias(name)
        if found is None:
            rows.append({"alias": name, "version": "-"})
            continue
        registered = (
            found.registered_at.isoformat(timespec="seconds") if found.registered_at else "-"
        )
        row = {"alias": name, "version": found.number, "registered": registered}
        row.update({tag: found.tags.get(tag, "-") for tag in tags})
        rows.append(row)
    return rows
