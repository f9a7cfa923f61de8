"""The audit log of a subject's decisions (a model or a prompt): one MLflow run parameter
per decision, in the subject's governance run. Parameters cannot be overwritten, so of two
writers racing for the same entry number one is refused and takes the next: concurrent
decisions never lose a line. Each move of an alias is written ahead (`approved`) and after
(`applied`): a run killed in between leaves an approval the next decision resolves, never
a move nobody recorded.

Each entry names who wrote it (`writer`) and carries the SHA-256 of the entry before it
(`prev`): an entry changed, removed, inserted or written around goldpath breaks the chain,
is named with its position and is never completed. An alias that holds a version no
applied decision names (moved through the registry's API) is an unrecorded move: reported,
and no decision proceeds over it until it is recorded or reverted."""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import GovernanceError
from .approvals import Approval, writer_identity
from .chain import APPLIED, APPROVED, digest, link_problem, parse_entry
from .record import note_latest

AUDIT_FILE = "audit.jsonl"
# What CI publishes beside governance.yml on the governance-record branch.
PUBLISHED_AUDIT, PUBLISHED_REGISTRY = "audit.jsonl", "registry.json"
PUBLISHED_DOCUMENTATION = "champion.md"  # the champion's technical documentation
GOVERNANCE_RUN_TAG = "goldpath.governance"


def _governance_run(client: Any, experiment_id: str, subject: str) -> str:
    """The subject's governance run: the oldest, so that two first decisions made at once
    settle on one run (the one that loses the race deletes the run it made, still empty)."""

    def oldest() -> str | None:
        runs = client.search_runs(
            [experiment_id], filter_string=f"tags.`{GOVERNANCE_RUN_TAG}` = '{subject}'",
            order_by=["attributes.start_time ASC"], max_results=1,
        )  # fmt: skip
        return str(runs[0].info.run_id) if runs else None

    found = oldest()
    if found is not None:
        return found
    run = client.create_run(
        experiment_id, tags={GOVERNANCE_RUN_TAG: subject}, run_name=f"governance-{subject}"
    )
    client.set_terminated(run.info.run_id)
    settled = oldest() or run.info.run_id
    if settled != run.info.run_id:
        client.delete_run(run.info.run_id)
    return str(settled)


AUDIT_PARAM = "audit."  # one run parameter per decision: audit.000001, audit.000002, ...
# MLflow keeps at most this many characters of a parameter (it would cut a longer entry).
AUDIT_ENTRY_MAX = 6000


@dataclass(frozen=True)
class AuditLog:
    """The decisions of one subject, in order, and what could not be read or trusted: each
    damaged or unchained entry named by where it is and how to repair it (it is never
    completed or trusted)."""

    entries: list[dict[str, Any]]
    problems: list[str]
    last_damaged: bool  # the newest entry is one of the damaged: a resume must not guess
    intact: bool = True  # every entry readable and chained to the one before it

    def recorded(self) -> str | None:
        """The version the last applied decision moved the alias to."""
        applied = [e for e in self.entries if e.get("step") == APPLIED]
        return str(applied[-1]["version"]) if applied else None


def _legacy_lines(client: Any, run_id: str) -> list[str]:
    """audit.jsonl, where projects before the per-decision entries wrote their log."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            path = client.download_artifacts(run_id, AUDIT_FILE, scratch)
        except Exception:  # no such artifact: nothing was recorded the old way
            return []
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()


def write_whole(path: Path, text: str) -> None:
    """Written beside it and renamed over it: a run killed half-way leaves the old file or
    the new one, never a cut chain that a publication would then spread."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def _chained(client: Any, run_id: str) -> list[tuple[str, str]]:
    """The run's audit entries (parameter name, text as stored), in order."""
    params = client.get_run(run_id).data.params
    return [(k, params[k]) for k in sorted(k for k in params if k.startswith(AUDIT_PARAM))]


def read_audit_log(client: Any, experiment_id: str, subject: str) -> AuditLog:
    run_id = _governance_run(client, experiment_id, subject)
    places: list[tuple[str, str, str, bool]] = []  # (where, text, how to repair, chained)
    for number, line in enumerate(_legacy_lines(client, run_id), 1):
        if line.strip():
            repair = (
                f"mlflow artifacts download -r {run_id} -a {AUDIT_FILE}, mend or delete the "
                "line, then log the file back to the run"
            )
            places.append((f"{AUDIT_FILE} line {number}", line, repair, False))
    for key, text in _chained(client, run_id):
        repair = f"a parameter cannot be changed: tell model risk; run {run_id} holds it"
        places.append((f"audit entry {key}", text, repair, True))
    entries, problems = [], []
    last_damaged, intact, previous, chained = False, True, "", False
    for where, text, repair, in_chain in places:
        entry = parse_entry(text)
        last_damaged = isinstance(entry, str)
        broken = link_problem(entry, previous, chained) if in_chain else None
        if in_chain:
            previous = digest(text)
            chained = chained or (isinstance(entry, dict) and "prev" in entry)
            intact = intact and not last_damaged and broken is None
        if isinstance(entry, str):
            problems.append(
                f"{subject}: {where} is damaged ({entry}); skipped. To repair: {repair}"
            )
        elif broken is not None:
            problems.append(f"{subject}: {where} {broken}; it is not trusted. {repair}")
            last_damaged = True
        else:
            entries.append(entry)
    return AuditLog(entries, problems, last_damaged, intact)


def read_audit(client: Any, experiment_id: str, subject: str) -> list[dict[str, Any]]:
    return read_audit_log(client, experiment_id, subject).entries


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def append_audit(
    client: Any, experiment_id: str, subject: str, version: str, decision: Approval, **extra: str
) -> None:
    """Append one decision as the next audit entry. Each entry is a run parameter, which
    the tracking store will not overwrite: of two writers racing for the same number one
    is refused and takes the next, so concurrent decisions never lose a line."""
    run_id = _governance_run(client, experiment_id, subject)
    entry = {"subject": subject, "version": version, **asdict(decision), **extra,
             "writer": writer_identity(), "prev": "0" * 64}  # fmt: skip
    length = len(json.dumps(entry, sort_keys=True, ensure_ascii=False))
    if length > AUDIT_ENTRY_MAX:
        raise GovernanceError(
            f"this decision is {length} characters long, more than the audit log keeps "
            f"({AUDIT_ENTRY_MAX}): shorten REASON"
        )
    for attempt in range(200):
        params = client.get_run(run_id).data.params
        taken = sorted(k for k in params if k.startswith(AUDIT_PARAM))
        number = 1 + max((int(k[len(AUDIT_PARAM) :]) for k in taken), default=0)
        # Linked to the entry this one follows: re-read on every attempt, so the writer
        # that loses a race links to the entry that won it.
        entry["prev"] = digest(params[taken[-1]]) if taken else ""
        text = json.dumps(entry, sort_keys=True, ensure_ascii=False)
        try:
            client.log_param(run_id, f"{AUDIT_PARAM}{number:06d}", text)
            return
        except Exception as exc:  # taken meanwhile (or the store was busy): try the next
            if "Changing param values is not allowed" not in str(exc) and "locked" not in str(exc):
                raise
            time.sleep(random.uniform(0, 0.05 * min(attempt + 1, 10)))  # noqa: S311 - jitter
    raise GovernanceError(f"{subject}: could not append to the audit log (the store is busy)")


SetTag = Callable[[str, str, str], Any]  # (version, key, value)


@dataclass(frozen=True)
class AuditTrail:
    """One subject's audit log, and the record each applied decision is noted in."""

    client: Any
    experiment_id: str
    subject: str
    record: Path | None  # governance.yml, whose `latest:` block names the champion

    def read(self) -> AuditLog:
        return read_audit_log(self.client, self.experiment_id, self.subject)

    def export(self, directory: Path, alias: str, holds: str | None, card_id: str = "") -> Path:
        """Write what CI publishes beside the record for the inventory to verify: the
        chained entries exactly as stored, one per line (`audit.jsonl`), and which version
        `alias` holds now (`registry.json`): a move made around the audit shows there."""
        run_id = _governance_run(self.client, self.experiment_id, self.subject)
        directory.mkdir(parents=True, exist_ok=True)
        lines = [text for _, text in _chained(self.client, run_id)]
        write_whole(directory / PUBLISHED_AUDIT, "".join(f"{line}\n" for line in lines))
        snapshot = {"subject": self.subject, "alias": alias, "version": holds, "card_id": card_id,
                    "read_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        write_whole(directory / PUBLISHED_REGISTRY, json.dumps(snapshot) + "\n")
        return directory

    def append(self, version: str, decision: Approval, **extra: str) -> None:
        append_audit(self.client, self.experiment_id, self.subject, version, decision, **extra)

    def move(
        self,
        version: str,
        decision: Approval,
        previous: str | None,
        set_tag: SetTag,
        apply: Callable[[], Any],
        **extra: str,
    ) -> None:
        """Record, move, record. The decision is appended (step `approved`) before `apply`
        moves the alias, then set on the version's tags, marked `applied` and noted in the
        record's `latest:` block. A run killed in between leaves an approved line and
        either no move (the next run writes its own decision) or a move that `resume`
        marks applied: never a move of the alias that nobody recorded."""
        self.append(version, decision, previous=previous or "", step=APPROVED, **extra)
        apply()
        self._applied(version, decision, previous, set_tag, **extra)

    def _applied(
        self, version: str, decision: Approval, previous: str | None, set_tag: SetTag,
        **extra: str,
    ) -> None:  # fmt: skip
        for key, value in decision.tags().items():
            set_tag(version, key, value)
        self.append(version, decision, previous=previous or "", step=APPLIED, **extra)
        if self.record is not None:
            note_latest(version, decision, self.record, self._validation(version))

    def _validation(self, version: str) -> tuple[str, str] | None:
        """When and by whom `version` was validated, from its last applied promotion."""
        for entry in reversed(self.read().entries):
            promoted = entry.get("step") == APPLIED and entry.get("action") == "promoted"
            if promoted and entry.get("version") == version and entry.get("validator"):
                return str(entry["at"]), str(entry["validator"])
        return None

    def reconcile(self, alias_now: str | None, set_tag: SetTag | None) -> Reconciled:
        """Compare the alias with the last applied decision. A move its own writer approved
        and made but was killed before marking applied is finished here (unless `set_tag`
        is None: only looking); any other difference is an unrecorded move, returned for
        the caller to refuse or repair."""
        audit = self.read()
        for problem in audit.problems:
            _warn(problem)
        recorded = audit.recorded()
        if alias_now == recorded:
            return Reconciled(None, recorded, None)
        last = audit.entries[-1] if audit.entries else None
        pending = (
            last is not None and not audit.last_damaged and last.get("step") == APPROVED
            and last["version"] == alias_now
        )  # fmt: skip
        writer = writer_identity()
        mine = pending and last is not None and audit.intact and last.get("writer") == writer
        if mine and set_tag is None:
            return Reconciled(None, recorded, None)  # the next decision finishes it
        if mine and last is not None and set_tag is not None:
            decision = _decision(last)
            self._applied(
                str(alias_now), decision, last.get("previous") or None, set_tag,
                resumed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )  # fmt: skip
            return Reconciled(last, alias_now, None)
        why = f"the last applied decision names {_named(recorded)}"
        if pending and last is not None:
            who = last.get("writer", "an unknown writer")
            why += (
                f"; an approval for it by {who} was never marked applied"
                + ("" if audit.intact else " and the log's chain is broken")
                + (f", and only {who} may finish it" if who != writer else "")
            )
        problem = f"unrecorded move: @champion of {self.subject} holds {_named(alias_now)}, {why}"
        return Reconciled(None, recorded, problem)

    def note_recorded(self) -> None:
        """Write the record's `latest:` block from the last applied decision: the record
        CI publishes is the audit's, whichever checkout publishes it."""
        applied = [e for e in self.read().entries if e.get("step") == APPLIED]
        if self.record is None or not applied:
            return
        version = str(applied[-1]["version"])
        note_latest(version, _decision(applied[-1]), self.record, self._validation(version))

    def resume(self, alias_now: str | None, set_tag: SetTag) -> dict[str, Any] | None:
        """Finish a move its own writer approved and made but did not mark applied; returns
        that entry, or None when there is none."""
        return self.reconcile(alias_now, set_tag).resumed


def _decision(entry: dict[str, Any]) -> Approval:
    """The decision an audit entry records."""
    return Approval(
        action=entry["action"], approver=entry["approver"], reason=entry["reason"],
        validator=entry.get("validator"), at=entry["at"], system=entry["system"],
        run_url=entry.get("run_url"),
    )  # fmt: skip


def _named(version: str | None) -> str:
    return "no version" if version is None else f"v{version}"


@dataclass(frozen=True)
class Reconciled:
    """The alias compared with the audit: a move finished for its writer (`resumed`), the
    version the last applied decision names, and the unrecorded move, if any."""

    resumed: dict[str, Any] | None
    recorded: str | None
    unrecorded: str | None
