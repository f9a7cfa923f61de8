"""What made a version, for its card: provenance (git commit, template release, lock file,
CI run) and the helpers every card (model or prompt) shares."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .approvals import ci_context


def provenance(root: Path) -> dict[str, str | None]:
    """What made a version, for its card: the git commit, the template release the project
    at `root` came from (.copier-answers.yml), the lock file's hash and the CI run."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root, capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
    except OSError:
        commit = ""
    answers_file = root / ".copier-answers.yml"
    answers: Any = {}
    if answers_file.is_file():
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    template = answers.get("_commit") if isinstance(answers, dict) else None
    lock = root / "uv.lock"
    return {
        "git_commit": commit or None,
        "template_version": str(template) if template else None,
        "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None,
        "ci_run": ci_context().get("run_url"),
    }


def with_card_id(card: dict[str, Any]) -> dict[str, Any]:
    """The card with its id: a hash of its content, so the same facts give the same id."""
    digest = hashlib.sha256(json.dumps(card, sort_keys=True, default=str).encode()).hexdigest()
    return {**card, "card_id": digest[:16]}


def card_record_section(card: dict[str, Any]) -> list[str]:
    """A card's Markdown lines from the governance record: purpose, use, limitations."""
    return [
        "## Purpose and intended use", "", card["purpose"], "", card["intended_use"], "",
        "## Limitations", "", card["limitations"], "",
    ]  # fmt: skip
