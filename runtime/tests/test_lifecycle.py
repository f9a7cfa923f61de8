"""Promote, rollback, retire and status: one implementation, both kinds of artifact."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from goldpath_runtime.errors import GateFailedError, ModelNotFoundError, ProjectError
from goldpath_runtime.lifecycle import CHALLENGER, promote, rollback, status
from goldpath_runtime.store import connect

if TYPE_CHECKING:
    from conftest import Decide, Subject
    from goldpath_runtime.store import StoreConfig


def test_promotion_moves_the_champion_and_records_the_order(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    decide(approver="alice", reason="first release")
    first = subject.register()
    move = promote(subject.versions, subject.trail)
    assert (move.version, move.previous, move.changed) == (first, None, True)
    second = subject.register()
    assert promote(subject.versions, subject.trail).previous == first
    at = subject.versions.at_alias("champion")
    assert at is not None
    assert at.number == second
    assert subject.versions.history() == [first, second]
    again = promote(subject.versions, subject.trail)
    assert not again.changed  # already the champion: nothing recorded twice
    assert [e["step"] for e in subject.trail.read().entries] == ["approved", "applied"] * 2


def test_a_version_that_failed_its_gate_never_becomes_champion(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    decide(approver="alice", reason="try it")
    subject.register(gate="failed")
    with pytest.raises(GateFailedError, match="did not pass the evaluation gate") as raised:
        promote(subject.versions, subject.trail)
    if subject.versions.kind == "model":  # the gate's own reason, for either kind that has one
        assert "ROC AUC 0.61 < 0.70" in str(raised.value)
    assert subject.versions.at_alias("champion") is None
    assert subject.trail.read().entries == []


def test_missing_versions_are_one_clear_error(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    decide(approver="alice", reason="r")
    with pytest.raises(ModelNotFoundError, match=f"no @{CHALLENGER}: register one first"):
        promote(subject.versions, subject.trail)
    with pytest.raises(ModelNotFoundError, match="is not registered"):
        rollback(subject.versions, subject.trail)
    subject.register()
    with pytest.raises(ModelNotFoundError, match="has no version 99"):
        promote(subject.versions, subject.trail, number="99")
    promote(subject.versions, subject.trail)
    with pytest.raises(ProjectError, match="no earlier @champion to roll back to"):
        rollback(subject.versions, subject.trail)


def test_rollback_goes_back_and_retires_the_version_it_leaves(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    decide(approver="alice", reason="release")
    first = subject.register()
    promote(subject.versions, subject.trail)
    second = subject.register()
    promote(subject.versions, subject.trail)
    back = rollback(subject.versions, subject.trail)
    assert (back.version, back.previous) == (first, second)
    retired = subject.versions.get(second)
    assert retired is not None
    assert retired.tags["rolled_back"] == "true"
    assert subject.versions.at_alias(CHALLENGER) is None, "it cannot come back by default"
    restored = subject.versions.get(first)
    assert restored is not None
    assert restored.tags["rolled_back_by"] == "alice", "the decision is on the version it made"


def test_status_lists_champion_and_challenger(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    decide(approver="alice", reason="release")
    assert [r["version"] for r in status(subject.versions)] == ["-", "-"]
    first = subject.register()
    promote(subject.versions, subject.trail)
    challenger = subject.register()
    rows = status(subject.versions, tags=("gate", "trained_by"))
    assert [(r["alias"], r["version"]) for r in rows] == [
        ("champion", first), (CHALLENGER, challenger)
    ]  # fmt: skip
    assert rows[0]["gate"] == "passed"
    assert rows[1]["trained_by"] == "trainer-tom"
    assert rows[0]["registered"].endswith("+00:00")


def test_decisions_land_in_the_registry_of_their_own_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings_for: type[StoreConfig]
) -> None:
    """MLflow's registry URI is process-wide (and exported to the environment): a connection
    to a store with a registry of its own must not leave it behind."""
    import mlflow

    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "")
    monkeypatch.delenv("MLFLOW_REGISTRY_URI")
    elsewhere = f"sqlite:///{tmp_path / 'registry.db'}"
    connect(settings_for(f"sqlite:///{tmp_path / 'first.db'}", "file:///x", "e", elsewhere))
    assert mlflow.get_registry_uri() == elsewhere
    second = f"sqlite:///{tmp_path / 'second.db'}"
    connect(settings_for(second, "file:///x", "e", None))
    assert mlflow.get_registry_uri() == second


def test_each_move_is_logged_with_its_subject_and_versions(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="goldpath_runtime")
    decide(approver="alice", reason="release")
    first = subject.register()
    promote(subject.versions, subject.trail)
    second = subject.register()
    promote(subject.versions, subject.trail)
    rollback(subject.versions, subject.trail)
    moves = [
        (r.getMessage(), r.__dict__["version"], r.__dict__["previous"]) for r in caplog.records
    ]
    assert moves == [("promoted", first, None), ("promoted", second, first),
                     ("rolled back", first, second)]  # fmt: skip
    assert {r.__dict__["subject"] for r in caplog.records} == {subject.versions.name}


def test_a_write_that_lost_a_race_is_retried_and_nothing_else_is() -> None:
    """MLflow's SQL store sets a tag or alias as select-then-insert: of two decisions
    writing the same key at once the second fails on the unique constraint (seen in CI:
    four concurrent promotions of one prompt). That write is retried; any other is not."""
    from mlflow.exceptions import MlflowException

    from goldpath_runtime.lifecycle.versions import settled

    raced = MlflowException(
        "(sqlite3.IntegrityError) UNIQUE constraint failed: model_version_tags.workspace, "
        "model_version_tags.key, model_version_tags.name, model_version_tags.version"
    )
    calls: list[int] = []

    def lost_twice() -> str:
        calls.append(1)
        if len(calls) <= 2:
            raise raced
        return "written"

    assert settled(lost_twice) == "written"
    assert len(calls) == 3

    def refused() -> None:
        calls.append(1)
        raise MlflowException("RESOURCE_DOES_NOT_EXIST: no such version")

    calls.clear()
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        settled(refused)
    assert len(calls) == 1

    def always_raced() -> None:
        calls.append(1)
        raise raced

    calls.clear()
    with pytest.raises(MlflowException, match="UNIQUE constraint failed"):
        settled(always_raced)
    assert len(calls) == 6
