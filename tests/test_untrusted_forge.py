"""The rollout's forge boundary, both ways: what a forge answers is data (a pull request or
one line, never a traceback), what goldpath writes into a pull request is encoded for
Markdown and bounded, and a fleet file's forge settings never send the token astray."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator._azure_pulls import AzurePulls
from generator._errors import GoldpathError
from generator._fleet import read_fleet_file
from generator._forge import ForgeRepo, Http
from generator._github_pulls import GitHubPulls
from generator._pull_body import MARKER, UpdateText, body, md_text
from tests.fake_pulls import TOKEN, FakePullForge, Fault, serve
from tests.hostile import hostile_forge_answers, hostile_sources, hostile_text

LIMITS = [4000, 65_000]


@pytest.fixture(scope="module")
def forge() -> Iterator[FakePullForge]:
    with serve() as running:
        yield running


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answer=hostile_forge_answers, kind=st.sampled_from(["github", "azure-devops"]),
       status=st.sampled_from([200, 201, 400, 404, 409, 422, 500]))  # fmt: skip
def test_whatever_the_forge_answers_is_a_pull_request_or_one_line(
    forge: FakePullForge, answer: bytes, kind: str, status: int
) -> None:
    forge.faults[:] = [Fault(status, {}, answer)]
    http = Http(kind, TOKEN, backoff=0.0, attempts=2)  # type: ignore[arg-type]
    repo = ForgeRepo(kind, forge.github_api if kind == "github" else forge.azure_api, "bank/x")  # type: ignore[arg-type]
    pulls = GitHubPulls(repo, http) if kind == "github" else AzurePulls(repo, http)
    try:
        found = pulls.find("goldpath/update-v2.0.0")
    except GoldpathError as error:
        found, said = None, str(error)
    else:
        said = ""
        assert found is None or isinstance(found.number, int)
    assert "\n" not in said
    assert len(said) < 600


@settings(max_examples=150, deadline=None)
@given(files=st.lists(hostile_text, max_size=5), output=hostile_text,
       notes=st.lists(hostile_text, max_size=5), version=hostile_text,
       limit=st.sampled_from(LIMITS))  # fmt: skip
def test_what_a_repository_or_release_holds_is_text_in_the_pull_request(
    files: list[str], output: str, notes: list[str], version: str, limit: int
) -> None:
    text = UpdateText("v1.0.0", version or "v2", "tests-failed", files=files, output=output,
                      notes=notes, tests="failed")  # fmt: skip
    composed = body(text, limit)
    assert len(composed) <= limit
    assert composed.startswith(MARKER)
    # Outside the output's fence, nothing of theirs is HTML, a mention or a line of its own.
    fence = re.search(r"^(`{3,})text$", composed, re.M)
    outside = composed
    if fence:
        start = composed.index(fence.group(0))
        end = composed.index("\n" + fence.group(1) + "\n", start + 1)
        inside = composed[start + len(fence.group(0)) : end]
        assert fence.group(1) not in inside, "the output cannot close its fence"
        outside = composed[:start] + composed[end:]
    assert "<" not in outside.replace(MARKER, "")
    assert not re.search(r"@(?!&#8203;)", outside)
    for item in files:
        line = md_text(item)
        assert "\n" not in line
        assert "\r" not in line


def test_markdown_punctuation_and_mentions_are_literal() -> None:
    assert md_text("@security-team [x](javascript:alert(1)) <img src=x>") == (
        r"@&#8203;security\-team \[x\]\(javascript:alert\(1\)\) &lt;img src=x&gt;"
    )


def fleet_with(tmp_path: Path, forge: object, repo: object) -> Path:
    path = tmp_path / "fleet.yml"
    path.write_text(yaml.safe_dump({"forge": forge, "repos": [repo]}))
    return path


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(api=st.one_of(hostile_sources, hostile_text), slug=hostile_text,
       kind=st.sampled_from(["github", "azure-devops", "gitlab", ""]))  # fmt: skip
def test_a_fleet_file_s_forge_settings_are_checked_in_one_line(
    tmp_path: Path, api: str, slug: str, kind: str
) -> None:
    path = fleet_with(tmp_path, {"kind": kind, "api": api},
                      {"repo": "https://github.com/bank/x.git", "forge_repo": slug})  # fmt: skip
    try:
        [entry] = read_fleet_file(path).entries
    except GoldpathError as error:
        said = str(error)
        assert "\n" not in said
        return
    assert entry.forge is not None
    assert entry.forge.api.startswith("https://") or re.match(
        r"^http://(127\.|localhost|\[::1\])", entry.forge.api
    ), "the token only ever goes over https, or to this machine"
    assert re.fullmatch(r"[A-Za-z0-9_.][A-Za-z0-9_. -]*/[A-Za-z0-9_.][A-Za-z0-9_. -]*",
                        entry.forge.slug)  # fmt: skip
    assert ".." not in entry.forge.slug


@pytest.mark.parametrize(
    ("api", "fragment"),
    [("http://api.github.example", "not an https:// URL"),
     ("https://user:secret@api.github.example", "plain URL"),
     ("https://api.github.example/?x=1", "plain URL")],
)  # fmt: skip
def test_the_token_is_never_sent_in_the_clear_or_to_a_url_with_credentials(
    tmp_path: Path, api: str, fragment: str
) -> None:
    path = fleet_with(tmp_path, {"kind": "github", "api": api},
                      {"repo": "https://github.com/bank/x.git", "forge_repo": "bank/x"})  # fmt: skip
    with pytest.raises(GoldpathError, match=fragment):
        read_fleet_file(path)


def test_repositories_on_known_forges_need_no_forge_repo(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yml"
    path.write_text(yaml.safe_dump({"repos": [
        "https://github.com/bank/credit-risk.git",
        "git@ssh.dev.azure.com:v3/bank/Models/fraud",
        {"repo": "https://dev.azure.com/bank/Models/_git/aml", "projects": ["svc/a", "svc/b"]},
    ]}))  # fmt: skip
    entries = read_fleet_file(path).entries
    assert [(e.forge.kind, e.forge.api, e.forge.slug) for e in entries if e.forge] == [
        ("github", "https://api.github.com", "bank/credit-risk"),
        ("azure-devops", "https://dev.azure.com/bank", "Models/fraud"),
        ("azure-devops", "https://dev.azure.com/bank", "Models/aml"),
    ]
    assert entries[2].projects == ("svc/a", "svc/b")


@pytest.mark.parametrize("bad", ["../outside", "/etc", "a/../../b"])
def test_a_project_folder_stays_inside_its_repository(tmp_path: Path, bad: str) -> None:
    path = fleet_with(
        tmp_path, None, {"repo": "https://github.com/bank/x.git", "subdirectory": bad}
    )
    with pytest.raises(GoldpathError, match="not a folder inside the repository"):
        read_fleet_file(path)


def test_pushes_carry_the_job_s_token_for_that_one_repository_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator._forge import git_auth
    from generator._vcs import git, git_config

    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    repo = ForgeRepo("github", "https://api.github.com", "bank/x")
    url = "https://github.com/bank/x.git"
    [(key, header)] = git_auth(url, repo)
    assert header == "Authorization: Basic eC1hY2Nlc3MtdG9rZW46dDBrZW4="  # x-access-token:t0ken
    for elsewhere in ["http://github.com/bank/x.git", "https://github.com.evil.example/bank/x",
                      "git@github.com:bank/x.git", "https://u:secret@github.com/bank/x.git"]:  # fmt: skip
        assert git_auth(elsewhere, repo) == []
    git(tmp_path, "init", "--quiet")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")  # the operator's own settings are kept
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.name")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "release-bot")
    with git_config(git_auth(url, repo)):
        assert git(tmp_path, "config", "--get", key) == header
        assert git(tmp_path, "config", "--get", "http.https://github.com/bank/y.git.extraHeader",
                   check=False) == "", "another repository's URL gets no header"  # fmt: skip
    assert git(tmp_path, "config", "--get", key, check=False) == ""
    assert git(tmp_path, "config", "--get", "user.name") == "release-bot"
    assert git(tmp_path, "config", "--get", "core.fsmonitor") == "false"


def test_azure_devops_pushes_carry_the_pipeline_s_token_as_a_bearer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from generator._forge import git_auth

    monkeypatch.setenv("SYSTEM_ACCESSTOKEN", "pipeline-token")
    repo = ForgeRepo("azure-devops", "https://dev.azure.com/bank", "Models/x")
    url = "https://bank@dev.azure.com/bank/Models/_git/x"
    assert git_auth(url, repo) == [
        (f"http.{url}.extraHeader", "Authorization: Bearer pipeline-token")
    ]
    assert git_auth("https://evil.example/bank/Models/_git/x", repo) == []
