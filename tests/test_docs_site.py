"""The documentation site: it builds strictly (a broken link fails), its reference pages
name everything the code defines, and it works in a real headless browser (navigation
and search), served over HTTP as a reader gets it."""

from __future__ import annotations

import argparse
import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator._cli import build_parser
from generator._reference import config_keys
from generator._template import REPO_ROOT

from .browser import launch, serve_directory
from .docs_site import build_site, pages

READS = re.compile(r'\.(?:text|optional|integer|boolean|structured|strings)\(\s*"(\w+)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done, seconds = build_site(REPO_ROOT / "mkdocs.yml", out)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"site: {len(pages(out))} pages in {seconds:.1f} s")
    return out


def text_of(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def test_every_page_of_docs_is_in_the_site_and_the_navigation(site: Path) -> None:
    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text().replace("!!python", "#"))
    nav = str(config["nav"])
    for page in (REPO_ROOT / "docs").rglob("*.md"):
        relative = page.relative_to(REPO_ROOT / "docs").as_posix()
        assert relative in nav, f"{relative} is not in mkdocs.yml's nav"
        assert (site / relative).with_suffix(".html").is_file(), relative
    generated = 3  # the reference pages
    assert len(pages(site)) == len(list((REPO_ROOT / "docs").rglob("*.md"))) + generated


def test_the_options_page_names_every_question(site: Path) -> None:
    page = text_of(site / "reference" / "options.html")
    raw = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    for name in (n for n in raw if not n.startswith("_")):
        assert name in page, name


def test_the_cli_page_names_every_command_and_option(site: Path) -> None:
    page = text_of(site / "reference" / "cli.html")

    def walk(
        parser: argparse.ArgumentParser, words: tuple[str, ...]
    ) -> Iterator[tuple[str, list[str]]]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    options = [o for a in child._actions for o in a.option_strings]
                    yield " ".join((*words, name)), options
                    yield from walk(child, (*words, name))

    commands = list(walk(build_parser(), ()))
    assert len(commands) >= 10
    for command, options in commands:
        assert f"usage: goldpath {command}" in page, command
        for option in options:
            assert option in page, (command, option)


def test_the_stack_config_page_names_every_key_the_programs_read(site: Path) -> None:
    page = text_of(site / "reference" / "stack-config.html")
    sources = [*(REPO_ROOT / "infra" / "platform").glob("*/__main__.py"),
               *(REPO_ROOT / "infra" / "goldpath_infra").glob("_*.py")]  # fmt: skip
    found = {key for source in sources for key in READS.findall(source.read_text())}
    assert len(found) >= 30
    for key in found:
        assert f":{key}" in page, key


def test_a_new_config_read_reaches_the_page(tmp_path: Path) -> None:
    source = tmp_path / "program.py"
    source.write_text(
        'config = StackConfig()\nstorage = StackConfig("gcp")\n'
        'config.integer("replicas", default=2, minimum=1, maximum=9)\n'
        'storage.text("bucketClass", choices=("STANDARD", "NEARLINE"))\n'
    )
    keys = {(k.namespace, k.key): k for k in config_keys(source, tmp_path)}
    assert keys[(None, "replicas")].allowed == "1 to 9"
    assert keys[(None, "replicas")].default == "`2`"
    assert keys[("gcp", "bucketClass")].default == "**required**"
    assert "`NEARLINE`" in keys[("gcp", "bucketClass")].allowed


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "docs", tmp_path / "docs")
    shutil.copy(REPO_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "generator").mkdir()
    shutil.copy(REPO_ROOT / "generator" / "_docs_hook.py", tmp_path / "generator")
    with (tmp_path / "docs" / "how-to" / "roll-back.md").open("a") as page:
        page.write("\nSee [the runbook](runbook.md).\n")
    done, _ = build_site(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 1
    assert "'runbook.md'" in done.stderr
    assert "Aborted with 1 warnings in strict mode" in done.stdout + done.stderr


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    with serve_directory(site) as url:
        yield url


def test_navigation_and_search_work_in_a_browser(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    # Generous waits: CI's two cores are shared with other tests' builds and servers.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            view = browser.new_page(viewport={"width": 1400, "height": 900})
            view.set_default_timeout(30_000)
            errors: list[str] = []
            view.on("pageerror", lambda error: errors.append(str(error)))
            view.goto(f"{served}/index.html")
            expect(view).to_have_title(re.compile("^goldpath"))
            # The navigation: from the home page to a tutorial, then to the next page.
            view.locator("nav.md-nav--primary").get_by_role(
                "link", name="Roll a release out to a fleet"
            ).click()
            expect(view.locator("h1")).to_have_text(re.compile("^Roll a release out to a fleet"))
            view.locator("nav.md-nav--primary").get_by_role(
                "link", name="Add a feature", exact=True
            ).click()
            expect(view).to_have_url(re.compile("how-to/add-a-feature.html$"))
            expect(view.locator("h1")).to_have_text(re.compile("^Add a feature to a tabular"))
            # Search: its index loads in a web worker; a query finds the page that answers.
            view.locator("label.md-search__icon, .md-search__input").first.click()
            # A query typed before the worker has the index is not searched again.
            meta = view.locator(".md-search-result__meta")
            expect(meta).not_to_have_text(re.compile("Initializing"))
            view.locator("input.md-search__input").press_sequentially("rollback", delay=50)
            results = view.locator(".md-search-result__item")
            expect(results.first).to_be_visible()
            titles = view.locator(".md-search-result__article h1").all_inner_texts()
            assert "Roll back a model or prompt" in titles, titles
            view.locator(".md-search-result__link", has_text="Roll back a model").first.click()
            expect(view.locator("h1")).to_have_text(re.compile("^Roll back a model or prompt"))
            view.screenshot(path=str(tmp_path / "site.png"))
        finally:
            browser.close()
    assert errors == []
