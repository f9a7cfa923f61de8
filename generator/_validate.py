"""The file validators a rendered project must pass: the same real linters the tests use
(ruff, hadolint, yamllint, zizmor, check-jsonschema, shellcheck) and the bundle models."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._errors import GoldpathError

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Finding:
    validator: str
    ok: bool
    output: str = ""


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        raise GoldpathError(f"{name} is not installed: run `uv sync` in the goldpath checkout")
    return on_path


def _run(name: str, command: list[str], cwd: Path) -> Finding:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    output = (result.stdout + result.stderr).strip()
    return Finding(name, result.returncode == 0, "\n".join(output.splitlines()[-20:]))


def _script_blocks(node: Any, keys: tuple[str, ...]) -> list[str]:
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key in keys and isinstance(value, str):
                found.append(value)
            else:
                found += _script_blocks(value, keys)
        return found
    if isinstance(node, list):
        return [block for item in node for block in _script_blocks(item, keys)]
    return []


def _shellcheck(project: Path) -> Finding:
    scripts: list[str] = []
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        scripts += _script_blocks(yaml.safe_load(path.read_text()), ("run",))
    ado = [project / "azure-pipelines.yml", *sorted((project / ".azure-pipelines").rglob("*.yml"))]
    for path in ado:
        if path.is_file():
            scripts += _script_blocks(
                yaml.safe_load(path.read_text()), ("bash", "script", "inlineScript")
            )
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for number, body in enumerate(scripts):
            if "${{" in body:
                return Finding("shellcheck", False, f"expression inside a script:\n{body}")
            path = Path(scratch) / f"block{number}.sh"
            path.write_text("#!/usr/bin/env bash\nset -e\n" + body)
            paths.append(str(path))
        paths += [str(p) for p in (project / ".azure-pipelines").rglob("*.sh")]
        if not paths:
            return Finding("shellcheck", True, "no scripts")
        return _run("shellcheck", [_tool("shellcheck"), "--severity=style", "-x", *paths], project)


def validate_project(project: Path) -> list[Finding]:
    findings = [
        _run("ruff", [_tool("ruff"), "check", "--no-cache", "."], project),
        _run("ruff-format", [_tool("ruff"), "format", "--no-cache", "--check", "."], project),
        _run("hadolint", [_tool("hadolint"), "Dockerfile"], project),
        _run("yamllint", [_tool("yamllint"), "--strict", "-c", ".yamllint.yml", "."], project),
    ]
    checker = _tool("check-jsonschema")
    if (project / ".github").is_dir():
        findings.append(
            _run(
                "zizmor",
                [_tool("zizmor"), "--offline", "--min-severity", "low", ".github"],
                project,
            )
        )
        workflows = [str(p) for p in (project / ".github" / "workflows").glob("*.yml")]
        findings.append(
            _run("github-workflows-schema",
                 [checker, "--builtin-schema", "vendor.github-workflows", *workflows], project)
        )  # fmt: skip
        dependabot = [checker, "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml"]
        findings.append(_run("dependabot-schema", dependabot, project))
    if (project / "azure-pipelines.yml").is_file():
        files = [
            "azure-pipelines.yml",
            *(str(p) for p in (project / ".azure-pipelines").rglob("*.yml")),
        ]
        findings.append(
            _run("azure-pipelines-schema",
                 [checker, "--regex-variant", "nonunicode", "--builtin-schema",
                  "vendor.azure-pipelines", *files], project)
        )  # fmt: skip
    findings.append(_shellcheck(project))
    if (project / "databricks.yml").is_file():
        from ._bundle import BundleError, validate_bundle

        try:
            validate_bundle(project)
            findings.append(Finding("databricks-bundle", True))
        except BundleError as exc:
            findings.append(Finding("databricks-bundle", False, str(exc)))
    return findings
