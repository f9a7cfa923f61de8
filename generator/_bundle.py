"""Validation of a Databricks Asset Bundle without the Databricks CLI: every resource is
parsed by the typed models of `databricks-bundles` (unknown fields and wrong types fail),
every `${var.x}` is declared, and the dev/staging/prod targets are complete."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from databricks.bundles.jobs import Job
from databricks.bundles.volumes import Volume

VARIABLE = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")
TARGETS = {"dev": "development", "staging": "production", "prod": "production"}


class BundleError(Exception):
    pass


def load_bundle(root: Path) -> dict[str, Any]:
    """databricks.yml merged with its `include:` files, as the CLI would see it."""
    bundle: dict[str, Any] = yaml.safe_load((root / "databricks.yml").read_text())
    resources: dict[str, dict[str, Any]] = {}
    for pattern in bundle.get("include", []):
        for path in sorted(root.glob(pattern)):
            document = yaml.safe_load(path.read_text()) or {}
            for kind, items in (document.get("resources") or {}).items():
                for key, value in items.items():
                    if key in resources.setdefault(kind, {}):
                        raise BundleError(f"{path.name}: resource {kind}.{key} defined twice")
                    resources[kind][key] = value
    bundle["resources"] = resources
    return bundle


def validate_bundle(root: Path) -> dict[str, Any]:
    bundle = load_bundle(root)
    problems: list[str] = []
    for key, spec in bundle["resources"].get("jobs", {}).items():
        try:
            Job.from_dict(spec)
        except (ValueError, TypeError) as exc:
            problems.append(f"jobs.{key}: {exc}")
            continue
        for task_spec in spec.get("tasks") or []:
            if "python_wheel_task" not in task_spec:
                problems.append(f"jobs.{key}.{task_spec.get('task_key')}: not a wheel task")
    for key, spec in bundle["resources"].get("volumes", {}).items():
        try:
            Volume.from_dict(spec)
        except (ValueError, TypeError) as exc:
            problems.append(f"volumes.{key}: {exc}")
    for kind in ("experiments", "registered_models", "volumes"):
        for key, spec in bundle["resources"].get(kind, {}).items():
            if not spec.get("name"):
                problems.append(f"{kind}.{key}: no name")
    declared = set(bundle.get("variables") or {})
    text = yaml.safe_dump(bundle)
    for name in sorted(set(VARIABLE.findall(text)) - declared):
        problems.append(f"${{var.{name}}} is used but not declared under variables")
    targets = bundle.get("targets") or {}
    for name, mode in TARGETS.items():
        target = targets.get(name)
        if target is None:
            problems.append(f"target {name} is missing")
            continue
        if target.get("mode") != mode:
            problems.append(f"target {name} must have mode {mode}")
        if mode == "production":
            if not (target.get("run_as") or {}).get("service_principal_name"):
                problems.append(f"target {name} must run_as a service principal")
            if not target.get("permissions"):
                problems.append(f"target {name} must set permissions")
        for variable in target.get("variables") or {}:
            if variable not in declared:
                problems.append(f"target {name} sets undeclared variable {variable}")
    if problems:
        raise BundleError("; ".join(problems))
    return bundle
