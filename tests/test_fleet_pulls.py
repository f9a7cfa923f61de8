"""`fleet update --open-pr` on real repositories, against the forges' APIs as they are
published (tests/fake_pulls.py, the mock boundary): one pull request per outdated
repository with its state, kept current by reruns, and the forge's faults survived."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from generator._cli import main
from generator._fleet import FleetEntry, UpdateResult, update_fleet
from generator._forge import ForgeRepo
from generator._platform import PlatformTemplate
from tests.fake_pulls import TOKEN, FakePullForge, Fault
from tests.fleet_template import BRANCH, project, small_template
from tests.git_helpers import commit_all, git

pytestmark = pytest.mark.slow  # real copier updates and pushes (seconds each)
KINDS = ["github", "azure-devops"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_template(tmp_path_factory)


def on_forge(forge: FakePullForge, template: Path, tmp: Path, name: str, kind: str,
             *, conflicting: bool = False) -> FleetEntry:  # fmt: skip
    """A project generated at v1.0.0, its origin a bare repository the forge serves."""
    repo = project(template, tmp, name)
    if conflicting:
        (repo / "shared.txt").write_text("line one (our team's)\nline two\n")
        commit_all(repo, "team edit")
    bare = tmp / "forge" / f"{name}.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(bare)], check=True)
    slug = f"bank/{name}" if kind == "github" else f"Models/{name}"
    forge.add(kind, slug, bare)
    api = forge.github_api if kind == "github" else forge.azure_api
    return FleetEntry(f"file://{bare}", ForgeRepo(kind, api, slug))  # type: ignore[arg-type]


def roll_out(
    template: Path, entries: list[FleetEntry], **options: object
) -> dict[str, UpdateResult]:
    results = update_fleet(entries, platform=PlatformTemplate.of(str(template)), open_pr=True,
                           **options)  # type: ignore[arg-type]  # fmt: skip
    return {r.repo.rsplit("/", 1)[-1].removesuffix(".git"): r for r in results}


def state_of(forge: FakePullForge, kind: str, name: str) -> dict[str, object]:
    slug = f"bank/{name}" if kind == "github" else f"Models/{name}"
    [pull] = forge.open_pulls(kind, slug)
    repository = forge.repositories[(kind, slug)]
    key = forge.head(repository, BRANCH) if kind == "github" else str(pull["number"])
    statuses = repository.statuses.get(str(key), [])
    newest = statuses[0] if kind == "github" else statuses[-1]
    return {"draft": pull["draft"], "labels": sorted(pull["labels"]), "status": newest["state"],
            "title": pull["title"], "body": pull["body"]}  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_one_pull_request_per_outdated_repository_with_its_state_and_reruns_change_nothing(
    forge: FakePullForge, template: Path, tmp_path: Path, kind: str
) -> None:
    entries = [on_forge(forge, template, tmp_path, "clean", kind),
               on_forge(forge, template, tmp_path, "conflicting", kind, conflicting=True)]  # fmt: skip
    results = roll_out(template, entries, jobs=2)
    assert {n: (r.status, r.pull_request_action) for n, r in results.items()} == {
        "clean": ("updated", "opened"), "conflicting": ("conflicts", "opened"),
    }  # fmt: skip
    clean, conflicting = state_of(forge, kind, "clean"), state_of(forge, kind, "conflicting")
    passed, failed = ("success", "failure") if kind == "github" else ("succeeded", "failed")
    assert (clean["draft"], clean["labels"], clean["status"]) == (
        False,
        ["goldpath-update"],
        passed,
    )
    assert (conflicting["draft"], conflicting["status"]) == (True, failed)
    assert conflicting["labels"] == ["goldpath-needs-attention", "goldpath-update"]
    assert conflicting["title"] == "Update goldpath template to v2.0.0 (conflicts)"
    body = str(conflicting["body"])
    assert "has conflicts" in body
    assert "- shared\\.txt" in body
    assert "- v2" in body, "the template's changes between the two tags are listed"
    [opened] = forge.open_pulls(kind, entries[0].forge.slug)  # type: ignore[union-attr]
    web = "https://github.com/bank/clean/pull/" if kind == "github" else (
        "https://dev.azure.com/bank/Models/_git/clean/pullrequest/")  # fmt: skip
    assert results["clean"].pull_request == f"{web}{opened['number']}"

    writes = len(forge.writes())
    again = roll_out(template, entries, jobs=2)
    assert {r.pull_request_action for r in again.values()} == {"unchanged"}
    assert len(forge.writes()) == writes, "a rerun writes nothing to the forge"
    assert [len(forge.open_pulls(kind, s)) for (k, s) in forge.repositories if k == kind] == [1, 1]


@pytest.mark.parametrize("kind", KINDS)
def test_a_resolved_conflict_turns_the_pull_request_green(
    forge: FakePullForge, template: Path, tmp_path: Path, kind: str
) -> None:
    entry = on_forge(forge, template, tmp_path, "resolved", kind, conflicting=True)
    assert roll_out(template, [entry])["resolved"].status == "conflicts"
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", "--branch", BRANCH, entry.repo, str(work))
    (work / "shared.txt").write_text("line one (v2, our team's)\nline two\n")
    commit_all(work, "resolve the conflict")
    git(work, "push", "--quiet", "origin", BRANCH)
    result = roll_out(template, [entry])["resolved"]
    assert (result.status, result.pull_request_action) == ("current", "updated")
    state = state_of(forge, kind, "resolved")
    assert state["title"] == "Update goldpath template to v2.0.0"
    assert state["labels"] == ["goldpath-update"]
    assert state["status"] in ("success", "succeeded")
    assert "applies cleanly" in str(state["body"])


def test_failed_tests_are_a_draft_with_the_failure_and_stay_so_on_rerun(
    forge: FakePullForge, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = on_forge(forge, template, tmp_path, "failing", "github")
    monkeypatch.setenv("FAULT", "fail-tests")
    assert roll_out(template, [entry], run_tests=True)["failing"].status == "tests-failed"
    state = state_of(forge, "github", "failing")
    assert (state["draft"], state["status"]) == (True, "failure")
    assert "planted failure at tests" in str(state["body"])
    assert "- Tests: failed" in str(state["body"])
    writes = len(forge.writes())
    monkeypatch.delenv("FAULT")
    again = roll_out(template, [entry], run_tests=True)["failing"]
    assert (again.status, again.pull_request_action) == ("tests-failed", "unchanged")
    assert len(forge.writes()) == writes


@pytest.mark.parametrize("kind", KINDS)
def test_rate_limits_and_server_errors_are_waited_out(
    forge: FakePullForge, template: Path, tmp_path: Path, kind: str
) -> None:
    entry = on_forge(forge, template, tmp_path, "limited", kind)
    creating = lambda method, path: (method == "POST" and path.lower().endswith("/pullrequests")) or (  # noqa: E731
        method == "POST" and path.endswith("/pulls"))  # fmt: skip
    forge.faults += [
        Fault(429, {"Retry-After": "1"}, {"message": "API rate limit exceeded",
                                          "documentation_url": "https://docs.github.com"}),
        Fault(403, {"retry-after": "1"}, {"message": "You have exceeded a secondary rate limit",
                                          "documentation_url": "https://docs.github.com"},
              when=creating),
        Fault(503, {}, {"message": "Service unavailable"}, when=creating),
    ]  # fmt: skip
    result = roll_out(template, [entry])["limited"]
    assert (result.status, result.pull_request_action) == ("updated", "opened")
    assert forge.faults == []
    assert len(forge.open_pulls(kind, entry.forge.slug)) == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", KINDS)
def test_an_expired_token_stops_asking_and_a_rerun_opens_each_pull_request_once(
    forge: FakePullForge, template: Path, tmp_path: Path, kind: str
) -> None:
    entries = [on_forge(forge, template, tmp_path, f"expiry{i}", kind) for i in range(2)]
    forge.token = "rotated"
    results = roll_out(template, entries)
    for result in results.values():
        assert result.status == "pr-failed"
        assert "token was rejected" in result.detail
        assert "rerun" in result.detail
    assert forge.writes() == [], "nothing is written with a rejected token"
    forge.token = TOKEN
    assert {r.pull_request_action for r in roll_out(template, entries).values()} == {"opened"}
    assert all(len(p) == 1 for p in (forge.open_pulls(kind, e.forge.slug) for e in entries  # type: ignore[union-attr]
                                     ))  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_an_archived_or_forbidden_repository_is_reported_and_the_others_proceed(
    forge: FakePullForge, template: Path, tmp_path: Path, kind: str
) -> None:
    archived = on_forge(forge, template, tmp_path, "archived", kind)
    forbidden = on_forge(forge, template, tmp_path, "forbidden", kind)
    fine = on_forge(forge, template, tmp_path, "fine", kind)
    forge.repositories[(kind, forbidden.forge.slug)].writable = False  # type: ignore[union-attr]
    forge.repositories[(kind, archived.forge.slug)].archived = True  # type: ignore[union-attr]
    if kind == "azure-devops":  # an archived (disabled) repository refuses writes the same way
        forge.repositories[(kind, archived.forge.slug)].writable = False  # type: ignore[union-attr]
    results = roll_out(template, [archived, forbidden, fine], jobs=2)
    assert results["fine"].pull_request_action == "opened"
    for name in ("archived", "forbidden"):
        assert results[name].status == "pr-failed"
        assert "\n" not in results[name].detail
    if kind == "github":
        assert "archived so is read-only" in results["archived"].detail
        assert "not accessible by integration" in results["forbidden"].detail
    else:
        assert "TF401027" in results["forbidden"].detail


def test_a_pull_request_the_team_closed_is_left_closed(
    forge: FakePullForge, template: Path, tmp_path: Path
) -> None:
    entry = on_forge(forge, template, tmp_path, "declined", "github")
    roll_out(template, [entry])
    [pull] = forge.open_pulls("github", "bank/declined")
    pull["open"] = False
    result = roll_out(template, [entry])["declined"]
    assert result.pull_request_action == "declined"
    assert forge.open_pulls("github", "bank/declined") == []


def fleet_file(tmp: Path, forge: FakePullForge, template: Path, entries: list[FleetEntry],
               kind: str = "github") -> Path:  # fmt: skip
    path = tmp / "fleet.yml"
    api = forge.github_api if kind == "github" else forge.azure_api
    path.write_text(yaml.safe_dump({
        "template": str(template), "forge": {"kind": kind, "api": api},
        "repos": [{"repo": e.repo, "forge_repo": e.forge.slug} for e in entries],  # type: ignore[union-attr]
    }))  # fmt: skip
    return path


def test_killed_while_the_forge_answers_a_rerun_finds_the_pull_request(
    forge: FakePullForge, template: Path, tmp_path: Path
) -> None:
    entries = [on_forge(forge, template, tmp_path, f"killed{i}", "github") for i in range(2)]
    path = fleet_file(tmp_path, forge, template, entries)
    # The forge opens the first pull request, then is slow to say so: goldpath dies waiting.
    forge.faults.append(Fault(0, stall=60, when=lambda m, p: m == "POST" and p.endswith("/pulls")))
    run = subprocess.Popen(
        [sys.executable, "-m", "generator", "fleet", "update", "--fleet", str(path), "--open-pr"],
        env={**os.environ, "GITHUB_TOKEN": TOKEN}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not any(forge.open_pulls("github", e.forge.slug) for e in entries):  # type: ignore[union-attr]
        assert run.poll() is None, run.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    forge.faults.clear()
    assert main(["fleet", "update", "--fleet", str(path), "--open-pr"]) == 0
    for entry in entries:
        assert len(forge.open_pulls("github", entry.forge.slug)) == 1  # type: ignore[union-attr]


def test_concurrent_rollouts_open_one_pull_request_per_repository(
    forge: FakePullForge, template: Path, tmp_path: Path
) -> None:
    entries = [on_forge(forge, template, tmp_path, f"race{i}", kind)
               for i, kind in enumerate(KINDS)]  # fmt: skip
    threads = [threading.Thread(target=roll_out, args=(template, entries)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    roll_out(template, entries)
    for entry in entries:
        assert len(forge.open_pulls(entry.forge.kind, entry.forge.slug)) == 1  # type: ignore[union-attr]


def test_the_cli_reads_the_forge_from_the_fleet_file_and_reports_each_pull_request(
    forge: FakePullForge, template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = [on_forge(forge, template, tmp_path, "cli", "azure-devops")]
    path = fleet_file(tmp_path, forge, template, entries, kind="azure-devops")
    assert main(["fleet", "update", "--fleet", str(path), "--open-pr", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["pull_request"] == "https://dev.azure.com/bank/Models/_git/cli/pullrequest/1"
    assert row["pull_request_action"] == "opened"


def test_without_a_token_each_repository_says_so_in_one_line(
    forge: FakePullForge, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = on_forge(forge, template, tmp_path, "untokened", "github")
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.delenv("GH_TOKEN", raising=False)
    result = roll_out(template, [entry])["untokened"]
    assert result.status == "pr-failed"
    assert "no github token in the environment" in result.detail
    assert forge.requests == []


def test_a_local_checkout_without_a_forge_repository_is_told_how_to_name_it(
    template: Path, tmp_path: Path
) -> None:
    repo = project(template, tmp_path, "local")
    [result] = update_fleet([str(repo)], platform=PlatformTemplate.of(str(template)), open_pr=True)
    assert result.status == "error"
    assert "forge_repo: OWNER/NAME" in result.detail
    assert not git(repo, "branch", "--list", BRANCH), "nothing is done without a forge"


def test_a_token_expiring_mid_run_fails_the_rest_and_a_rerun_opens_only_those(
    forge: FakePullForge, template: Path, tmp_path: Path
) -> None:
    entries = [on_forge(forge, template, tmp_path, f"midrun{i}", "github") for i in range(3)]
    # The job's token expires once the first repository's pull request is open.
    forge.faults.append(Fault(401, {}, {"message": "Bad credentials",
                                        "documentation_url": "https://docs.github.com/rest"},
                              when=lambda _m, path: "/midrun1/" in path))  # fmt: skip
    first = roll_out(template, entries)
    assert first["midrun0"].pull_request_action == "opened"
    assert [first[f"midrun{i}"].status for i in (1, 2)] == ["pr-failed", "pr-failed"]
    assert not any("/midrun2/" in path for _, path in forge.requests), "no call after a 401"
    again = roll_out(template, entries)
    assert [again[f"midrun{i}"].pull_request_action for i in range(3)] == [
        "unchanged", "opened", "opened"]  # fmt: skip
    assert all(len(forge.open_pulls("github", f"bank/midrun{i}")) == 1 for i in range(3))
