"""Boundary: repository -> fleet operator. What a team commits to its repository never
makes `fleet status` or `fleet update` run anything, contact anything, read outside the
repository or exhaust memory; the fleet renders only the platform's template.

A hostile template (its `_tasks`, `_migrations` and Makefile create a marker file) stands
in for a team that points its answers file at a template of its own."""

from __future__ import annotations

import http.server
import io
import json
import os
import threading
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator._cli import main
from generator._platform import PlatformTemplate, identity
from generator._template import render
from tests.git_helpers import commit_all, git, snapshot
from tests.hostile import hostile_sources, hostile_yaml

# Not in the quick subset (-m "not slow"): real fleet runs over hostile repositories.
pytestmark = pytest.mark.slow


def write_template(root: Path, *, marker: Path | None = None) -> Path:
    """A template at v1.0.0 and v2.0.0; with a marker, one that runs code at every chance
    it gets (its tasks and migrations create the marker)."""
    root.mkdir(parents=True)
    git(root, "init", "--quiet", "-b", "main")
    touch = f"touch {marker}"
    for version in (1, 2):
        config: dict[str, object] = {
            "_answers_file": ".copier-answers.yml",
            "_templates_suffix": ".jinja",
            "name": {"type": "str", "default": "project"},
        }
        if marker is not None:
            config["_tasks"] = [touch]
            config["_migrations"] = [{"version": "v2.0.0", "command": touch}]
        (root / "copier.yml").write_text(yaml.safe_dump(config))
        (root / "README.md.jinja").write_text(f"# {{{{ name }}}} v{version}\n")
        (root / "{{ _copier_conf.answers_file }}.jinja").write_text(
            "{{ _copier_answers | to_nice_yaml }}"
        )
        commit_all(root, f"v{version}")
        git(root, "tag", f"v{version}.0.0")
    return root


MARKER = Path("/tmp") / f"goldpath-untrusted-fleet-{os.getpid()}"  # noqa: S108


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("templates")
    return write_template(root / "platform"), write_template(root / "evil", marker=MARKER)


@pytest.fixture
def marker() -> Iterator[Path]:
    """The file any code planted by a repository creates; it must never appear."""
    MARKER.unlink(missing_ok=True)
    yield MARKER
    MARKER.unlink(missing_ok=True)


def team_repo(where: Path, platform: Path, claims: str | None = None,
              makefile: str | None = None) -> Path:  # fmt: skip
    """A repo generated at v1.0.0 from the platform's template, committed; `claims`
    replaces the template its answers file names (a team pointing at its own)."""
    repo = render(where, template=str(platform), vcs_ref="v1.0.0")
    answers = repo / ".copier-answers.yml"
    if claims is not None:
        answers.write_text(answers.read_text().replace(str(platform), claims))
    if makefile is not None:
        (repo / "Makefile").write_text(makefile)
    git(repo, "init", "--quiet", "-b", "main")
    commit_all(repo, "generated")
    return repo


def fleet(*args: str) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["fleet", *args, "--json"])
    return code, json.loads(out.getvalue())


def test_a_repo_naming_its_own_template_is_never_rendered(
    templates: tuple[Path, Path], tmp_path: Path, marker: Path
) -> None:
    platform, evil = templates
    repo = team_repo(tmp_path / "team", platform, claims=str(evil))
    before, refs = snapshot(repo), git(repo, "for-each-ref")
    for extra in ([], ["--run-tests"], ["--push"]):
        code, rows = fleet("update", "--template", str(platform), *extra, str(repo))
        assert code == 1
        assert rows[0]["status"] == "foreign-template", rows
        assert str(evil) in str(rows[0]["detail"]), "the report names what the repo claims"
        assert not marker.exists(), f"the repo's template ran code ({extra})"
        assert snapshot(repo) == before, "a foreign repo is left untouched"
        assert git(repo, "for-each-ref") == refs, "no branch appears"
    code, rows = fleet("status", "--template", str(platform), str(repo))
    assert (code, rows[0]["state"]) == (1, "foreign-template")
    assert not marker.exists()


def test_status_and_update_never_contact_what_a_repo_names(
    templates: tuple[Path, Path], tmp_path: Path, marker: Path
) -> None:
    """Every request to a URL a repo wrote is recorded by a real HTTP server: none comes."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        platform, _ = templates
        url = f"http://127.0.0.1:{server.server_address[1]}/evil.git"
        repo = team_repo(tmp_path / "team", platform, claims=url)
        for command in ("status", "update"):
            code, rows = fleet(command, "--template", str(platform), str(repo))
            assert code == 1
            assert "foreign-template" in (rows[0].get("state"), rows[0].get("status"))
        assert requests == []
    finally:
        server.shutdown()


def test_only_the_platform_team_declares_a_mirror(
    templates: tuple[Path, Path], tmp_path: Path, marker: Path
) -> None:
    """A fleet file's `template_aliases:` admits another spelling of the platform's
    template; the update renders the fleet's `template:` and keeps the repo's spelling."""
    platform, _ = templates
    repo = team_repo(tmp_path / "team", platform, claims="gh:acme-bank/goldpath")
    fleet_file = tmp_path / "fleet.yml"
    fleet_file.write_text(yaml.safe_dump({"template": str(platform), "repos": [str(repo)]}))
    code, rows = fleet("update", "--fleet", str(fleet_file))
    assert (code, rows[0]["status"]) == (1, "foreign-template")
    fleet_file.write_text(
        yaml.safe_dump(
            {
                "template": str(platform),
                "template_aliases": ["https://github.com/acme-bank/goldpath.git"],
                "repos": [str(repo)],
            }
        )
    )
    code, rows = fleet("update", "--fleet", str(fleet_file))
    assert (code, rows[0]["status"]) == (0, "updated"), rows
    branch = git(repo, "show", "goldpath/update-v2.0.0:.copier-answers.yml")
    assert yaml.safe_load(branch)["_src_path"] == "gh:acme-bank/goldpath"
    assert git(repo, "show", "goldpath/update-v2.0.0:README.md") == "# project v2"


def test_no_fleet_template_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fleet_file = tmp_path / "fleet.yml"
    fleet_file.write_text("repos: [x]\n")
    for command in ("status", "update"):
        assert main(["fleet", command, "--fleet", str(fleet_file)]) == 1
        err = capsys.readouterr().err
        assert "name the platform's template" in err
        assert err.count("\n") == 1


def test_the_team_s_make_test_runs_only_when_asked_and_without_credentials(
    templates: tuple[Path, Path], tmp_path: Path, marker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform, _ = templates
    seen = tmp_path / "env-seen-by-tests"
    repo = team_repo(
        tmp_path / "team",
        platform,
        makefile=f"test:\n\ttouch {marker}\n\tenv > {seen}\n",
    )
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_planted")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "planted-secret")
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "planted-agent"))
    code, rows = fleet("update", "--template", str(platform), str(repo))
    assert (code, rows[0]["status"]) == (0, "updated")
    assert not marker.exists(), "the team's Makefile ran without --run-tests"
    git(repo, "branch", "-D", "goldpath/update-v2.0.0")
    code, rows = fleet("update", "--template", str(platform), "--run-tests", str(repo))
    assert (code, rows[0]["status"]) == (0, "updated")
    assert marker.exists()
    env = seen.read_text()
    for planted in ("ghp_planted", "planted-secret", "planted-agent"):
        assert planted not in env


@pytest.mark.parametrize(
    ("spelling", "owned"),
    [
        ("https://github.com/acme-bank/goldpath", True),
        ("https://github.com/acme-bank/goldpath.git", True),
        ("https://GitHub.com/Acme-Bank/goldpath/", True),
        ("git@github.com:acme-bank/goldpath.git", True),
        ("ssh://git@github.com/acme-bank/goldpath", True),
        ("gh:acme-bank/goldpath", True),
        ("https://github.com/acme-bank/goldpath-fork", False),
        ("https://github.com.evil.example/acme-bank/goldpath", False),
        ("https://evil.example/github.com/acme-bank/goldpath", False),
        ("https://github.com/acme-bank/goldpath/../evil", False),
        ("https://github.com/evil/goldpath", False),
        ("/srv/goldpath", False),
    ],
)
def test_template_identity(spelling: str, owned: bool, tmp_path: Path) -> None:
    platform = PlatformTemplate.of("https://github.com/acme-bank/goldpath")
    assert platform.owns(spelling, tmp_path) is owned


def test_a_relative_src_path_is_read_from_the_project(tmp_path: Path) -> None:
    (tmp_path / "goldpath").mkdir()
    (tmp_path / "team").mkdir()
    platform = PlatformTemplate.of(str(tmp_path / "goldpath"))
    assert platform.owns("../goldpath", tmp_path / "team")
    assert not platform.owns("../elsewhere", tmp_path / "team")


@settings(max_examples=300, deadline=None)
@given(hostile_sources)
@example("~--upload-pack=touch /tmp/x")  # `~user` of no user: a traceback, found by hypothesis
@example("https://[")  # an unclosed IPv6 bracket: urlsplit raised, found by hypothesis
def test_no_hostile_source_is_taken_for_the_platform_s(source: str) -> None:
    platform = PlatformTemplate.of("https://github.com/acme-bank/goldpath")
    owned = platform.owns(source, Path("/nonexistent"))
    if owned:  # only a real spelling of that very repository may match
        assert identity(source) == "github.com/acme-bank/goldpath"
        assert not source.startswith("-")


_GOOD: list[Path] = []


def good_repo(templates: tuple[Path, Path], factory: pytest.TempPathFactory) -> Path:
    """One well-formed repo listed beside every hostile one (made once: examples are many)."""
    if not _GOOD:
        _GOOD.append(team_repo(factory.mktemp("good") / "good", templates[0]))
    return _GOOD[0]


@settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(document=hostile_yaml, command=st.sampled_from(["status", "update"]))
def test_hostile_answers_files_are_one_row_each(
    templates: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, marker: Path,
    document: bytes, command: str,
) -> None:  # fmt: skip
    """Whatever a team commits as its answers file: its own row (an error or a foreign
    template, one line), the other repo still listed, nothing run, bounded memory."""
    platform, _ = templates
    good = good_repo(templates, tmp_path_factory)
    bad = tmp_path_factory.mktemp("hostile") / "bad"
    bad.mkdir()
    git(bad, "init", "--quiet", "-b", "main")
    (bad / ".copier-answers.yml").write_bytes(document)
    commit_all(bad, "hostile answers")
    before = snapshot(bad)
    code, rows = fleet(command, "--template", str(platform), str(bad), str(good))
    assert code == 1
    bad_row, good_row = rows
    outcome = bad_row.get("state") or bad_row.get("status")
    assert outcome in ("error", "foreign-template"), bad_row
    detail = str(bad_row.get("error") or bad_row.get("detail"))
    assert "\n" not in detail
    assert "Traceback" not in detail
    assert len(detail) < 2_000
    assert (good_row.get("state") or good_row.get("status")) in ("behind", "updated", "current")
    assert snapshot(bad) == before
    assert not marker.exists()


def test_a_symlinked_answers_file_is_not_followed_out(
    templates: tuple[Path, Path], tmp_path: Path
) -> None:
    platform, _ = templates
    secret = tmp_path / "outside.yml"
    secret.write_text(f"_src_path: {platform}\n_commit: v1.0.0\nsecret: s3cr3t\n")
    repo = tmp_path / "team"
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    (repo / ".copier-answers.yml").symlink_to(secret)
    commit_all(repo, "a link out")
    for command in ("status", "update"):
        code, rows = fleet(command, "--template", str(platform), str(repo))
        assert code == 1
        text = json.dumps(rows)
        assert "symlink out of the repository" in text
        assert "s3cr3t" not in text


def test_a_fifo_answers_file_does_not_hang(templates: tuple[Path, Path], tmp_path: Path) -> None:
    platform, _ = templates
    repo = tmp_path / "team"
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    os.mkfifo(repo / ".copier-answers.yml")
    code, rows = fleet("status", "--template", str(platform), str(repo))
    assert code == 1
    assert "not a regular file" in str(rows[0]["error"])
