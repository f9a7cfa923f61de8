"""Text that other teams control (answers files, fleet files) and flags never reach git or
copier as an option or a command-running transport: `fleet status`, `fleet update`, `check`
and `new` refuse such values with one line naming the repo and field, and run nothing.

One catalogue of hostile input per trust boundary (`tests/hostile.py`), each drawn by
hypothesis in its own file: answers -> rendered files (`test_untrusted_answers.py`),
repository -> fleet operator (`test_untrusted_fleet.py`), repository -> inventory
(`test_untrusted_inventory.py`); record -> promotion lives with the code it guards, in
goldpath-runtime's tests (`runtime/tests/test_record.py`: hostile and broken records;
`runtime/tests/test_audit.py`: a damaged audit log, concurrent decisions, SIGKILL).

The planted commands would create a marker file; every test asserts it never appears. The
working directory is a repo with an `origin`, because that is where a bare
`git ls-remote --upload-pack=...` (no `--`, no repository) would send the command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from generator._cli import main
from generator._errors import GoldpathError
from generator._vcs import check_ref, check_source, git_env, remote_tags
from tests.git_helpers import git


def make_repo(path: Path, answers: dict[str, object]) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "-b", "main")
    (path / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
    git(path, "add", "-A")
    git(path, "commit", "--quiet", "-m", "start")
    return path


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cwd whose `origin` is a real repository, and the file a planted command makes."""
    upstream = make_repo(tmp_path / "upstream", {"_src_path": "x", "_commit": "v1.0.0"})
    cwd = tmp_path / "platform-checkout"
    subprocess.run(["git", "clone", "--quiet", str(upstream), str(cwd)], check=True)
    monkeypatch.chdir(cwd)
    return tmp_path / "pwned"


def planted(marker: Path) -> list[str]:
    return [
        f"--upload-pack=touch {marker}; git-upload-pack",
        f"ext::sh -c touch% {marker}",
        f"fd::0,1 {marker}",
        f"--config=core.sshCommand=touch {marker}",
    ]


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return captured.out + captured.err


@pytest.mark.parametrize("index", range(4))
@pytest.mark.parametrize("command", ["status", "update"])
def test_answers_src_path_is_refused(
    tmp_path: Path,
    marker: Path,
    index: int,
    command: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    value = planted(marker)[index]
    repo = make_repo(tmp_path / "team-repo", {"_src_path": value, "_commit": "v1.0.0"})
    rc = main(["fleet", command, "--template", str(tmp_path), str(repo)])
    output = one_error_line(capsys)
    assert rc == 1
    assert ".copier-answers.yml _src_path" in output
    assert "refused" in output
    assert not marker.exists()


def test_answers_commit_is_refused(
    tmp_path: Path, marker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        tmp_path / "team-repo", {"_src_path": str(tmp_path), "_commit": f"--output={marker}"}
    )
    assert main(["fleet", "status", "--template", str(tmp_path), str(repo)]) == 1
    output = one_error_line(capsys)
    assert ".copier-answers.yml _commit" in output
    assert "starts with '-'" in output
    assert not marker.exists()


@pytest.mark.parametrize("command", ["status", "update"])
def test_fleet_file_entries_are_refused(
    tmp_path: Path, marker: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for index, value in enumerate(planted(marker)):
        fleet = tmp_path / f"fleet{index}.yml"
        fleet.write_text(yaml.safe_dump({"template": str(tmp_path), "repos": [value]}))
        assert main(["fleet", command, "--fleet", str(fleet)]) == 1
        output = one_error_line(capsys)
        assert f"fleet file {fleet}: repos[0]" in output
        assert len(output.strip().splitlines()) == 1
    assert not marker.exists()


def test_flags_are_refused(
    tmp_path: Path, marker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "team-repo", {"_src_path": str(tmp_path), "_commit": "v1.0.0"})
    for value in planted(marker):
        for argv in (
            ["fleet", "status", str(repo), "--template", value],
            ["fleet", "status", "--template", str(tmp_path), value],
            ["fleet", "status", "--template", str(tmp_path), "--template-alias", value, str(repo)],
            ["check", "--template", value, "--matrix", "default"],
            ["new", str(tmp_path / "new"), "--template", value, "--defaults"],
            ["demo", str(tmp_path / "demo"), "--template", value],
        ):
            assert main(argv) == 1, argv
            output = one_error_line(capsys)
            assert "refused" in output, (argv, output)
    for flag in ("--to", "--branch"):
        assert (
            main(["fleet", "update", "--template", str(tmp_path), str(repo), f"{flag}=--force"])
            == 1
        )
        assert f"{flag}: git ref '--force' starts with '-'" in one_error_line(capsys)
    assert not (tmp_path / "new").exists()
    assert not (tmp_path / "demo").exists()
    assert not marker.exists()


def test_git_itself_refuses_command_transports(tmp_path: Path, marker: Path) -> None:
    """Defence in depth: even a value that slipped past the checks cannot pick `ext::`."""
    with pytest.raises(GoldpathError, match="transport 'ext' not allowed"):
        remote_tags(f"ext::sh -c touch% {marker}")
    direct = subprocess.run(
        ["git", "ls-remote", f"ext::sh -c touch% {marker}"],
        env=git_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert direct.returncode != 0
    assert not marker.exists()


def test_safe_values_pass() -> None:
    assert check_source("gh:acme/goldpath", "t") == "https://github.com/acme/goldpath"
    assert check_source("gl:acme/goldpath", "t") == "https://gitlab.com/acme/goldpath"
    for value in (
        "https://github.com/acme/goldpath.git",
        "ssh://git@host/acme/goldpath.git",
        "git@github.com:acme/goldpath.git",
        "file:///srv/goldpath",
        "../goldpath",
        "/srv/goldpath",
    ):
        assert check_source(value, "t") == value
    for ref in ("v1.4.0", "v1.4.0-3-gabc123", "goldpath/update-v1.4.0", "a" * 40):
        assert check_ref(ref, "t") == ref
    for bad in ("v1..2", "x\ny", "", "mybranch.lock"):
        with pytest.raises(GoldpathError):
            check_ref(bad, "t")
    for bad_source in ("javascript://x", "user@host", "x\n--upload-pack=y", 3):
        with pytest.raises(GoldpathError):
            check_source(bad_source, "t")
