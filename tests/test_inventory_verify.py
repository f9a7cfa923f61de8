"""`goldpath inventory --verify`: a champion is listed only when the audit chain CI published
backs it. Real decisions (goldpath-runtime on an MLflow SQLite store) are exported and
published by the project's own scripts/publish-record.sh to a bare repository; then each
attack the issue names is made the way a person with push or registry access would make
it, and the inventory must report it and believe none of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator._cli import main
from generator._template import REPO_ROOT, render
from goldpath_runtime.governance import AuditTrail
from goldpath_runtime.governance.chain import digest
from goldpath_runtime.lifecycle import CHALLENGER, ModelVersions, promote, rollback
from goldpath_runtime.lifecycle.governed import Governed
from goldpath_runtime.store import StoreConfig, connect, ensure_experiment
from tests.git_helpers import commit_all, git

EXPORT = "outputs/governance-record"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    project = render(root / "rfq-model", template=str(REPO_ROOT), vcs_ref="HEAD")
    git(project, "init", "--quiet", "-b", "main")
    commit_all(project, "Start from goldpath")
    return project


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("empty") / "mlflow.db"
    connect(StoreConfig(f"sqlite:///{database}", "file:///unused", "rfq_model")).search_runs(["0"])
    return database


@dataclass
class Desk:
    """A project's origin, a CI runner's checkout of it, and its model registry."""

    remote: Path
    runner: Path
    versions: ModelVersions
    trail: AuditTrail

    def register(self) -> str:
        client, name = self.versions.client, self.versions.name
        if not self.versions.registered():
            client.create_registered_model(name)
        version = client.create_model_version(
            name, source=f"file:///nowhere/{name}",
            tags={"gate": "passed", "trained_by": "trainer-tom", "card_id": f"card-{name}"},
        )  # fmt: skip
        client.set_registered_model_alias(name, CHALLENGER, str(version.version))
        return str(version.version)

    def publish(self, message: str, **env: str) -> None:
        """What the pipeline's promote job does after the decision (and, with
        RECORD_KEEP=branch, the daily registry audit)."""
        governed = Governed(self.versions, self.trail, "champion", "register one", ())
        governed.export(self.runner / EXPORT)  # what `python -m <package> export-audit` runs
        done = subprocess.run(
            ["bash", "scripts/publish-record.sh", str(self.remote), EXPORT],
            cwd=self.runner, capture_output=True, text=True, check=False,
            env={**os.environ, "RECORD_AUTH": "X-Goldpath-Test: 1", "RECORD_MESSAGE": message,
                 **env},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def champion(self) -> str | None:
        found = self.versions.at_alias("champion")
        return None if found is None else found.number

    def forge(self, change: dict[str, bytes | None], message: str, *, orphan: bool = False) -> None:
        """Push a commit to governance-record as anyone with push access can: files set
        (or removed, None) on the branch's tip, or on a new root when `orphan`."""
        work = self.remote.parent / "forger"
        shutil.rmtree(work, ignore_errors=True)
        git(self.remote.parent, "clone", "--quiet", "-b", "governance-record",
            str(self.remote), str(work))  # fmt: skip
        if orphan:
            git(work, "checkout", "--quiet", "--orphan", "rewritten")
        for name, data in change.items():
            if data is None:
                (work / name).unlink()
            else:
                (work / name).write_bytes(data)
        commit_all(work, message)
        git(work, "push", "--quiet", "--force", "origin", "HEAD:governance-record")

    def published(self, name: str) -> bytes:
        return subprocess.run(
            ["git", "show", f"governance-record:{name}"], cwd=self.remote,
            capture_output=True, check=True,
        ).stdout  # fmt: skip


@pytest.fixture
def desk(
    generated: Path, empty_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Desk:
    for name in ("VALIDATOR", "TRAINER", "GITHUB_ACTIONS", "TF_BUILD", "MLFLOW_TRACKING_URI",
                 "MLFLOW_REGISTRY_URI"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APPROVER", "alice")
    monkeypatch.setenv("REASON", "beats the champion on the holdout")
    remote = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(generated), str(remote))
    runner = tmp_path / "runner"
    git(tmp_path, "clone", "--quiet", str(remote), str(runner))
    database = tmp_path / "mlflow.db"
    shutil.copy(empty_store, database)
    store = StoreConfig(f"sqlite:///{database}", (tmp_path / "artifacts").as_uri(), "rfq_model")
    client = connect(store)
    trail = AuditTrail(client, ensure_experiment(client, store), "rfq_model",
                       runner / "governance.yml")  # fmt: skip
    return Desk(remote, runner, ModelVersions(client, "rfq_model"), trail)


def inventory(
    desk: Desk, capsys: pytest.CaptureFixture[str], *flags: str
) -> tuple[int, dict[str, str]]:
    capsys.readouterr()  # what the decisions before it printed (their log lines) is not its
    code = main(["inventory", "--format", "json", *flags, f"file://{desk.remote}"])
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    return code, rows[0]


def promoted_twice_and_rolled_back(desk: Desk) -> str:
    first = desk.register()
    promote(desk.versions, desk.trail)
    desk.publish(f"promoted v{first}")
    desk.register()
    promote(desk.versions, desk.trail)
    desk.publish("promoted v2")
    rollback(desk.versions, desk.trail)
    desk.publish("rolled back")
    return first


def test_a_published_chain_verifies_across_promote_and_rollback(
    desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = promoted_twice_and_rolled_back(desk)
    witness = tmp_path / "witness.json"
    code, row = inventory(desk, capsys, "--verify", "--witness", str(witness))
    assert (code, row["problem"]) == (0, "")
    assert (row["verified"], row["champion"], row["status"]) == ("yes", first, "in production")
    # The champion with its card: the card id, and its technical documentation published.
    assert row["card"] == "card-rfq_model (governance-record:champion.md)"
    documentation = desk.published("champion.md").decode()
    assert documentation.startswith(f"# Technical documentation: model rfq_model, version {first}")
    assert "rolled_back" in documentation, "the audit's decisions about it"
    # GitHub's publish job checks main out afresh (the promote job's checkout is gone):
    # export-audit writes the record's latest: block from the audit, so it still verifies.
    shutil.rmtree(desk.runner)
    git(tmp_path, "clone", "--quiet", str(desk.remote), str(desk.runner))
    assert "champion" not in (desk.runner / "governance.yml").read_text().split("latest:")[1]
    desk.publish("published by its own job")
    code, row = inventory(desk, capsys, "--verify")
    assert (code, row["verified"], row["champion"]) == (0, "yes", first), row["problem"]
    seen = json.loads(witness.read_text())[f"file://{desk.remote}"]
    assert seen["lines"] == 6
    # One commit per publication (the last one only if its files differ: the document
    # carries the second it was made).
    assert git(desk.remote, "log", "--format=%s", "governance-record").splitlines()[-3:] == [
        "rolled back", "promoted v2", f"promoted v{first}"
    ]  # fmt: skip


FORGED = {  # the record's latest: block as pushed, and what the inventory says of it
    "champion 999": (
        "latest:\n  champion: '999'\n  promoted_at: '2026-12-01T00:00:00+00:00'\n"
        "  validated: '2026-12-01T00:00:00+00:00'\n  validated_by: boss\n",
        "names champion v999, the audit's last applied decision v1",
    ),
    "validation claimed": (
        "latest:\n  champion: '1'\n  promoted_at: '2026-12-01T00:00:00+00:00'\n"
        "  validated: '2026-12-01T00:00:00+00:00'\n  validated_by: boss\n",
        "says v1 was validated by boss, the audit records none",
    ),
}


@pytest.mark.parametrize("forgery", FORGED)
def test_a_record_forged_on_the_branch_is_not_believed(
    desk: Desk, capsys: pytest.CaptureFixture[str], forgery: str
) -> None:
    """The issue's `champion: '999'`, `validated: yes`, pushed to the branch."""
    desk.register()
    promote(desk.versions, desk.trail)
    desk.publish("promoted v1")
    latest, why = FORGED[forgery]
    record = desk.published("governance.yml").decode().split("latest:")[0] + latest
    desk.forge({"governance.yml": record.encode()}, forgery)
    code, row = inventory(desk, capsys)
    assert (code, row["champion"], row["validated_by"], row["verified"]) == (1, "", "", "no")
    assert why in row["problem"]


def test_an_edited_forged_or_deleted_chain_line_is_named_with_its_position(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    promoted_twice_and_rolled_back(desk)
    lines = desk.published("audit.jsonl").decode().split("\n")[:-1]
    edited = [*lines[:2], lines[2].replace('"alice"', '"boss"'), *lines[3:]]
    forged_entry = json.loads(lines[-1]) | {"version": "9", "prev": "0" * 64}
    for change, line, why in (
        (edited, 4, "does not follow"),
        ([*lines[:3], *lines[4:]], 4, "does not follow"),
        ([*lines, json.dumps(forged_entry)], 7, "does not follow"),
        ([*lines[:5], "{not json"], 6, "not JSON"),
    ):
        desk.forge({"audit.jsonl": "".join(f"{x}\n" for x in change).encode()}, "edit")
        code, row = inventory(desk, capsys)
        assert (code, row["verified"], row["champion"]) == (1, "no", ""), change
        assert f"audit.jsonl line {line} {why}" in row["problem"]


def test_a_rewritten_history_is_caught_by_the_branch_and_by_the_witness(
    desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A forger who knows the rules recomputes every link after the line they change: the
    chain is consistent again. `--verify` finds the commit that changed published lines;
    a history rebuilt from a new root (force-pushed) is caught by the witness file of an
    earlier run."""
    promoted_twice_and_rolled_back(desk)
    witness = tmp_path / "witness.json"
    assert inventory(desk, capsys, "--witness", str(witness))[0] == 0
    lines = desk.published("audit.jsonl").decode().split("\n")[:-1]
    rebuilt, previous = [], ""
    for text in lines:
        entry = json.loads(text)
        entry["approver"] = "boss" if entry["approver"] == "alice" else entry["approver"]
        entry["prev"] = previous
        rebuilt.append(json.dumps(entry, sort_keys=True, ensure_ascii=False))
        previous = digest(rebuilt[-1])
    files = {"audit.jsonl": "".join(f"{x}\n" for x in rebuilt).encode()}
    desk.forge(files, "approver was boss")
    code, row = inventory(desk, capsys)
    assert (code, row["verified"]) == (0, "yes"), "consistent on its own: only history tells"
    code, row = inventory(desk, capsys, "--verify")
    assert (code, row["verified"]) == (1, "no")
    assert "was rewritten: commit" in row["problem"]
    assert "removed or changed 6 published line(s)" in row["problem"]

    record, registry = desk.published("governance.yml"), desk.published("registry.json")
    desk.forge({**files, "governance.yml": record, "registry.json": registry}, "fresh start",
               orphan=True)  # fmt: skip
    code, row = inventory(desk, capsys, "--verify")
    assert (code, row["verified"]) == (0, "yes"), "one commit, nothing removed from it"
    code, row = inventory(desk, capsys, "--witness", str(witness))
    assert (code, row["verified"]) == (1, "no")
    assert "no longer holds the 6 line(s) witnessed on" in row["problem"]


def test_a_champion_moved_around_the_audit_is_an_unrecorded_move(
    desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Moved after the last promotion was published: the daily registry audit (its
    workflow's publish step, RECORD_KEEP=branch) refreshes what the registry holds from a
    fresh checkout of main, and keeps the record CI's promotion published."""
    desk.register()
    promote(desk.versions, desk.trail)
    desk.publish("promoted v1")
    promoted_record = desk.published("governance.yml")
    moved = desk.register()
    desk.versions.set_alias("champion", moved)  # the registry's API, no decision
    assert inventory(desk, capsys, "--verify")[0] == 0, "not seen until the audit runs"
    shutil.rmtree(desk.runner)
    git(tmp_path, "clone", "--quiet", str(desk.remote), str(desk.runner))  # main's record
    desk.publish("registry audit", RECORD_KEEP="branch")
    assert desk.published("governance.yml") == promoted_record
    code, row = inventory(desk, capsys, "--verify")
    assert (code, row["verified"]) == (1, "no")
    assert f"unrecorded move: @champion held v{moved}" in row["problem"]
    assert "the audit's last applied decision names v1" in row["problem"]


def test_a_champion_only_the_work_tree_names_is_local_and_fails_verify(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "laptop"
    git(tmp_path, "clone", "--quiet", str(generated), str(work))
    record = work / "governance.yml"
    record.write_text(
        record.read_text().split("latest:")[0]
        + "latest:\n  champion: '4'\n  promoted_at: '2026-11-30T10:00:00+00:00'\n"
    )
    commit_all(work, "promoted v4 on a laptop")
    assert main(["inventory", "--format", "json", str(work)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["verified"] == "local"
    assert main(["inventory", "--format", "json", "--verify", str(work)]) == 1
    row = json.loads(capsys.readouterr().out)[0]
    assert "champion v4 is recorded only in governance.yml (a local decision)" in row["problem"]


def test_a_damaged_witness_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    witness = tmp_path / "witness.json"
    witness.write_text("[1, 2")
    assert main(["inventory", "--witness", str(witness), str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"--witness {witness}: not a witness file this tool wrote" in err[0]
    assert witness.read_text() == "[1, 2", "nothing the user wrote is lost"


def test_concurrent_publications_never_overwrite_each_other(
    desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Four runs publish at once (a promotion's publish job, the registry audit, reruns):
    each succeeds, finds its record already there, or is refused in one line; the branch
    only grows, and a rerun of a refused one succeeds."""
    desk.register()
    promote(desk.versions, desk.trail)
    desk.publish("promoted v1")
    desk.register()
    promote(desk.versions, desk.trail)
    exported = Governed(desk.versions, desk.trail, "champion", "register one", ()).export(
        desk.runner / EXPORT
    )
    runners = []
    for n in range(4):  # each run's files differ a little (when it read the registry)
        runner = tmp_path / f"runner-{n}"
        git(tmp_path, "clone", "--quiet", str(desk.remote), str(runner))
        shutil.copytree(exported, runner / EXPORT)
        shutil.copy(desk.runner / "governance.yml", runner / "governance.yml")
        snapshot = json.loads((exported / "registry.json").read_text())
        snapshot["read_at"] = f"2026-12-04T10:00:0{n}+00:00"
        (runner / EXPORT / "registry.json").write_text(json.dumps(snapshot))
        runners.append(runner)

    def publishing(runner: Path, n: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["bash", "scripts/publish-record.sh", str(desk.remote), EXPORT],
            cwd=runner, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "RECORD_AUTH": "X-Goldpath-Test: 1",
                 "RECORD_MESSAGE": f"run {n}"},
        )  # fmt: skip

    running = [publishing(runner, n) for n, runner in enumerate(runners)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in running]
    refused = [n for n, (code, _) in enumerate(results) if code != 0]
    assert len(refused) < 4, results
    for code, err in results:
        if code != 0:
            assert err.strip().splitlines()[-1].startswith("publish-record: the push to"), err
    for n in refused:  # a rerun publishes
        again = publishing(runners[n], n)
        assert again.wait(timeout=120) == 0
    code, row = inventory(desk, capsys, "--verify")
    assert (code, row["verified"], row["champion"]) == (0, "yes", "2"), row["problem"]
    log = git(desk.remote, "log", "--format=%s", "governance-record").splitlines()
    assert log[-1] == "promoted v1"
    assert sorted(log[:-1]) == [f"run {n}" for n in range(4)], "each run's publication kept"
