"""One lifecycle for every versioned artifact: a version is registered holding
`challenger`; `promote` moves the serving alias to it only when its evaluation gate
passed and a person (and, for a high risk tier, an independent validator) approved;
`rollback` moves the alias back to the version that held it before. Each move is written
ahead to the audit log and finished there (`AuditTrail`); a rolled-back version is retired.
The kind of artifact (model, prompt) is an adapter (`Versions`)."""

from __future__ import annotations

import logging
import time

from ..errors import GateFailedError, GovernanceError, ModelNotFoundError, ProjectError
from ..governance import (
    AuditTrail,
    Reconciled,
    Record,
    approval,
    load_record,
    technical_documentation,
)
from ..store import AliasMove
from .versions import Version, Versions

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
SERVING = "champion"
# Reads of the alias and the log that disagree, before the difference counts as an
# unrecorded move: a concurrent decision moves the alias and writes its line moments apart.
SETTLE_READS = 5


def _held_to(trail: AuditTrail) -> str:
    """The risk tier a decision is held to, once the record allows a decision at all."""
    return _governing(trail).risk_tier


def _governing(trail: AuditTrail) -> Record:
    if trail.record is None:
        raise GovernanceError("governance.yml not found: run from the project's root folder")
    record = load_record(trail.record)
    _refuse_retired(record)
    return record


def _require_shadow(record: Record, candidate: Version, champion: str | None) -> None:
    """A promotion the record holds to live evidence: enough shadow requests scored by
    this candidate against this champion (evidence against an earlier one does not count)."""
    needed = record.shadow_requests_required
    if needed <= 0 or champion is None:
        return
    tags = candidate.tags
    against = tags.get("shadow_champion")
    try:
        requests = int(tags.get("shadow_requests", "0")) if against == champion else 0
    except ValueError:
        requests = 0
    if requests < needed:
        raise GovernanceError(
            f"version {candidate.number} has {requests} shadow requests against @champion "
            f"v{champion}; governance.yml's shadow_evidence requires {needed} at risk tier "
            f"{record.risk_tier}: serve it in the shadow (SHADOW_SAMPLE_RATE) and run "
            "`make shadow-evidence`, then promote"
        )


def _refuse_retired(record: Record) -> None:
    """A retired model or prompt gets no new champion, forward or back."""
    if record.retired:
        raise GovernanceError(
            f"{record.model} was retired on {record.retired} (governance.yml): a retired "
            "model or prompt gets no new champion; remove `retired:` to bring it back"
        )


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


def _settled(
    versions: Versions, trail: AuditTrail, alias: str
) -> tuple[Version | None, Reconciled]:
    """The alias and the log's state, read until they agree or keep disagreeing. Another
    process's decision may move the alias between the two reads (its applied line lands
    after the move, or just before our read of the log): a difference that is gone a
    moment later is that decision, not a move around the lifecycle."""
    for attempt in range(SETTLE_READS):
        current = versions.at_alias(alias)
        state = trail.reconcile(None if current is None else current.number, versions.set_tag)
        if state.unrecorded is None or attempt == SETTLE_READS - 1:
            break
        time.sleep(0.2 * (attempt + 1))
    return current, state


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
    current, state = _settled(versions, trail, alias)
    previous = None if current is None else current.number
    target = candidate.number
    if state.unrecorded is not None and previous != target:
        raise GovernanceError(
            f"{state.unrecorded}. Nothing moved: record it (promote version {previous} "
            f"with an approver and a reason) or revert it (rollback goes back to "
            f"{_version(state.recorded)}), then promote"
        )
    if previous == target and state.unrecorded is None:
        resumed = state.resumed
        if resumed is not None and resumed["action"] == "promoted":
            return AliasMove(versions.name, alias, target, resumed["previous"] or None)
        return AliasMove(versions.name, alias, target, previous)
    # Checked before anything moves: a refused promotion changes nothing.
    record = _governing(trail)
    tier = record.risk_tier
    if previous != target:
        _require_shadow(record, candidate, previous)
    decision = approval("promoted", tier, candidate.tags.get("trained_by"))
    if previous == target:
        # The alias was moved around goldpath: this decision records it, nothing moves.
        trail.move(target, decision, state.recorded, versions.set_tag, lambda: None,
                   risk_tier=tier, recorded="unrecorded move")  # fmt: skip
        log.warning("unrecorded move recorded", extra={"subject": versions.name,
                                                       "version": target})  # fmt: skip
        return AliasMove(versions.name, alias, target, state.recorded)

    def apply() -> None:
        history = versions.history()
        if previous is not None and (not history or history[-1] != previous):
            history.append(previous)
        history.append(target)
        versions.set_history(history)
        versions.set_alias(alias, target)

    trail.move(target, decision, previous, versions.set_tag, apply, risk_tier=tier)
    log.info("promoted", extra={"subject": versions.name, "version": target, "previous": previous})
    return AliasMove(versions.name, alias, target, previous)


def rollback(versions: Versions, trail: AuditTrail, *, alias: str = SERVING) -> AliasMove:
    """Move `alias` back to the version that held it before the current one."""
    if not versions.registered():
        raise ModelNotFoundError(f"{versions.kind} {versions.name!r} is not registered")
    history = versions.history()
    current, state = _settled(versions, trail, alias)
    previous = None if current is None else current.number
    resumed = state.resumed
    if state.unrecorded is not None:
        # The emergency path stays open: rolling back reverts the unrecorded move to the
        # version the last applied decision names (the history goldpath kept).
        log.warning("reverting an unrecorded move", extra={"subject": versions.name})
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
    tier = _held_to(trail)
    decision = approval("rolled_back", tier, None)

    def apply() -> None:
        versions.set_history(history)
        versions.set_alias(alias, target)

    reverted = {} if state.unrecorded is None else {"reverted": "unrecorded move"}
    trail.move(target, decision, previous, versions.set_tag, apply, risk_tier=tier, **reverted)
    retire(versions, previous)
    log.info(
        "rolled back", extra={"subject": versions.name, "version": target, "previous": previous}
    )
    return AliasMove(versions.name, alias, target, previous)


def _version(number: str | None) -> str:
    return "no version" if number is None else f"v{number}"


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
    versions: Versions, *, alias: str = SERVING, tags: tuple[str, ...] = ("gate",),
    trail: AuditTrail | None = None,
) -> list[dict[str, str]]:  # fmt: skip
    """What is live: the versions holding `alias` and @challenger, when each was
    registered, and the tags asked for (gate scores, thresholds). With the audit trail, the
    alias row says whether the last applied decision put that version there (`audit`)."""
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
    if trail is not None:
        current = versions.at_alias(alias)
        state = trail.reconcile(None if current is None else current.number, None)
        rows[0]["audit"] = "recorded" if state.unrecorded is None else state.unrecorded
    return rows


def documentation(
    versions: Versions, trail: AuditTrail, number: str | None = None, *, alias: str = SERVING
) -> tuple[str, str]:
    """Version `number` (default: the one holding `alias`) and its technical documentation."""
    found = versions.get(number) if number is not None else versions.at_alias(alias)
    if found is None:
        which = f"version {number}" if number is not None else f"@{alias}: promote one first"
        raise ModelNotFoundError(f"{versions.kind} {versions.name!r} has no {which}")
    if trail.record is None:
        raise GovernanceError("governance.yml not found: run from the project's root folder")
    decisions = [e for e in trail.read().entries if str(e.get("version")) == found.number]
    text = technical_documentation(
        load_record(trail.record), versions.kind, versions.name, found.number, found.tags,
        decisions, found.registered_at,
    )  # fmt: skip
    return found.number, text


def unrecorded(rows: list[dict[str, str]]) -> str | None:
    """The unrecorded move `status` found, if any."""
    audit = rows[0].get("audit", "recorded") if rows else "recorded"
    return None if audit == "recorded" else audit
