"""A rollout fanned out over shards: `fleet plan` splits the fleet, one `fleet update
--shard I/N --open-pr --report-json` per shard, `fleet report` merges them into one
summary and one page, checked in a real headless browser (Debian's Chromium, driven by
Playwright: a screenshot and the page's accessibility tree)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator._cli import main
from generator._errors import GoldpathError
from generator._fleet_report import FORMAT, merge, page
from generator._shards import assign, parse_shard, plan
from generator._template import render
from tests.browser import launch
from tests.fake_pulls import FakePullForge
from tests.fleet_template import project, small_template
from tests.git_helpers import commit_all, git
from tests.hostile import hostile_text

# Debian's Chromium (.ci/run installs it), or the Chrome a CI image carries.


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.text(min_size=1, max_size=20), unique=True, max_size=60),
       shards=st.integers(1, 9))  # fmt: skip
def test_every_repository_is_in_exactly_one_shard_and_shards_are_even(
    keys: list[str], shards: int
) -> None:
    assigned = assign(keys, shards)
    assert assigned == assign(list(keys), shards), "every runner computes the same split"
    sizes = [assigned.count(n) for n in range(1, shards + 1)]
    assert sum(sizes) == len(keys)
    assert max(sizes) - min(sizes) <= 1
    written = plan(keys, shards)
    listed = [key for group in written["repos"].values() for key in group]  # type: ignore[attr-defined]
    assert sorted(listed) == sorted(keys)


@pytest.mark.parametrize("bad", ["0/2", "3/2", "2", "a/b", "-1/2", "1/2/3", ""])
def test_a_malformed_shard_is_one_line(bad: str) -> None:
    with pytest.raises(GoldpathError, match="write I/N"):
        parse_shard(bad)


def report_file(tmp_path: Path, results: object, name: str = "r.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"format": FORMAT, "shard": "1/1", "template": "t",
                                "results": results}))  # fmt: skip
    return path


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(repo=hostile_text, detail=hostile_text, version=hostile_text,
       url=st.one_of(hostile_text, st.sampled_from([
           "javascript:alert(1)", "https://x\" onmouseover=\"alert(1)", "http://plain.example/1",
           "https://github.com/bank/x/pull/1"])))  # fmt: skip
def test_what_a_shard_report_holds_is_text_on_the_page(
    tmp_path: Path, repo: str, detail: str, version: str, url: str
) -> None:
    path = report_file(tmp_path, [{"repo": repo or "r", "status": "conflicts", "branch": "b",
                                   "outcome": "conflicts", "from_version": version,
                                   "to_version": "v2", "pull_request": url, "detail": detail}])  # fmt: skip
    rows = merge([path])
    html = page(rows)
    assert "<script" not in html.lower()
    links = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert all(link.startswith("https://") and " " not in link for link in links)
    assert html.count("<tr><td>") == 1


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[]", b'{"format": "other"}', ("[" * 100_000).encode(),
     json.dumps({"format": FORMAT, "results": [{"repo": 7}]}).encode(),
     json.dumps({"format": FORMAT, "results": "all"}).encode()],
)  # fmt: skip
def test_a_damaged_shard_report_is_one_line(tmp_path: Path, content: bytes,
                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = tmp_path / "r.json"
    path.write_bytes(content)
    assert main(["fleet", "report", str(path)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert str(path) in error


def test_a_repository_in_two_reports_is_listed_once(tmp_path: Path) -> None:
    first = report_file(tmp_path, [{"repo": "a", "status": "error", "detail": "x"}], "1.json")
    second = report_file(tmp_path, [{"repo": "a", "status": "updated", "branch": "b",
                                     "outcome": "clean"}], "2.json")  # fmt: skip
    [row] = merge([first, second])
    assert row.state == "clean"


@pytest.mark.slow
def test_shards_update_the_fleet_once_and_the_merged_report_lists_every_repository(
    forge: FakePullForge, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = small_template(tmp_path_factory)
    names = [f"model{i}" for i in range(5)]
    entries = []
    for index, name in enumerate([*names, "current"]):
        if name == "current":
            repo = render(tmp_path / name, template=str(template), vcs_ref="v2.0.0",
                          data={"name": name})  # fmt: skip
            git(repo, "init", "--quiet", "-b", "main")
            commit_all(repo, "generated at v2.0.0")
        else:
            repo = project(template, tmp_path, name)
            if index == 0:
                (repo / "shared.txt").write_text("ours\nline two\n")
                commit_all(repo, "team edit")
        bare = tmp_path / "forge" / f"{name}.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(bare)], check=True)
        forge.add("github", f"bank/{name}", bare)
        entries.append({"repo": f"file://{bare}", "forge_repo": f"bank/{name}"})
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(yaml.safe_dump({"template": str(template), "repos": entries,
                                     "forge": {"kind": "github", "api": forge.github_api}}))  # fmt: skip

    assert main(["fleet", "plan", "--fleet", str(fleet), "--shards", "3",
                 "--out", str(tmp_path / "plan.json")]) == 0  # fmt: skip
    written = json.loads((tmp_path / "plan.json").read_text())
    assert sorted(len(g) for g in written["repos"].values()) == [2, 2, 2]
    reports = [tmp_path / f"shard{n}.json" for n in (1, 2, 3)]
    for _ in range(2):  # the second round is a rerun: it must change nothing
        writes = len(forge.writes())
        for number, report in enumerate(reports, 1):
            main(["fleet", "update", "--fleet", str(fleet), "--shard", f"{number}/3",
                  "--open-pr", "--report-json", str(report)])  # fmt: skip
    assert len(forge.writes()) == writes, "the rerun of every shard wrote nothing"
    for name in names:
        assert len(forge.open_pulls("github", f"bank/{name}")) == 1
    assert forge.open_pulls("github", "bank/current") == []

    html, summary = tmp_path / "report.html", tmp_path / "summary.md"
    assert main(["fleet", "report", *map(str, reports), "--html", str(html),
                 "--markdown", str(summary)]) == 0  # fmt: skip
    text = summary.read_text()
    assert "6 repositories: 1 conflicts, 4 clean, 1 up-to-date" in text
    for name in [*names, "current"]:
        assert text.count(f"/{name}\\.git |") == 1, f"{name} is listed once"
    assert "| v1\\.0\\.0 | 5 |" in text
    assert "| v2\\.0\\.0 | 1 |" in text
    check_in_browser(html, tmp_path / "report.png", names)


def check_in_browser(html: Path, screenshot: Path, names: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            view = browser.new_page(viewport={"width": 1200, "height": 900})
            view.goto(html.as_uri())
            view.screenshot(path=str(screenshot), full_page=True)
            tree = view.locator("body").aria_snapshot()
            links = view.get_by_role("link").evaluate_all("links => links.map(a => a.href)")
            chart = view.get_by_role("img").get_attribute("aria-labelledby")
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000, "the page rendered something"
    assert 'heading "Conflicts to resolve (1)"' in tree
    assert 'heading "Ready to merge (4)"' in tree
    assert 'heading "Already at the release (1)"' in tree
    assert 'img "Template versions: v1.0.0: 5, v2.0.0: 1"' in tree
    assert chart == "chart-title"
    assert sorted(link.rsplit("/pull/", 1)[0] for link in links) == sorted(
        f"https://github.com/bank/{name}" for name in names
    ), "one link per pull request"


@pytest.mark.parametrize("ci", ["github", "azure-devops"])
def test_the_plan_prints_the_matrix_each_ci_system_takes(
    tmp_path: Path, ci: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(yaml.safe_dump({"repos": [f"https://github.com/bank/m{i}.git"
                                               for i in range(7)]}))  # fmt: skip
    assert main(["fleet", "plan", "--fleet", str(fleet), "--shards", "3", "--ci", ci]) == 0
    printed = json.loads(capsys.readouterr().out)
    if ci == "github":  # each shard's token is scoped to its repositories
        legs = printed["include"]
        assert [leg["shard"] for leg in legs] == ["1/3", "2/3", "3/3"]
        names = sorted(n for leg in legs for n in leg["repositories"].split(","))
        assert names == [f"m{i}" for i in range(7)]
    else:
        assert printed == {f"shard_{n}_of_3": {"SHARD": f"{n}/3"} for n in (1, 2, 3)}
