"""The governance record: read with what a hostile one abuses refused, and edited as a
document so a decision never deletes what the team wrote."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from goldpath_runtime.errors import GovernanceError, ModelNotFoundError
from goldpath_runtime.governance import find_record, load_record
from goldpath_runtime.lifecycle import documentation, promote, rollback

if TYPE_CHECKING:
    from conftest import Decide, Subject


def test_a_promotion_keeps_every_field_comment_and_order_the_team_wrote(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    record = subject.trail.record
    assert record is not None
    added = (
        "# model risk's own fields, after the block\n"
        "mrm_id: MRM-2026-0042  # from the inventory system\n"
        "validation_report: https://mrm.bank.example/reports/42\n"
    )
    record.write_text(record.read_text() + added)
    before = record.read_text()
    decide(approver="alice", reason="first", validator="validator-val")
    number = subject.register()
    promote(subject.versions, subject.trail)
    after = record.read_text()
    assert after.endswith(added)
    assert after.split("\nlatest:")[0] == before.split("\nlatest:")[0]
    document = yaml.safe_load(after)
    assert document["latest"]["champion"] == number
    assert document["latest"]["validated_by"] == "validator-val"
    assert document["mrm_id"] == "MRM-2026-0042"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a: &a ["x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\n'
         "c: [*b,*b,*b,*b,*b,*b,*b,*b]\n", "uses a YAML anchor or alias"),
        ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than"),
        ("model: [unclosed\n", "line 2: not valid YAML"),
        ("", "expected a mapping of fields"),
        ("model: m\nkind: tabular\nowner: o\nowner_email: o@b.c\nrisk_tier: none\npurpose: p\n",
         "risk_tier 'none' is not one of high, medium, low"),
        ("model: m\nkind: tabular\nowner: o\nrisk_tier: low\npurpose: p\n",
         "owner_email is missing"),
    ],
)  # fmt: skip
def test_a_hostile_or_broken_record_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "governance.yml"
    path.write_text(text)
    with pytest.raises(GovernanceError, match=message) as raised:
        load_record(path)
    assert "\n" not in str(raised.value)


def test_a_symlinked_or_oversized_record_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.yml"
    target.write_text("model: m\n")
    link = tmp_path / "governance.yml"
    link.symlink_to(target)
    with pytest.raises(GovernanceError, match="not a regular file"):
        load_record(link)
    big = tmp_path / "big.yml"
    big.write_text("x: " + "y" * (1 << 20) + "\n")
    with pytest.raises(GovernanceError, match="larger than 1024 KiB"):
        load_record(big)


def test_the_record_is_the_project_s_own_or_the_wheel_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither a variable nor the working directory can put another record (one that says
    `low`) in place of the project's: the old GOVERNANCE_RECORD hook let anyone promote a
    high-tier model without a validator."""
    root = tmp_path / "project"
    package = root / "src" / "rfq_model"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'rfq-model'\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "governance.yml").write_text("risk_tier: low\n")
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("GOVERNANCE_RECORD", str(elsewhere / "governance.yml"))
    with pytest.raises(GovernanceError, match="not found at the root of the project"):
        find_record(package)
    (package / "governance.yml").write_text("x: 1\n")  # the copy a wheel carries
    assert find_record(package) == package.resolve() / "governance.yml"
    (root / "governance.yml").write_text("x: 1\n")
    assert find_record(package) == root.resolve() / "governance.yml"


def test_a_rollback_keeps_the_validation_of_the_version_it_returns_to(
    subject: Subject, decide: Decide
) -> None:
    """A validated high-tier champion rolled back to used to be listed as unvalidated."""
    assert subject.trail.record is not None
    record = subject.trail.record
    record.write_text(record.read_text().replace("risk_tier: medium", "risk_tier: high"))
    decide(approver="approver-ann", reason="first", validator="validator-val")
    first = subject.register()
    promote(subject.versions, subject.trail)
    validated_at = yaml.safe_load(record.read_text())["latest"]["validated"]
    subject.register()
    decide(reason="second", validator="validator-vic")
    promote(subject.versions, subject.trail)
    decide(reason="second misprices")
    rollback(subject.versions, subject.trail)
    latest = yaml.safe_load(record.read_text())["latest"]
    assert latest["champion"] == first
    assert (latest["validated"], latest["validated_by"]) == (validated_at, "validator-val")


def test_technical_documentation_follows_annex_iv_and_says_what_was_decided(
    subject: Subject, decide: Decide
) -> None:
    decide(approver="approver-ann", reason="beats | the benchmark")
    number = subject.register(trained_by="trainer-tom")
    subject.versions.set_tag(number, "git_commit", "abc123")
    promote(subject.versions, subject.trail)
    made, text = documentation(subject.versions, subject.trail)
    assert made == number
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert [h.split(". ", 1)[0] for h in headings] == [f"## {n}" for n in range(1, 10)]
    assert f"version {number}" in text.splitlines()[0]
    assert "| git_commit | abc123 |" in text  # lineage
    assert "| gate | passed |" in text  # evidence
    assert "| promoted_by | approver-ann |" in text  # the decision
    assert "beats \\| the benchmark" in text  # a cell never breaks the table
    assert "Predicts whether an RFQ is won." in text
    with pytest.raises(ModelNotFoundError, match="has no version 99"):
        documentation(subject.versions, subject.trail, "99")


def test_a_retired_model_or_prompt_gets_no_new_champion(
    subject: Subject, people: pytest.MonkeyPatch, decide: Decide
) -> None:
    """A record that says the model (or prompt) was retired stops every move of @champion,
    for both kinds, until the team removes the block; the refusal changes nothing."""
    record = subject.trail.record
    assert record is not None
    decide(approver="alice", reason="first", validator="validator-val")
    first = subject.register()
    promote(subject.versions, subject.trail)
    second = subject.register()
    promote(subject.versions, subject.trail)
    subject.register()  # a third waits as @challenger
    kept = record.read_text()
    retired = kept.replace(
        "latest:", "retired:\n  at: 2026-11-30\n  reason: replaced by the v2 desk model\nlatest:", 1
    )
    record.write_text(retired)
    assert load_record(record).retired == "2026-11-30"
    for move in (promote, rollback):
        with pytest.raises(GovernanceError, match="was retired on 2026-11-30"):
            move(subject.versions, subject.trail)
    at = subject.versions.at_alias("champion")
    assert at is not None
    assert at.number == second
    assert record.read_text() == retired
    record.write_text(kept)
    assert rollback(subject.versions, subject.trail).version == first


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("retired: yes", "retired needs its date and reason"),
        ("retired:\n  at: 2026-11-30", "retired needs its date and reason"),
        ("retired:\n  at: last week\n  reason: gone", "retired.at 'last week' is not a date"),
        ("retired:\n  at: 2999-01-01\n  reason: gone", "retired.at 2999-01-01 is in the future"),
    ],
)
def test_a_retirement_that_is_not_one_is_one_line(tmp_path: Path, block: str, message: str) -> None:
    path = tmp_path / "governance.yml"
    path.write_text(
        "model: m\nkind: tabular\nowner: o\nowner_email: o@bank.example\nrisk_tier: low\n"
        f"purpose: p\n{block}\n"
    )
    with pytest.raises(GovernanceError, match=message) as raised:
        load_record(path)
    assert "remove it" in str(raised.value)


_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), st.dates(),
    st.datetimes(), st.lists(st.text(max_size=4), max_size=3),
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(retired=st.one_of(_leaf, st.fixed_dictionaries({}, optional={"at": _leaf, "reason": _leaf})))
def test_any_retirement_is_a_past_date_or_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                   retired: object) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("retired") / "governance.yml"
    record = {"model": "m", "kind": "tabular", "owner": "o", "owner_email": "o@bank.example",
              "risk_tier": "low", "purpose": "p", "retired": retired}  # fmt: skip
    path.write_text(yaml.safe_dump(record))
    refused: GovernanceError | None = None
    try:
        day = load_record(path).retired
    except GovernanceError as exc:
        refused, day = exc, ""
    if refused is not None:
        assert "\n" not in str(refused)
        assert "retired" in str(refused)
    else:
        assert day == "" or date.fromisoformat(day) <= datetime.now(UTC).date()
