"""`goldpath fleet update` under faults, on real git repositories and a real copier run.

A small template at v1.0.0 and v2.0.0 carries fault hooks that the tests switch on with
the FAULT variable: a `_migrations` step before copier writes, a `_tasks` step after it
writes, and the project's own `make test`. Each hook writes a ready file and then sleeps
(so a test can SIGKILL goldpath there) or fails. After every fault the team's checkout
must be byte-identical, no goldpath process may remain, and a rerun must finish the job
and say honestly what it found."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from generator._cli import main
from tests.fleet_template import BRANCH, project, small_template
from tests.git_helpers import commit_all, git, snapshot

# Not in the quick subset (-m "not slow"): kills real fleet updates half-way and reruns them.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_template(tmp_path_factory)


def session_processes(sid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return found


def goldpath(template: Path, *args: str, env: dict[str, str], tmp: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "generator",
            "fleet",
            "update",
            "--template",
            str(template),
            "--run-tests",
            *args,
        ],
        env={**os.environ, **env, "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def kill_when_ready(process: subprocess.Popen[str], ready: Path, count: int) -> None:
    deadline = time.monotonic() + 120
    while len(list(ready.iterdir())) < count:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the fault point was never reached"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_processes(process.pid) == [], "a worker or test process outlived goldpath"


def assert_complete_update(repo: Path) -> None:
    files = git(repo, "ls-tree", "-r", "--name-only", BRANCH).splitlines()
    assert "ADDED.md" in files
    assert "made-by-tests.lock" not in files, "files the test run makes are not committed"
    assert git(repo, "show", f"{BRANCH}:shared.txt").startswith("line one (v2)")
    answers = yaml.safe_load(git(repo, "show", f"{BRANCH}:.copier-answers.yml"))
    assert answers["_commit"] == "v2.0.0"


@pytest.mark.parametrize("point", ["migration", "task", "tests"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_leaves_checkouts_intact_and_rerun_finishes(
    template: Path, tmp_path: Path, point: str, jobs: int
) -> None:
    repos = [project(template, tmp_path, f"team{i}") for i in range(2)]
    # One team works on a detached HEAD: it must stay exactly there.
    git(repos[1], "checkout", "--quiet", "--detach")
    before = {repo: snapshot(repo) for repo in repos}
    ready, scratch = tmp_path / "ready", tmp_path / "tmp"
    ready.mkdir()
    scratch.mkdir()
    run = goldpath(
        template,         "--jobs", str(jobs), *map(str, repos),
        env={"FAULT": point, "FAULT_READY": str(ready)}, tmp=scratch,
    )  # fmt: skip
    kill_when_ready(run, ready, count=jobs)
    for repo in repos:
        assert snapshot(repo) == before[repo], "the team's checkout changed"
        branches = git(repo, "branch", "--list", BRANCH)
        if branches:  # only a complete update may be visible
            assert_complete_update(repo)

    rerun = goldpath(template, "--jobs", str(jobs), *map(str, repos), env={}, tmp=scratch)
    output = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, output
    assert "Traceback" not in output
    assert "[2/2] " in output, "progress is shown as each repo finishes"
    for repo in repos:
        assert_complete_update(repo)
        assert snapshot(repo) == before[repo]
        assert git(repo, "worktree", "list").count("\n") == 0, "stale worktrees are removed"
    assert list(scratch.iterdir()) == [], "temporary directories (goldpath's, copier's) leak"


def test_failing_template_task_is_reported_on_every_rerun(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = project(template, tmp_path, "tasks")
    before = snapshot(repo)
    monkeypatch.setenv("FAULT", "fail-task")
    for _ in range(2):
        result = update(template, repo)
        assert result["status"] == "error", result
        assert "planted failure at task" in result["detail"] or "task" in result["detail"]
        assert snapshot(repo) == before, "nothing left on the team's branch"
        assert git(repo, "branch", "--list", BRANCH) == ""
    monkeypatch.delenv("FAULT")
    assert update(template, repo)["status"] == "updated"
    assert_complete_update(repo)


def update(template: Path, repo: Path, *extra: str) -> dict[str, str]:
    """`fleet update` of one repo, its tests run unless `--skip-tests` is among `extra`."""
    import io
    import json
    from contextlib import redirect_stdout

    tests = [] if "--skip-tests" in extra else ["--run-tests"]
    out = io.StringIO()
    with redirect_stdout(out):
        main(["fleet", "update", "--json", "--template", str(template), *tests, *extra, str(repo)])
    return dict(json.loads(out.getvalue())[0])


def test_a_branch_goldpath_did_not_make_is_never_moved(template: Path, tmp_path: Path) -> None:
    """`--branch NAME` (or the default name) that already holds someone's work, not
    checked out: goldpath refuses in one line and the branch keeps every commit."""
    repo = project(template, tmp_path, "stale")
    git(repo, "branch", BRANCH)  # e.g. left by an older goldpath, or made by hand
    git(repo, "checkout", "--quiet", "-b", "team-work")
    (repo / "NOTES.md").write_text("the team's own commit\n")
    commit_all(repo, "team work")
    team_work = git(repo, "rev-parse", "team-work")
    git(repo, "checkout", "--quiet", "main")
    for branch, tip in ((BRANCH, git(repo, "rev-parse", BRANCH)), ("team-work", team_work)):
        extra = ("--branch", branch) if branch != BRANCH else ()
        result = update(template, repo, "--skip-tests", *extra)
        assert result["status"] == "error", result
        assert f"branch {branch} exists and does not hold goldpath's update" in result["detail"]
        assert "\n" not in result["detail"]
        assert git(repo, "rev-parse", branch) == tip, "the branch was moved"
    git(repo, "branch", "-D", BRANCH)
    assert update(template, repo, "--skip-tests")["status"] == "updated"
    assert_complete_update(repo)
    assert update(template, repo, "--skip-tests")["status"] == "current"
    assert git(repo, "rev-parse", "team-work") == team_work


def test_conflicts_stay_reported_until_resolved(template: Path, tmp_path: Path) -> None:
    repo = project(template, tmp_path, "conflicting")
    (repo / "shared.txt").write_text("line one (ours)\nline two\n")
    commit_all(repo, "team edit")
    for _ in range(2):
        result = update(template, repo, "--skip-tests")
        assert (result["status"], result["files"]) == ("conflicts", ["shared.txt"])
    assert main(["fleet", "update", "--template", str(template), str(repo)]) == 1
    git(repo, "checkout", "--quiet", BRANCH)
    (repo / "shared.txt").write_text("line one (ours, v2)\nline two\n")
    commit_all(repo, "resolved")
    git(repo, "checkout", "--quiet", "main")
    assert update(template, repo, "--skip-tests")["status"] == "current"


def test_unpushed_update_is_pushed_by_a_rerun(template: Path, tmp_path: Path) -> None:
    repo = project(template, tmp_path, "pushed")
    remote = tmp_path / "origin.git"
    git(repo, "remote", "add", "origin", str(remote))  # unreachable: does not exist yet
    for _ in range(2):
        result = update(template, repo, "--skip-tests", "--push")
        assert result["status"] == "error", result
        assert "push" in result["detail"]
    assert_complete_update(repo)
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    result = update(template, repo, "--skip-tests", "--push")
    assert (result["status"], result["detail"].rsplit("; ", 1)[-1]) == ("current", "pushed")
    assert git(remote, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)
    assert update(template, repo, "--skip-tests", "--push")["detail"].endswith("already pushed")


def test_failing_tests_stay_reported_and_name_the_test(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = project(template, tmp_path, "failing")
    monkeypatch.setenv("FAULT", "fail-tests")
    result = update(template, repo)
    assert result["status"] == "tests-failed"
    assert "planted failure at tests" in result["detail"]
    monkeypatch.delenv("FAULT")
    assert update(template, repo)["status"] == "tests-failed", "a rerun does not call it current"


def test_sigterm_stops_cleanly_with_a_report(template: Path, tmp_path: Path) -> None:
    repos = [project(template, tmp_path, f"term{i}") for i in range(2)]
    before = {repo: snapshot(repo) for repo in repos}
    ready, scratch = tmp_path / "ready", tmp_path / "tmp"
    ready.mkdir()
    scratch.mkdir()
    env = {"FAULT": "task", "FAULT_READY": str(ready)}
    run = goldpath(template, *map(str, repos), env=env, tmp=scratch)
    deadline = time.monotonic() + 120
    while not list(ready.iterdir()):
        assert run.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    output = run.communicate(timeout=60)[0]
    assert run.returncode == 130, output
    assert "Traceback" not in output
    assert output.count("interrupted") >= 3  # two rows and the summary
    assert "rerun to finish" in output
    deadline = time.monotonic() + 10
    while session_processes(run.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in session_processes(run.pid)]
    assert left == []
    for repo in repos:
        assert snapshot(repo) == before[repo]
    rerun = goldpath(template, *map(str, repos), env={}, tmp=scratch)
    assert rerun.wait(timeout=300) == 0
    for repo in repos:
        assert_complete_update(repo)
    assert list(scratch.iterdir()) == []


def test_a_remote_repo_is_cloned_updated_and_pushed(template: Path, tmp_path: Path) -> None:
    repo = project(template, tmp_path, "remote")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(origin)], check=True)
    url = f"file://{origin}"
    result = update_url(template, url)
    assert (result["status"], result["detail"].rsplit("; ", 1)[-1]) == ("updated", "pushed")
    assert_complete_update(origin)
    again = update_url(template, url)
    assert (again["status"], again["detail"]) == (
        "current", f"update already on branch {BRANCH}; already pushed",
    )  # fmt: skip


def update_url(template: Path, url: str) -> dict[str, str]:
    import io
    import json
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        main(["fleet", "update", "--json", "--template", str(template), url])
    return dict(json.loads(out.getvalue())[0])


def test_template_flag_is_what_the_update_renders(template: Path, tmp_path: Path) -> None:
    """A mirror of the platform's template is rendered only when the platform team says
    the repos' spelling names it (--template-alias, or template_aliases in a fleet file)."""
    mirror = tmp_path / "mirror"
    subprocess.run(["git", "clone", "--quiet", str(template), str(mirror)], check=True)
    (mirror / "MIRROR.md").write_text("only in the mirror's v3\n")
    commit_all(mirror, "v3")
    git(mirror, "tag", "v3.0.0")
    repo = project(template, tmp_path, "mirrored")
    before = snapshot(repo)
    result = update(mirror, repo, "--skip-tests")
    assert result["status"] == "foreign-template", result
    assert snapshot(repo) == before
    result = update(mirror, repo, "--skip-tests", "--template-alias", str(template))
    assert (result["status"], result["to_version"]) == ("updated", "v3.0.0"), result["detail"]
    branch = "goldpath/update-v3.0.0"
    assert "MIRROR.md" in git(repo, "ls-tree", "-r", "--name-only", branch)
    answers = yaml.safe_load(git(repo, "show", f"{branch}:.copier-answers.yml"))
    assert answers["_src_path"] == str(template), "the repo's own spelling is kept"


def test_bad_inputs_are_one_line_and_never_stop_the_others(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = project(template, tmp_path, "good")
    broken = project(template, tmp_path, "broken")
    (broken / ".copier-answers.yml").write_text("_src_path: [unclosed\n")
    commit_all(broken, "break the answers file")
    binary = project(template, tmp_path, "binary")
    (binary / ".copier-answers.yml").write_bytes(b"\xff\xfe\x00binary")
    commit_all(binary, "binary answers file")
    flag = ["--template", str(template)]
    assert main(["fleet", "status", *flag, str(good), str(broken), str(binary)]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out
    assert "behind" in out, "the good repo still gets its row"
    assert "broken: .copier-answers.yml line 2: not valid YAML" in out
    assert "binary: .copier-answers.yml: not UTF-8 text" in out

    fleet = tmp_path / "fleet.yml"
    for content in (b"repos: [unclosed\n", b"\xff\xfe\x00", b"repos: 3\n"):
        fleet.write_bytes(content)
        assert main(["fleet", "status", *flag, "--fleet", str(fleet)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("goldpath: error: fleet file"), err
        assert err.count("\n") == 1, err
        if content.startswith(b"repos: ["):
            assert f"fleet file {fleet} line 2: not valid YAML" in err, err

    for jobs in ("0", "-1", "two"):
        with pytest.raises(SystemExit) as exit_info:
            main(["fleet", "update", *flag, "--jobs", jobs, str(good)])
        assert exit_info.value.code == 2
        assert "--jobs" in capsys.readouterr().err

    # The same repo named three ways is updated once.
    alias = f"{tmp_path}/./good/"
    code = main(["fleet", "update", *flag, "--json", str(good), alias, "good"])
    assert code in (0, 1)
    rows = json.loads(capsys.readouterr().out)
    assert len([r for r in rows if Path(r["repo"]).resolve() == good.resolve()]) == 1
