"""The registry reconciled with the audit: an alias moved around goldpath (the registry's
API, a forged approval) is an unrecorded move that status reports and no decision passes
over until a person records it or a rollback reverts it; the log is a hash chain, and only
the writer of a killed decision may finish it."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from goldpath_runtime.errors import GovernanceError
from goldpath_runtime.governance.audit import AUDIT_PARAM, _governance_run
from goldpath_runtime.governance.chain import digest, verify_lines
from goldpath_runtime.lifecycle import promote, rollback, status, unrecorded

if TYPE_CHECKING:
    from conftest import Decide, Subject
    from goldpath_runtime.store import StoreConfig


def champion(subject: Subject) -> str | None:
    found = subject.versions.at_alias("champion")
    return None if found is None else found.number


def forge(subject: Subject, entry: dict[str, str], *, linked: bool = True) -> str:
    """An entry written straight through MLflow's API, as anyone with write access can."""
    client, trail = subject.trail.client, subject.trail
    run_id = _governance_run(client, trail.experiment_id, trail.subject)
    params = client.get_run(run_id).data.params
    taken = sorted(k for k in params if k.startswith(AUDIT_PARAM))
    full = {"subject": trail.subject, "at": "2026-12-01T00:00:00+00:00", "system": "local",
            "writer": "local:mallory@elsewhere", **entry}  # fmt: skip
    if linked:  # the chain's rule is public: a forger can link correctly
        full["prev"] = digest(params[taken[-1]])
    key = f"{AUDIT_PARAM}{len(taken) + 1:06d}"
    client.log_param(run_id, key, json.dumps(full, sort_keys=True))
    return key


def test_every_entry_links_to_the_one_before(subject: Subject, decide: Decide) -> None:
    decide(approver="alice", reason="first")
    subject.register()
    promote(subject.versions, subject.trail)
    subject.register()
    promote(subject.versions, subject.trail)
    rollback(subject.versions, subject.trail)
    audit = subject.trail.read()
    assert audit.intact
    assert not audit.problems
    assert len(audit.entries) == 6
    assert audit.entries[0]["prev"] == ""
    assert all(e["writer"].startswith("local:") for e in audit.entries)


@pytest.mark.parametrize("linked", [True, False], ids=["linked", "unlinked"])
def test_a_forged_approval_is_never_completed_and_the_real_decision_is_kept(
    subject: Subject, decide: Decide, capsys: pytest.CaptureFixture[str], linked: bool
) -> None:
    """The issue's attack: a forged `approved` entry naming another approver and validator,
    and the alias moved to it directly. The next promotion used to finish the forged entry
    (tags and governance.yml then named the forger's people); now it refuses, and the
    decision a real approver records names the real approver."""
    decide(approver="alice", reason="first")
    first = subject.register()
    promote(subject.versions, subject.trail)
    second = subject.register()
    forge(subject, {"version": second, "action": "promoted", "approver": "boss",
                    "validator": "nobody", "reason": "trust me", "step": "approved",
                    "previous": first}, linked=linked)  # fmt: skip
    subject.versions.set_alias("champion", second)
    third = subject.register()
    decide(approver="bob", reason="third")
    with pytest.raises(GovernanceError, match=f"unrecorded move: @champion .* holds v{second}"):
        promote(subject.versions, subject.trail)
    assert champion(subject) == second
    made = subject.versions.get(second)
    assert made is not None
    assert "promoted_by" not in made.tags
    if not linked:
        assert "written around goldpath-runtime" in capsys.readouterr().err
    # A person looks at v2 and records it as their own decision; then promotion goes on.
    decide(approver="carol", reason="reviewed the direct move of v2")
    move = promote(subject.versions, subject.trail, number=second)
    assert (move.version, move.previous) == (second, first)
    made = subject.versions.get(second)
    assert made is not None
    assert made.tags["promoted_by"] == "carol"
    assert subject.trail.record is not None
    latest = yaml.safe_load(subject.trail.record.read_text())["latest"]
    assert "boss" not in json.dumps(latest)
    assert "nobody" not in json.dumps(latest)
    applied = subject.trail.read().entries[-1]
    assert (applied["approver"], applied["recorded"]) == ("carol", "unrecorded move")
    assert promote(subject.versions, subject.trail).version == third


def test_status_reports_an_unrecorded_move_and_rollback_reverts_it(
    subject: Subject, decide: Decide
) -> None:
    decide(approver="alice", reason="first")
    first = subject.register()
    promote(subject.versions, subject.trail)
    rows = status(subject.versions, trail=subject.trail)
    assert rows[0]["audit"] == "recorded"
    assert unrecorded(rows) is None
    second = subject.register()
    subject.versions.set_alias("champion", second)  # through the registry's API
    rows = status(subject.versions, trail=subject.trail)
    problem = unrecorded(rows)
    assert problem is not None
    assert f"holds v{second}, the last applied decision names v{first}" in problem
    decide(reason="v2 was never approved")
    back = rollback(subject.versions, subject.trail)
    assert (back.version, back.previous) == (first, second)
    last = subject.trail.read().entries[-1]
    assert (last["action"], last["reverted"]) == ("rolled_back", "unrecorded move")
    assert unrecorded(status(subject.versions, trail=subject.trail)) is None


def test_a_decision_carries_the_tier_it_was_held_to(subject: Subject, decide: Decide) -> None:
    decide(approver="alice", reason="first")
    subject.register()
    promote(subject.versions, subject.trail)
    assert {e["risk_tier"] for e in subject.trail.read().entries} == {"medium"}


@pytest.mark.slow  # a process of its own, SIGKILLed
def test_a_killed_decision_is_finished_only_by_its_writer(
    subject: Subject, store: StoreConfig, decide: Decide
) -> None:
    from test_audit import drive

    decide(approver="alice", reason="first")
    first = subject.register()
    promote(subject.versions, subject.trail)
    second = subject.register()
    someone = {"LOGNAME": "dana", "USER": "dana", "REASON": "dana's release"}
    killed = drive(store, subject, "promote", "after", **someone)
    assert killed.wait(timeout=120) == -signal.SIGKILL, killed.communicate()[1][-2000:]
    assert champion(subject) == second
    decide(reason="not mine to finish")
    with pytest.raises(GovernanceError, match=r"only local:dana@.* may finish it"):
        promote(subject.versions, subject.trail, number=first)
    finished = drive(store, subject, "promote", **someone)
    assert finished.wait(timeout=120) == 0, finished.communicate()[1][-2000:]
    applied = subject.trail.read().entries[-1]
    assert (applied["step"], applied["reason"]) == ("applied", "dana's release")
    assert applied["writer"].startswith("local:dana@")
    assert subject.trail.read().intact


def test_the_exported_chain_is_the_audit_as_stored_and_names_the_champion(
    subject: Subject, decide: Decide, tmp_path: Path
) -> None:
    """`export-audit` writes what CI publishes for the inventory: every entry exactly as
    the registry stores it (so the chain verifies outside MLflow, with the same rules) and
    the version @champion holds; an alias moved around the audit shows as a difference."""
    decide(approver="alice", reason="line\u2028separator and ünïcode kept")
    first = subject.register()
    promote(subject.versions, subject.trail)
    subject.register()
    promote(subject.versions, subject.trail)
    rollback(subject.versions, subject.trail)
    written = subject.trail.export(tmp_path / "out", "champion", champion(subject))
    text = (written / "audit.jsonl").read_text(encoding="utf-8")
    lines = text.split("\n")[:-1]
    run_id = _governance_run(
        subject.trail.client, subject.trail.experiment_id, subject.trail.subject
    )
    params = subject.trail.client.get_run(run_id).data.params
    assert lines == [params[k] for k in sorted(params) if k.startswith(AUDIT_PARAM)]
    check = verify_lines(lines)
    assert (check.intact, len(check.entries)) == (True, 6)
    recorded = check.recorded()
    assert recorded is not None
    assert (recorded["version"], recorded["action"]) == (first, "rolled_back")
    snapshot = json.loads((written / "registry.json").read_text())
    assert (snapshot["subject"], snapshot["version"]) == (subject.trail.subject, first)
    moved = subject.register()
    subject.versions.set_alias("champion", moved)
    subject.trail.export(written, "champion", champion(subject))
    assert json.loads((written / "registry.json").read_text())["version"] == moved
    assert verify_lines((written / "audit.jsonl").read_text().split("\n")[:-1]).recorded() == (
        recorded
    )


def test_a_chain_line_that_is_changed_removed_or_too_deep_is_named_where_it_is() -> None:
    entry = {"subject": "s", "version": "1", "action": "promoted", "approver": "a",
             "reason": "r", "at": "t", "system": "local", "step": "applied"}  # fmt: skip
    lines, previous = [], ""
    for n in range(4):
        text = json.dumps({**entry, "version": str(n + 1), "prev": previous}, sort_keys=True)
        lines.append(text)
        previous = digest(text)
    assert verify_lines(lines).intact
    assert verify_lines([*lines[:1], *lines[2:]]).broken == [(2, BREAK)]
    changed = [lines[0], lines[1].replace('"a"', '"boss"'), *lines[2:]]
    assert verify_lines(changed).broken == [(3, BREAK)]
    deep = "[" * 100_000 + "]" * 100_000
    assert verify_lines([*lines, deep]).broken == [(5, "nested too deeply to be a decision")]
    assert verify_lines([*lines[:3], "{}", lines[3]]).broken[0][0] == 4


BREAK = "does not follow the entry before it: an entry was changed, removed or inserted"
