"""Checks shared by the generated projects' pipelines and this repository's own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from generator import _validate as validate

SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^ # v\d+\.\d+\.\d+(-node20)?$")
# The platform's own stage names the goldpath release it was rendered from (git describe).
PLATFORM_COMMENT = re.compile(r"^ # goldpath [\w.+-]+$")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def workflows(root: Path) -> dict[str, dict[Any, Any]]:
    return {p.name: load(p) for p in sorted((root / ".github" / "workflows").glob("*.yml"))}


def triggers(workflow: dict[Any, Any]) -> Any:
    # YAML 1.1 reads the key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def shellcheck_scripts(root: Path, *, github: bool, ado: bool) -> None:
    finding = validate.shellcheck(root, github=github, ado=ado)
    assert finding.ok, finding.output
    count = int(finding.output.split()[0])
    assert count >= 3, "too few scripts found: the extraction is broken"


def assert_actions_pinned(root: Path) -> None:
    for path in (root / ".github" / "workflows").glob("*.yml"):
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:- )?uses: (\S+)(.*)$", line)
            if not match or match.group(1).startswith(("$/", "./")):
                continue
            assert SHA_PIN.match(match.group(1)), f"{path.name}: not SHA-pinned: {line}"
            platform = "/.github/workflows/" in match.group(1)
            comment = (PLATFORM_COMMENT if platform else VERSION_COMMENT).match(match.group(2))
            assert comment, f"{path.name}: no version: {line}"


def assert_ok(finding: validate.Finding) -> None:
    assert finding.ok, f"{finding.validator}:\n{finding.output}"


def assert_zizmor_clean(root: Path) -> None:
    assert_ok(validate.zizmor(root))


def assert_schemas(root: Path, *, github: bool, ado: bool) -> None:
    if github:
        assert_ok(validate.github_schemas(root))
    if ado:
        assert_ok(validate.ado_schema(root))


def assert_yamllint(root: Path) -> None:
    assert_ok(validate.yamllint(root))
