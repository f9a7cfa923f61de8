"""The audit log: every decision in order, written ahead of the move it makes, finished by
the next run when a run was killed half-way, never losing a line to a concurrent writer,
and readable when damaged (the emergency path: a rollback always runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from goldpath_runtime.governance import append_audit
from goldpath_runtime.governance.audit import AUDIT_FILE, _governance_run
from goldpath_runtime.lifecycle import promote, rollback

if TYPE_CHECKING:
    from conftest import Decide, Subject
    from goldpath_runtime.store import StoreConfig

DRIVER = Path(__file__).with_name("lifecycle_driver.py")


def drive(store: StoreConfig, subject: Subject, *args: str, **env: str) -> subprocess.Popen[str]:
    assert subject.trail.record is not None
    return subprocess.Popen(
        [sys.executable, str(DRIVER), store.mlflow_tracking_uri, store.mlflow_artifact_root,
         subject.versions.kind, subject.versions.name, str(subject.trail.record), *args],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_the_audit_trail_survives_a_rollback(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    decide(approver="alice", reason="first release")
    first = subject.register()
    promote(subject.versions, subject.trail)
    second = subject.register()
    decide(reason="second release")
    promote(subject.versions, subject.trail)
    decide(reason="second release misprices large tickets")
    assert rollback(subject.versions, subject.trail).version == first
    entries = subject.trail.read().entries
    assert [e["step"] for e in entries] == ["approved", "applied"] * 3
    applied = [e for e in entries if e["step"] == "applied"]
    assert [(e["action"], e["version"], e["reason"]) for e in applied] == [
        ("promoted", first, "first release"),
        ("promoted", second, "second release"),
        ("rolled_back", first, "second release misprices large tickets"),
    ]
    assert applied[-1]["previous"] == second


@pytest.mark.slow  # processes of their own, SIGKILLed or racing
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_promotion_killed_at_the_move_leaves_no_unrecorded_champion(
    subject: Subject, store: StoreConfig, people: pytest.MonkeyPatch, decide: Decide, when: str
) -> None:
    """SIGKILL just before or just after the alias moves: the log already holds the
    approval; the rerun finishes the killed run's record (the move happened) or writes its
    own (it did not), and every applied line follows its approval."""
    decide(approver="alice", reason="first release")
    first = subject.register()
    promote(subject.versions, subject.trail)
    subject.register()
    killed = drive(store, subject, "promote", when, REASON="killed release")
    assert killed.wait(timeout=120) == -signal.SIGKILL, killed.communicate()[1][-2000:]
    entries = subject.trail.read().entries
    assert (entries[-1]["step"], entries[-1]["reason"]) == ("approved", "killed release")
    champion = subject.versions.at_alias("champion")
    assert champion is not None
    assert (champion.number != first) == (when == "after")
    decide(reason="rerun")
    again = promote(subject.versions, subject.trail)
    assert again.previous == first
    entries = subject.trail.read().entries
    steps = [e["step"] for e in entries]
    applied = [e for e in entries if e["step"] == "applied"]
    if when == "after":  # the killed run's own decision, marked applied by the rerun
        assert steps == ["approved", "applied", "approved", "applied"]
        assert applied[-1]["reason"] == "killed release"
        assert applied[-1]["resumed_at"]
    else:  # nothing moved: its approval stays, unapplied, and the rerun decides anew
        assert steps == ["approved", "applied", "approved", "approved", "applied"]
        assert applied[-1]["reason"] == "rerun"
    assert applied[-1]["version"] == again.version
    made = subject.versions.get(again.version)
    assert made is not None
    assert made.tags["promoted_reason"] == applied[-1]["reason"]


@pytest.mark.slow  # processes of their own, SIGKILLed or racing
def test_a_rollback_killed_after_the_move_is_finished_not_repeated(
    subject: Subject, store: StoreConfig, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    decide(approver="alice", reason="release")
    numbers = []
    for _ in range(3):
        numbers.append(subject.register())
        promote(subject.versions, subject.trail)
    killed = drive(store, subject, "rollback", "after", REASON="three misprices")
    assert killed.wait(timeout=120) == -signal.SIGKILL
    back = rollback(subject.versions, subject.trail)  # finishes it; does not go back to one
    assert (back.version, back.previous) == (numbers[1], numbers[2])
    last = subject.trail.read().entries[-1]
    assert (last["step"], last["action"], last["reason"]) == (
        "applied", "rolled_back", "three misprices"
    )  # fmt: skip
    retired = subject.versions.get(numbers[2])
    assert retired is not None
    assert retired.tags["rolled_back"] == "true"


@pytest.mark.slow  # processes of their own, SIGKILLed or racing
def test_concurrent_writers_keep_every_audit_line(subject: Subject, store: StoreConfig) -> None:
    """Four writers append ten decisions each at once: all 40 are there, each once (the
    log used to be downloaded, appended and uploaded: 17 of 20 survived). Each writer is a
    process importing MLflow: more of them cost CI time, not evidence."""
    subject.trail.read()  # the governance run exists before the race starts
    writers = [drive(store, subject, "append", f"w{i}", "10") for i in range(4)]
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.communicate()[1][-2000:]
    reasons = [e["reason"] for e in subject.trail.read().entries]
    assert sorted(reasons) == sorted(f"w{i}-{n}" for i in range(4) for n in range(10))


@pytest.mark.slow  # processes of their own, SIGKILLed or racing
def test_concurrent_promotions_each_record_their_decision(
    subject: Subject, store: StoreConfig, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    decide(approver="alice", reason="first")
    subject.register()
    promote(subject.versions, subject.trail)
    subject.register()
    runs = [drive(store, subject, "promote", REASON=f"concurrent {i}") for i in range(4)]
    for run in runs:
        assert run.wait(timeout=300) == 0, run.communicate()[1][-2000:]
    entries = subject.trail.read().entries
    approved = {e["reason"] for e in entries if e["step"] == "approved"}
    assert {"first"} < approved
    applied = [e for e in entries if e["step"] == "applied"]
    champion = subject.versions.at_alias("champion")
    assert champion is not None
    assert applied[-1]["version"] == champion.number


def legacy_log(subject: Subject, store: StoreConfig, lines: list[str], folder: Path) -> None:
    """audit.jsonl, as projects before per-decision entries wrote it, damaged."""
    run_id = _governance_run(
        subject.trail.client, subject.trail.experiment_id, subject.trail.subject
    )
    folder.mkdir()
    (folder / AUDIT_FILE).write_text("\n".join(lines) + "\n")
    subject.trail.client.log_artifact(run_id, str(folder / AUDIT_FILE))


@pytest.mark.parametrize(
    "damage",
    [
        '{"subject": "x", "version": "1", "action": "promoted", "st',  # cut short
        '{"subject": "x", "version": "1", "action": "promoted", "step": "approved"}',
        "[1, 2]",
    ],
    ids=["truncated", "no-approver", "not-a-decision"],
)
def test_a_damaged_audit_log_never_blocks_the_emergency_path(
    subject: Subject, store: StoreConfig, people: pytest.MonkeyPatch, decide: Decide,
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str,
) -> None:  # fmt: skip
    """A truncated line, a line without approver, a line that is not a decision: each is
    named with its line and the repair, never completed; rollback still runs."""
    decide(approver="alice", reason="one", validator="validator-val")
    first = subject.register()
    promote(subject.versions, subject.trail)
    second = subject.register()
    decide(reason="two")
    promote(subject.versions, subject.trail)
    legacy_log(subject, store, ['{"subject": "x"}', damage], tmp_path / "legacy")
    decide(reason="two misprices")
    back = rollback(subject.versions, subject.trail)
    assert (back.version, back.previous) == (first, second)
    warnings = [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")
    ]
    assert any(f"{AUDIT_FILE} line 2 is damaged" in w and "To repair" in w for w in warnings)
    assert any(f"{AUDIT_FILE} line 1 is damaged" in w for w in warnings)
    assert subject.trail.read().entries[-1]["reason"] == "two misprices"


def test_an_entry_the_log_cannot_keep_is_refused_before_anything_moves(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    from goldpath_runtime.errors import GovernanceError

    decide(approver="alice", reason="x" * 7000)
    subject.register()
    with pytest.raises(GovernanceError, match="shorten REASON"):
        promote(subject.versions, subject.trail)
    assert subject.versions.at_alias("champion") is None
    assert append_audit  # the module's function form stays importable for scripts
