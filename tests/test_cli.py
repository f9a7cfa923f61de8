"""The command line itself: cheap to start, and its help says what it does."""

from __future__ import annotations

import subprocess
import sys

from generator._cli import build_parser


def test_help_does_not_import_copier() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "generator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "copier" not in imported
    assert "generator._errors" in imported


def test_vcs_ref_help_matches_its_default() -> None:
    new = build_parser()._subparsers._group_actions[0].choices["new"]  # type: ignore[union-attr]
    text = new.format_help()
    assert "working tree" in " ".join(text.split())
