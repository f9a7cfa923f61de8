"""The command line itself: cheap to start, and its help says what it does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def subcommand_help(name: str) -> str:
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    return " ".join(choices[name].format_help().split())


def test_every_argument_of_new_and_check_says_what_it_is() -> None:
    new = subcommand_help("new")
    assert "its name is the default project_name" in new  # the destination
    assert "--data cloud=azure" in new
    assert "Without a terminal" in new
    check = subcommand_help("check")
    for word in ("(full)", "(pairwise)", "(default)"):
        assert word in check


def test_fleet_file_paths_are_shown_as_the_operator_reads_them(tmp_path: Path) -> None:
    from generator._fleet import read_fleet_file

    folder = tmp_path / "fleet"
    folder.mkdir()
    fleet = folder / "fleet.yml"
    fleet.write_text("template: ../goldpath\nrepos: [../fleet/../projects/rfq-model]\n")
    listed = read_fleet_file(fleet)
    assert listed.repos == [str(tmp_path / "projects" / "rfq-model")]
    assert listed.template is not None
    assert listed.template.source == str(tmp_path / "goldpath")


def test_a_generated_project_never_inherits_goldpath_s_own_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MLflow exports the store a process last connected to; a project goldpath runs (the
    demo, check --run-tests, a rollout's make test) uses its own store, never that one."""
    from generator._process import project_env, untrusted_env

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/mlflow.db")
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "databricks-uc")
    monkeypatch.setenv("VIRTUAL_ENV", "/goldpath/.venv")
    for env in (project_env(), untrusted_env()):
        assert not [name for name in env if name.startswith("MLFLOW_") or name == "VIRTUAL_ENV"]
    assert project_env({"MLFLOW_TRACKING_URI": "sqlite:///own.db"})["MLFLOW_TRACKING_URI"] == (
        "sqlite:///own.db"
    )  # a caller's explicit choice stays
