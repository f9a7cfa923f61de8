"""The file validators a rendered project must pass: the same real linters the tests use
(ruff, hadolint, yamllint, zizmor, check-jsonschema, shellcheck) and the bundle models."""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._errors import GoldpathError
from ._process import execute

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
    result = execute(command, cwd)
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


def workflow_files(root: Path) -> list[Path]:
    return sorted((root / ".github" / "workflows").glob("*.yml"))


def gitlab_files(root: Path) -> list[Path]:
    top = root / ".gitlab-ci.yml"
    return [*([top] if top.is_file() else []), *sorted((root / ".gitlab" / "ci").glob("*.yml"))]


class _GitLabLoader(yaml.SafeLoader):
    """YAML as GitLab reads it: `!reference [job, key]` reuses another job's lines."""


_GitLabLoader.add_constructor(
    "!reference",
    lambda loader, node: f": reference {' '.join(map(str, loader.construct_sequence(node)))}",  # type: ignore[arg-type]
)


def gitlab_scripts(path: Path) -> list[str]:
    """Each GitLab job's shell, as the runner runs it: before_script then script, one shell."""
    document = yaml.load(path.read_text(), Loader=_GitLabLoader)  # noqa: S506 - a SafeLoader
    scripts = []
    for job in (document or {}).values():
        if not isinstance(job, dict):
            continue
        lines = []
        for key in ("before_script", "script", "after_script"):
            value = job.get(key)
            lines += [value] if isinstance(value, str) else [str(v) for v in value or []]
        if lines:
            scripts.append("\n".join(lines))
    return scripts


def ado_files(root: Path) -> list[Path]:
    top = root / "azure-pipelines.yml"
    return [*([top] if top.is_file() else []), *sorted((root / ".azure-pipelines").rglob("*.yml"))]


# One function per validator: `goldpath check` runs them through validate_project, and
# this repository's tests call the same functions on generated files and on its own.
def ruff(root: Path) -> Finding:
    return _run("ruff", [_tool("ruff"), "check", "--no-cache", "."], root)


def ruff_format(root: Path) -> Finding:
    return _run("ruff-format", [_tool("ruff"), "format", "--no-cache", "--check", "."], root)


def hadolint(root: Path) -> Finding:
    return _run("hadolint", [_tool("hadolint"), "--failure-threshold", "info", "Dockerfile"], root)


def yamllint(root: Path) -> Finding:
    return _run("yamllint", [_tool("yamllint"), "--strict", "-c", ".yamllint.yml", "."], root)


def zizmor(root: Path) -> Finding:
    return _run("zizmor", [_tool("zizmor"), "--offline", "--min-severity", "low", ".github"], root)


def github_schemas(root: Path) -> Finding:
    checker = _tool("check-jsonschema")
    workflows = [str(p) for p in workflow_files(root)]
    finding = _run(
        "github-workflows-schema",
        [checker, "--builtin-schema", "vendor.github-workflows", *workflows],
        root,
    )
    dependabot = root / ".github" / "dependabot.yml"
    if finding.ok and dependabot.is_file():
        command = [checker, "--builtin-schema", "vendor.dependabot", str(dependabot)]
        return _run("dependabot-schema", command, root)
    return finding


def ado_schema(root: Path) -> Finding:
    files = [str(p) for p in ado_files(root)]
    command = [_tool("check-jsonschema"), "--regex-variant", "nonunicode",
               "--builtin-schema", "vendor.azure-pipelines",
               "--data-transform", "azure-pipelines", *files]  # fmt: skip
    return _run("azure-pipelines-schema", command, root)


def gitlab_schema(root: Path) -> Finding:
    files = [str(p) for p in gitlab_files(root)]
    command = [_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci",
               "--data-transform", "gitlab-ci", *files]  # fmt: skip
    return _run("gitlab-ci-schema", command, root)


def renovate_schema(root: Path) -> Finding:
    command = [_tool("check-jsonschema"), "--builtin-schema", "vendor.renovate", "renovate.json"]
    return _run("renovate-schema", command, root)


def shellcheck(root: Path, *, github: bool, ado: bool, gitlab: bool = False) -> Finding:
    """Every run/bash/script/inlineScript block, as the runners execute it (bash -e), and
    the repository's .sh files. No `${{ }}` may reach a script: values go through env."""
    scripts: list[str] = []
    if github:
        for path in workflow_files(root):
            scripts += _script_blocks(yaml.safe_load(path.read_text()), ("run",))
    if ado:
        for path in ado_files(root):
            scripts += _script_blocks(
                yaml.safe_load(path.read_text()), ("bash", "script", "inlineScript")
            )
    if gitlab:
        for path in gitlab_files(root):
            scripts += gitlab_scripts(path)
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for number, body in enumerate(scripts):
            if "${{" in body:
                return Finding("shellcheck", False, f"expression inside a script:\n{body}")
            path = Path(scratch) / f"block{number}.sh"
            path.write_text("#!/usr/bin/env bash\nset -e\n" + body)
            paths.append(str(path))
        # The cloud operations every CI system calls (scripts/ and scripts/<cloud>/).
        paths += [str(p) for p in sorted((root / "scripts").rglob("*.sh"))]
        if not paths:
            return Finding("shellcheck", True, "0 scripts checked")
        found = _run("shellcheck", [_tool("shellcheck"), "--severity=style", "-x", *paths], root)
        return Finding(found.validator, found.ok, found.output or f"{len(paths)} scripts checked")


def validate_project(project: Path) -> list[Finding]:
    github = (project / ".github").is_dir()
    ado = (project / "azure-pipelines.yml").is_file()
    gitlab = (project / ".gitlab-ci.yml").is_file()
    findings = [ruff(project), ruff_format(project), hadolint(project), yamllint(project)]
    if github:
        findings += [zizmor(project), github_schemas(project)]
    if ado:
        findings.append(ado_schema(project))
    if gitlab:
        findings.append(gitlab_schema(project))
    if (project / "renovate.json").is_file():
        findings.append(renovate_schema(project))
    findings.append(shellcheck(project, github=github, ado=ado, gitlab=gitlab))
    if (project / "databricks.yml").is_file():
        from ._bundle import BundleError, validate_bundle

        try:
            validate_bundle(project)
            findings.append(Finding("databricks-bundle", True))
        except BundleError as exc:
            findings.append(Finding("databricks-bundle", False, str(exc)))
    return findings
