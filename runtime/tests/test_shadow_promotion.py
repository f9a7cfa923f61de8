"""A promotion held to live evidence: governance.yml's `shadow_evidence` names, per risk
tier, the shadow requests a challenger must have scored against today's champion."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import write_record
from goldpath_runtime.errors import GovernanceError
from goldpath_runtime.governance import load_record
from goldpath_runtime.lifecycle import promote

if TYPE_CHECKING:
    from conftest import Decide, Subject


def require(record: Path, block: str) -> None:
    record.write_text(record.read_text() + f"shadow_evidence: {block}\n")


@pytest.fixture
def high(subject: Subject, people: pytest.MonkeyPatch, decide: Decide) -> Subject:
    assert subject.trail.record is not None
    write_record(subject.trail.record, tier="high")
    require(subject.trail.record, "{high: 100, medium: 0}")
    decide(approver="alice", reason="release", validator="val-vera")
    return subject


def test_a_high_tier_promotion_needs_shadow_evidence_against_this_champion(
    high: Subject,
) -> None:
    first = high.register()
    assert promote(high.versions, high.trail).version == first  # no champion yet: nothing to shadow
    second = high.register()
    with pytest.raises(
        GovernanceError,
        match=r"has 0 shadow requests against @champion v"
        r"\d+; governance.yml's shadow_evidence requires 100 at risk tier high",
    ):
        promote(high.versions, high.trail)
    high.versions.set_tag(second, "shadow_requests", "150")
    high.versions.set_tag(second, "shadow_champion", "an earlier one")
    with pytest.raises(GovernanceError, match="has 0 shadow requests"):
        promote(high.versions, high.trail)  # evidence against another champion counts nothing
    high.versions.set_tag(second, "shadow_champion", first)
    high.versions.set_tag(second, "shadow_requests", "99")
    with pytest.raises(GovernanceError, match="has 99 shadow requests"):
        promote(high.versions, high.trail)
    at = high.versions.at_alias("champion")
    assert at is not None
    assert at.number == first
    high.versions.set_tag(second, "shadow_requests", "100")
    assert promote(high.versions, high.trail).version == second


def test_a_tier_the_block_does_not_name_needs_none(
    subject: Subject, record: Path, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    require(record, "{high: 1000}")  # the fixture's record is medium
    decide(approver="alice", reason="release")
    subject.register()
    promote(subject.versions, subject.trail)
    second = subject.register()
    assert promote(subject.versions, subject.trail).version == second


@pytest.mark.parametrize(
    ("block", "said"),
    [
        ("[100]", "shadow_evidence is not a mapping"),
        ("{critical: 5}", "shadow_evidence.critical is not a risk tier"),
        ("{high: -1}", "shadow_evidence.high must be a whole number"),
        ("{high: 1.5}", "shadow_evidence.high must be a whole number"),
        ("{high: true}", "shadow_evidence.high must be a whole number"),
        ("{high: 100000000000}", "shadow_evidence.high must be a whole number"),
    ],
)
def test_a_malformed_requirement_is_one_line_naming_the_field(
    record: Path, block: str, said: str
) -> None:
    require(record, block)
    with pytest.raises(GovernanceError, match=said) as raised:
        load_record(record)
    assert "\n" not in str(raised.value)
    assert "shadow_evidence: {high: 1000, medium: 200}" in str(raised.value)
