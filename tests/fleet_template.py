"""A small template at v1.0.0 and v2.0.0 with fault hooks, and projects generated from it:
what the fleet's fault and pull-request tests update (copier runs in a second, not a minute).

One hook for every fault point: FAULT=<point> makes it announce itself in FAULT_READY and
sleep, FAULT=fail-<point> makes it fail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator._template import render
from tests.git_helpers import commit_all, git

BRANCH = "goldpath/update-v2.0.0"
HOOK = (
    "import os, pathlib, sys, time; point = sys.argv[1]; fault = os.environ.get('FAULT', ''); "
    "ready = os.environ.get('FAULT_READY'); "
    "fault == 'fail-' + point and sys.exit('planted failure at ' + point); "
    "fault == point and ready and pathlib.Path(ready, str(os.getpid())).write_text(point); "
    "fault == point and time.sleep(120)"
)


def hook(point: str) -> str:
    return f'{{{{ _copier_python }}}} -c "{HOOK}" {point}'


def write_template(template: Path, version: int) -> None:
    config = {
        "_min_copier_version": "9.4.0",
        "_answers_file": ".copier-answers.yml",
        "_templates_suffix": ".jinja",
        "_tasks": [hook("task")],
        "_migrations": [
            {"version": "v2.0.0", "when": "{{ _stage == 'before' }}", "command": hook("migration")}
        ],
        "name": {"type": "str", "default": "project"},
    }
    (template / "copier.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (template / "README.md.jinja").write_text(f"# {{{{ name }}}}\n\nTemplate v{version}.\n")
    (template / "shared.txt").write_text("line one\nline two\n" if version == 1 else
                                         "line one (v2)\nline two\n")  # fmt: skip
    test_hook = HOOK.replace('"', '\\"')
    (template / "Makefile").write_text(
        f'test:\n\tpython3 -c "{test_hook}" tests && touch made-by-tests.lock\n'
    )
    answers = template / "{{ _copier_conf.answers_file }}.jinja"
    answers.write_text("{{ _copier_answers | to_nice_yaml }}")
    if version == 2:
        (template / "ADDED.md").write_text("added in v2\n")


def small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_small_template(tmp_path_factory.mktemp("tpl") / "template")


def make_small_template(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "--quiet", "-b", "main")
    for version in (1, 2):
        write_template(root, version)
        (root / "Makefile.jinja").unlink(missing_ok=True)
        (root / "Makefile").rename(root / "Makefile.jinja")
        commit_all(root, f"v{version}")
        git(root, "tag", f"v{version}.0.0")
    return root


def project(template: Path, where: Path, name: str) -> Path:
    repo = render(where / name, template=str(template), vcs_ref="v1.0.0", data={"name": name})
    git(repo, "init", "--quiet", "-b", "main")
    (repo / ".gitignore").write_text("*.lock\n")
    commit_all(repo, "generated at v1.0.0")
    return repo
