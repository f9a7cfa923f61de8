"""Who may move a champion: an approver and a reason always, and for a high risk tier a
validator who did not train the version; in CI the pipeline's identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldpath_runtime.errors import GovernanceError
from goldpath_runtime.governance import approval, ci_context, same_person
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


def test_ci_identity_is_the_approver_in_github_actions_and_azure_devops() -> None:
    github = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat", "GITHUB_REPOSITORY": "acme/m",
              "GITHUB_RUN_ID": "42", "REASON": "weekly retrain"}  # fmt: skip
    decision = approval("promoted", "medium", "someone", github)
    assert (decision.approver, decision.system) == ("octocat", "github-actions")
    assert decision.run_url == "https://github.com/acme/m/actions/runs/42"
    ado = {"TF_BUILD": "True", "BUILD_REQUESTEDFOREMAIL": "ann@bank.example", "REASON": "r",
           "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "ml",
           "BUILD_BUILDID": "7"}  # fmt: skip
    assert ci_context(ado)["actor"] == "ann@bank.example"
    assert approval("promoted", "low", None, ado).run_url == (
        "https://dev.azure.com/acme/ml/_build/results?buildId=7"
    )
    # An explicit APPROVER (the environment's reviewer, passed by the pipeline) wins.
    assert approval("promoted", "low", None, {**github, "APPROVER": "reviewer"}).approver == (
        "reviewer"
    )


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


GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat", "GITHUB_REPOSITORY": "acme/m",
          "GITHUB_RUN_ID": "42", "REASON": "quarterly revalidation"}  # fmt: skip
GROUP = json.dumps(
    {
        "validators": ["vic", "val@bank.example"],
        "identities": {"Vic.Tor@Bank.example": "vic", "tom@bank.example": "tom-gh"},
    }
)


def test_in_ci_a_high_tier_validator_must_be_in_the_platforms_validation_group() -> None:
    """The group and the e-mail -> user mapping are the platform's (GOLDPATH_GOVERNANCE);
    a pipeline without them cannot promote a high-tier model, and membership is by
    identity: the mapping or the group's own spelling, never a look-alike local part."""
    with pytest.raises(GovernanceError, match="no model-validation group is configured"):
        approval("promoted", "high", "tom-gh", {**GITHUB, "VALIDATOR": "vic"})
    configured = {**GITHUB, "GOLDPATH_GOVERNANCE": GROUP}
    for member in ("vic", "VIC", "vic.tor@bank.example", "val@bank.example", "v\u0456c"):
        decision = approval("promoted", "high", "tom-gh", {**configured, "VALIDATOR": member})
        assert decision.validator == member
    for outsider in ("vic@evil.example", "val", "mallory", "vic2"):
        with pytest.raises(GovernanceError, match="not in the model-validation group"):
            approval("promoted", "high", "tom-gh", {**configured, "VALIDATOR": outsider})
    # The mapping also joins the trainer's two names: tom's e-mail is tom-gh.
    with pytest.raises(GovernanceError, match="trained this version"):
        approval("promoted", "high", "tom@bank.example",
                 {**configured, "VALIDATOR": "tom-gh"})  # fmt: skip
    # Other tiers and rollbacks need no group; a laptop's decision is marked local.
    assert approval("promoted", "medium", None, GITHUB).validator is None
    local = approval("promoted", "high", "tom", {"APPROVER": "a", "REASON": "r",
                                                  "VALIDATOR": "anyone"})  # fmt: skip
    assert local.system == "local"


@pytest.mark.parametrize(
    ("setting", "field"),
    [("{", "not JSON"), ("[]", "must be a JSON object"), ('{"validators": "vic"}', "validators"),
     ('{"validators": [1]}', "validators"), ('{"identities": {"tom": "t"}}', "identities"),
     ('{"identities": []}', "identities"), ("[" * 60_000, "not JSON"),
     ('{"validators": ["' + "v" * 70_000 + '"]}', "longer than")],
)  # fmt: skip
def test_a_malformed_directory_is_one_line_naming_the_field(setting: str, field: str) -> None:
    env = {**GITHUB, "VALIDATOR": "vic", "GOLDPATH_GOVERNANCE": setting}
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
