"""`goldpath inventory` over real generated repositories (paths and a git URL, from a
fleet file): every model with its governance record, and a broken repo listed with the
reason instead of skipped."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from generator._cli import main
from generator._template import REPO_ROOT, render
from tests.git_helpers import commit_all, git

FIELDS = ["repo", "model", "owner", "risk_tier", "kind", "status", "developer", "materiality",
          "purpose", "intended_use", "limitations", "inputs", "dependencies", "template",
          "champion", "card", "validated", "validated_by", "next_validation", "validity", "exceptions",
          "retired", "verified", "problem"]  # fmt: skip
SENTENCES = {"purpose", "intended_use", "limitations", "inputs", "dependencies", "exceptions",
             "developer", "materiality", "card", "validity"}  # fmt: skip


def project(root: Path, name: str, **answers: str) -> Path:
    destination = render(root / name, template=str(REPO_ROOT), data=answers, vcs_ref="HEAD")
    git(destination, "init", "--quiet", "-b", "main")
    commit_all(destination, "Start from goldpath")
    return destination


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inventory")
    project(root, "rfq-model", owner="markets-ml", risk_tier="high")
    llm = project(root, "trade-extractor", project_kind="llm", owner="markets-ml")
    # A promotion noted in the record, as `make promote` writes it, then committed.
    record = llm / "governance.yml"
    record.write_text(
        record.read_text().replace(
            "latest: {}", "latest:\n  champion: '3'\n  validated: '2026-11-20T09:00:00+00:00'"
        )
    )
    commit_all(llm, "Promote v3")
    broken = project(root, "credit-limit", risk_tier="low")
    (broken / "governance.yml").unlink()
    commit_all(broken, "Lose the record")
    invalid = project(root, "fx-hedge")
    (invalid / "governance.yml").write_text("model: [unclosed\n")
    commit_all(invalid, "Break the record")
    fleet_file = root / "fleet.yml"
    repos = ["rfq-model", f"file://{llm}", "credit-limit", "fx-hedge", "nowhere"]
    fleet_file.write_text(yaml.safe_dump({"repos": repos}))
    return fleet_file


def run(fleet: Path, form: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["inventory", "--fleet", str(fleet), "--format", form])
    return code, capsys.readouterr().out


def test_csv_lists_every_repo_with_its_record_or_its_problem(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(fleet, "csv", capsys)
    assert code == 1  # some repo has no usable record: the exit code says so
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == FIELDS
    assert len(rows) == 5
    by_name = {Path(r["repo"]).name: r for r in rows}
    rfq = by_name["rfq-model"]
    assert (rfq["model"], rfq["owner"], rfq["risk_tier"], rfq["kind"]) == (
        "rfq_model", "markets-ml", "high", "tabular"
    )  # fmt: skip
    assert rfq["purpose"].startswith("Predicts whether a request for quote")
    assert rfq["template"]  # the template commit it was generated from
    assert (rfq["champion"], rfq["problem"], rfq["verified"]) == ("", "", "")
    llm = by_name["trade-extractor"]
    assert (llm["kind"], llm["risk_tier"], llm["champion"]) == ("llm", "medium", "3")
    assert llm["validated"] == "2026-11-20T09:00:00+00:00"
    # The interagency guidance's inventory fields, from the record.
    assert llm["next_validation"] == "2027-11-20"  # validity_months: 12
    assert llm["validity"] == "12 months"
    assert (llm["developer"], llm["materiality"]) == ("markets-ml", "medium")
    assert "client messages" in llm["inputs"]
    assert "LLM provider" in llm["dependencies"]
    assert llm["exceptions"] == ""
    assert llm["status"] == "in production"
    assert llm["verified"] == "local", "a decision only the committed record names"
    assert "no governance.yml" in by_name["credit-limit"]["problem"]
    assert "governance.yml line 2: not valid YAML" in by_name["fx-hedge"]["problem"]
    assert "no such path" in by_name["nowhere"]["problem"]


def test_json_and_table_carry_the_same_rows(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = run(fleet, "json", capsys)
    rows = json.loads(out)
    assert [sorted(r) for r in rows] == [sorted(FIELDS)] * 5
    _, table = run(fleet, "table", capsys)
    lines = table.splitlines()
    assert lines[0].split() == [f for f in FIELDS if f not in SENTENCES]
    assert len(lines) == 2 + 5
    assert any("credit-limit" in line and "no governance.yml" in line for line in lines)


def test_a_missing_fleet_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inventory", "--fleet", str(tmp_path / "none.yml")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"goldpath: error: fleet file {tmp_path / 'none.yml'} does not exist"]


def noted(record: Path, champion: str, at: str) -> None:
    """The record's latest block as a promotion leaves it (governance.note_latest)."""
    latest = f"latest:\n  champion: '{champion}'\n  promoted_at: '{at}'\n  validated: '{at}'\n"
    record.write_text(record.read_text().split("latest:")[0] + latest)


def test_promotions_in_ci_reach_the_inventory_through_the_published_branch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CI runner's checkout is thrown away: its promote job publishes the record it
    updated to the governance-record branch (scripts/publish-record.sh, run here as the
    pipelines run it), and the inventory reads it there; main is never touched."""
    work = project(tmp_path, "rfq-model")
    remote = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(work), str(remote))
    main_before = git(remote, "rev-parse", "refs/heads/main")
    runner = tmp_path / "runner"
    git(tmp_path, "clone", "--quiet", str(remote), str(runner))
    noted(runner / "governance.yml", "2", "2026-11-27T10:00:00+00:00")
    env = {**os.environ, "RECORD_AUTH": "X-Goldpath-Test: 1", "RECORD_MESSAGE": "promoted v2"}

    def publish(to: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "scripts/publish-record.sh", str(to)],
            cwd=runner, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip

    unreachable = publish(tmp_path / "nowhere.git")
    assert unreachable.returncode == 1
    assert unreachable.stderr.strip().splitlines()[-1].startswith("publish-record: cannot read")
    for _ in range(2):  # the second run finds the record already there
        done = publish(remote)
        assert done.returncode == 0, done.stderr
    assert "already holds this record" in done.stdout
    assert git(remote, "log", "--format=%s", "governance-record").splitlines() == ["promoted v2"]
    assert git(remote, "rev-parse", "refs/heads/main") == main_before
    assert git(runner, "status", "--porcelain") == "M governance.yml"

    fleet_file = tmp_path / "fleet.yml"
    fleet_file.write_text(yaml.safe_dump({"repos": [f"file://{remote}", str(work)]}))
    git(work, "fetch", "--quiet", str(remote), "governance-record:governance-record")
    noted(work / "governance.yml", "3", "2026-11-28T08:00:00+00:00")  # later, by hand
    code, out = run(fleet_file, "csv", capsys)
    assert code == 0, out
    by_repo = {row["repo"]: row for row in csv.DictReader(io.StringIO(out))}
    published = by_repo[f"file://{remote}"]
    assert (published["champion"], published["validated"]) == ("2", "2026-11-27T10:00:00+00:00")
    assert by_repo[str(work)]["champion"] == "3", "the newer decision wins"
    noted(work / "governance.yml", "1", "2026-11-01T08:00:00+00:00")  # older than CI's
    _, out = run(fleet_file, "csv", capsys)
    assert {r["repo"]: r["champion"] for r in csv.DictReader(io.StringIO(out))}[str(work)] == "2"


def test_a_forged_or_impossible_latest_block_is_not_believed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anyone who can push can write the governance-record branch: a champion that is not a
    version, or a time in the future (`9999-…` used to win every comparison as a string),
    is not believed; the work tree's record counts, and the row and exit code say why."""
    work = project(tmp_path, "rfq-model")
    noted(work / "governance.yml", "2", "2026-11-27T10:00:00+00:00")
    commit_all(work, "Promote v2")
    git(work, "checkout", "--quiet", "-b", "governance-record")
    noted(work / "governance.yml", "999", "9999-12-31T00:00:00+00:00")
    commit_all(work, "forged")
    git(work, "checkout", "--quiet", "main")
    fleet_file = tmp_path / "fleet.yml"
    fleet_file.write_text(yaml.safe_dump({"repos": [str(work)]}))
    code, out = run(fleet_file, "json", capsys)
    [row] = json.loads(out)
    assert code == 1
    assert (row["champion"], row["status"]) == ("2", "in production")
    assert row["problem"] == (
        "latest on governance-record not believed: promoted_at 9999-12-31T00:00:00+00:00 is in "
        "the future"
    )
    git(work, "checkout", "--quiet", "governance-record")
    noted(work / "governance.yml", "two", "2026-11-28T10:00:00+00:00")
    commit_all(work, "not a version")
    git(work, "checkout", "--quiet", "main")
    code, out = run(fleet_file, "json", capsys)
    [row] = json.loads(out)
    assert "champion 'two' is not a version number" in row["problem"]
    assert row["champion"] == "2"


FIX = "; write `retired: {at: YYYY-MM-DD, reason: why}`, or remove it"


@pytest.mark.parametrize(
    ("block", "status", "retired", "problem"),
    [
        ("retired:\n  at: 2026-11-30\n  reason: replaced by fx-hedge-v2\n", "retired",
         "2026-11-30", ""),
        ("retired: {at: '2026-10-01', reason: decommissioned}\n", "retired", "2026-10-01", ""),
        ("retired:\n  at: 2999-01-01\n  reason: planned\n", "in production", "",
         "retired not believed: governance.yml: retired.at 2999-01-01 is in the future" + FIX),
        ("retired:\n  at: 2026-11-30\n", "in production", "",
         "retired not believed: governance.yml: retired needs its date and reason" + FIX),
        ("retired:\n  at: soon\n  reason: x\n", "in production", "",
         "retired not believed: governance.yml: retired.at 'soon' is not a date" + FIX),
    ],
)  # fmt: skip
def test_a_retired_model_is_listed_as_retired_with_its_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], block: str, status: str, retired: str,
    problem: str,
) -> None:  # fmt: skip
    """The guidance asks for recently retired models in the inventory: a record's
    `retired:` block, a real date in the past with its reason, makes the row `retired`;
    anything else is not believed, and the row and the exit code say why."""
    work = project(tmp_path, "fx-hedge")
    noted(work / "governance.yml", "4", "2026-11-02T10:00:00+00:00")
    record = work / "governance.yml"
    record.write_text(record.read_text().replace("latest:", block + "latest:", 1))
    commit_all(work, "Retire the model")
    fleet_file = tmp_path / "fleet.yml"
    fleet_file.write_text(yaml.safe_dump({"repos": [str(work)]}))
    code, out = run(fleet_file, "json", capsys)
    [row] = json.loads(out)
    assert (row["status"], row["retired"], row["problem"]) == (status, retired, problem)
    assert row["champion"] == "4", "the last champion stays on the row"
    assert code == (1 if problem else 0)
