"""docs/extending.md stays true: every path it names exists, and its lists of the files
that read the cloud, CI, serving and kind answers are exactly the files that do."""

from __future__ import annotations

import re
import subprocess

import pytest

from generator._template import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "extending.md"
READERS = {
    # A branch or a lookup: the file must learn a new cloud.
    "branches on the cloud answer": (r"cloud ?==|cloud in |\[cloud\]", ["templates"]),
    # A computed name (an include, scripts/<cloud>/...): the new cloud supplies that file.
    "names a file after the cloud": (r"~ ?cloud ?~|\{\{ ?cloud ?\}\}", ["templates"]),
    "read the CI answer": (
        r"ci ?==|ci in |uses_github|uses_azure_devops|uses_gitlab",
        ["templates", "copier.yml"],
    ),
    "reads the serving answer": (r"serving ?==|\[serving\]|has_service|batch_only", ["templates"]),
    "reads the kind": (r"project_kind", ["templates", "copier.yml"]),
}
PLACEHOLDERS = ("aws", "bitbucket", "NAME")


def listed_after(marker: str) -> set[str]:
    lines = GUIDE.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if marker in line)
    listed = set()
    for line in lines[start + 1 :]:
        match = re.match(r"^\s*- `([^`]+)`$", line)
        if not match:
            if listed:
                break
            continue
        listed.add(match.group(1))
    return listed


def readers(pattern: str, roots: list[str]) -> set[str]:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", *roots],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    return {
        name for name in files
        if (REPO_ROOT / name).is_file() and re.search(pattern, (REPO_ROOT / name).read_text())
    }  # fmt: skip


@pytest.mark.parametrize("marker", list(READERS))
def test_lists_of_places_to_touch_are_complete(marker: str) -> None:
    assert listed_after(marker) == readers(*READERS[marker])


def test_every_named_path_exists() -> None:
    named = re.findall(
        r"`((?:templates|infra|generator|tests|docs)/[^`\s]*|copier\.yml)`", GUIDE.read_text()
    )
    assert len(named) > 20
    missing = []
    for name in named:
        path = name.split("::")[0]
        if any(p in path for p in PLACEHOLDERS):
            continue
        if not (REPO_ROOT / path).exists():
            missing.append(name)
    assert missing == []


def test_readme_links_the_guide() -> None:
    assert "docs/extending.md" in (REPO_ROOT / "README.md").read_text()
