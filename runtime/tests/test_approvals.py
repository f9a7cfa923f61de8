"""Who may move a champion: an approver and a reason always, and for a high risk tier a
validator who did not train the version; in CI the pipeline's identity."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldpath_runtime.errors import GovernanceError
from goldpath_runtime.governance import approval, same_person
from goldpath_runtime.governance.people import directory
from goldpath_runtime.lifecycle import promote, rollback

if TYPE_CHECKING:
    from conftest import Decide, Subject


def test_a_move_without_approver_or_reason_is_refused_and_moves_nothing(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    subject.register()
    with pytest.raises(GovernanceError, match="needs an approver: make promote APPROVER="):
        promote(subject.versions, subject.trail)
    decide(approver="alice")
    with pytest.raises(GovernanceError, match="needs a reason"):
        promote(subject.versions, subject.trail)
    assert subject.versions.at_alias("champion") is None
    assert subject.trail.read().entries == []
    decide(reason="first release")
    promote(subject.versions, subject.trail)
    subject.register()
    promote(subject.versions, subject.trail)
    people.delenv("REASON")
    with pytest.raises(GovernanceError, match="a rollback needs a reason: make rollback"):
        rollback(subject.versions, subject.trail)


def high_tier(subject: Subject) -> None:
    assert subject.trail.record is not None
    subject.trail.record.write_text(
        subject.trail.record.read_text().replace("risk_tier: medium", "risk_tier: high")
    )


def test_high_tier_needs_a_validator_other_than_the_trainer(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    high_tier(subject)
    number = subject.register(trained_by="trainer-tom")
    decide(approver="approver-ann", reason="beats the benchmark on the Q3 hold-out")
    with pytest.raises(GovernanceError, match="independent validation"):
        promote(subject.versions, subject.trail)
    decide(validator="Trainer-Tom")
    with pytest.raises(GovernanceError, match="trained this version"):
        promote(subject.versions, subject.trail)
    assert subject.versions.at_alias("champion") is None
    decide(validator="validator-val")
    promote(subject.versions, subject.trail)
    tags = subject.versions.get(number)
    assert tags is not None
    assert (tags.tags["promoted_by"], tags.tags["validated_by"]) == (
        "approver-ann",
        "validator-val",
    )
    assert tags.tags["promoted_reason"] == "beats the benchmark on the Q3 hold-out"
    approved, applied = subject.trail.read().entries
    assert (approved["step"], applied["step"]) == ("approved", "applied")
    assert {k: v for k, v in approved.items() if k not in {"step", "prev"}} == {
        k: v for k, v in applied.items() if k not in {"step", "prev"}
    }
    assert (applied["validator"], applied["system"]) == ("validator-val", "local")
    assert applied["risk_tier"] == "high"  # the tier the decision was held to
    assert applied["writer"].startswith("local:")
    assert applied["at"].endswith("+00:00")


def test_a_missing_record_stops_a_decision(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    subject.register()
    decide(approver="alice", reason="r")
    assert subject.trail.record is not None
    Path(subject.trail.record).unlink()
    with pytest.raises(GovernanceError, match="not a regular file"):
        promote(subject.versions, subject.trail)


# Cyrillic letters that look Latin.
_LOOK_ALIKES = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441",
                "i": "\u0456", "x": "\u0445"}  # fmt: skip


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """A name, and the same name as someone might type it to pass for another person."""
    name = draw(st.from_regex(r"[a-z]{2,8}([.\-_][a-z]{2,8})?", fullmatch=True))
    letters = []
    for letter in name:
        way = draw(st.sampled_from(["same", "upper", "look-alike", "zero-width", "full-width"]))
        if way == "upper":
            letter = letter.upper()
        elif way == "look-alike":
            letter = _LOOK_ALIKES.get(letter, letter)
        elif way == "zero-width":
            letter += "\u200b"
        elif way == "full-width" and letter.isalpha():
            letter = chr(ord(letter) + 0xFEE0)
        letters.append(letter)
    domain = draw(st.sampled_from(["", "@bank.example", "@BANK.example", " "]))
    return name, "".join(letters) + domain


@given(disguised())
def test_a_name_in_disguise_is_the_same_person(pair: tuple[str, str]) -> None:
    name, typed = pair
    assert same_person(name, typed), (name, typed)


def test_the_trainer_cannot_validate_under_another_spelling(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    high_tier(subject)
    subject.register(trained_by="trainer-tom")
    decide(approver="approver-ann", reason="ready")
    for spelling in ("trainer-tom@bank.example", "tr\u0430iner-tom", "trainer\u200b-tom",
                     " TRAINER-TOM "):  # fmt: skip
        decide(validator=spelling)
        with pytest.raises(GovernanceError, match="trained this version"):
            promote(subject.versions, subject.trail)
    assert subject.versions.at_alias("champion") is None
    assert not same_person("trainer-tom", "trainer-tim")


@pytest.mark.parametrize(
    ("setting", "field"),
    [("{", "not JSON"), ("[]", "must be a JSON object"), ('{"validators": "vic"}', "validators"),
     ('{"validators": [1]}', "validators"), ('{"identities": {"tom": "t"}}', "identities"),
     ('{"identities": []}', "identities"), ("[" * 60_000, "not JSON"),
     ('{"validators": ["' + "v" * 70_000 + '"]}', "longer than")],
)  # fmt: skip
def test_a_malformed_directory_is_one_line_naming_the_field(setting: str, field: str) -> None:
    env = {"APPROVER": "a", "REASON": "r", "VALIDATOR": "vic", "GOLDPATH_GOVERNANCE": setting}
    with pytest.raises(GovernanceError, match=field) as refused:
        approval("promoted", "high", "tom", env)
    assert "\n" not in str(refused.value)
    assert "GOLDPATH_GOVERNANCE" in str(refused.value)


@given(st.text(max_size=200))
def test_any_directory_setting_is_read_or_refused_in_one_line(setting: str) -> None:
    try:
        people = directory({"GOLDPATH_GOVERNANCE": setting})
    except GovernanceError as refused:
        people, message = None, str(refused)
    else:
        message = ""
    assert "\n" not in message
    assert people is None or isinstance(people.validators, frozenset)
