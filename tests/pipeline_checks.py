"""Checks shared by the generated projects' pipelines and this repository's own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from generator._validate import _script_blocks as script_blocks

from .conftest import run, tool

SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^ # v\d+\.\d+\.\d+$")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def workflows(root: Path) -> dict[str, dict[Any, Any]]:
    return {p.name: load(p) for p in sorted((root / ".github" / "workflows").glob("*.yml"))}


def triggers(workflow: dict[Any, Any]) -> Any:
    # YAML 1.1 reads the key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def ado_files(root: Path) -> list[Path]:
    return [root / "azure-pipelines.yml", *sorted((root / ".azure-pipelines").rglob("*.yml"))]


def shellcheck_scripts(root: Path, scratch: Path, *, github: bool, ado: bool) -> None:
    """Extract every run/bash/script/inlineScript block and shellcheck it with the
    repository's own .sh files. No `${{ }}` may reach a script: values go through env."""
    scripts: list[str] = []
    if github:
        for workflow in workflows(root).values():
            for block in script_blocks(workflow, ("run",)):
                assert "${{" not in block, f"expression interpolated into a script:\n{block}"
                scripts.append(block)
    if ado:
        for path in ado_files(root):
            for block in script_blocks(load(path), ("bash", "script", "inlineScript")):
                assert "${{" not in block, f"template expression inside a script:\n{block}"
                scripts.append(block)
    paths = []
    for number, body in enumerate(scripts):
        path = scratch / f"block{number}.sh"
        # Runners execute these with bash -e; shellcheck needs the shell named.
        path.write_text("#!/usr/bin/env bash\nset -e\n" + body)
        paths.append(str(path))
    paths += [str(p) for p in (root / ".azure-pipelines").rglob("*.sh")]
    assert len(paths) >= 3, "too few scripts found: the extraction is broken"
    result = run([tool("shellcheck"), "--severity=style", "-x", *paths], root)
    assert result.returncode == 0, result.stdout + result.stderr


def assert_actions_pinned(root: Path) -> None:
    for path in (root / ".github" / "workflows").glob("*.yml"):
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:- )?uses: (\S+)(.*)$", line)
            if not match or match.group(1).startswith("$/"):
                continue
            assert SHA_PIN.match(match.group(1)), f"{path.name}: not SHA-pinned: {line}"
            assert VERSION_COMMENT.match(match.group(2)), f"{path.name}: no version: {line}"


def assert_zizmor_clean(root: Path) -> None:
    result = run([tool("zizmor"), "--offline", "--min-severity", "low", ".github"], root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def assert_schemas(root: Path, *, github: bool, ado: bool) -> None:
    checker = tool("check-jsonschema")
    if github:
        files = [str(p) for p in (root / ".github" / "workflows").glob("*.yml")]
        result = run([checker, "--builtin-schema", "vendor.github-workflows", *files], root)
        assert result.returncode == 0, result.stdout + result.stderr
        dependabot = root / ".github" / "dependabot.yml"
        if dependabot.exists():
            result = run([checker, "--builtin-schema", "vendor.dependabot", str(dependabot)], root)
            assert result.returncode == 0, result.stdout + result.stderr
    if ado:
        files = [str(p) for p in ado_files(root)]
        result = run(
            [checker, "--regex-variant", "nonunicode",
             "--builtin-schema", "vendor.azure-pipelines", *files],
            root,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def assert_yamllint(root: Path) -> None:
    result = run([tool("yamllint"), "--strict", "-c", ".yamllint.yml", "."], root)
    assert result.returncode == 0, result.stdout + result.stderr
