"""A generated project of the default kind (tabular, FastAPI) is green on its first
`make test`, passes its own lint, and takes `copier update`; copier never overwrites a
user's file. The other variants are in test_generated_<variant>.py (tests/generated.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator._template import REPO_ROOT, render

from .generated import first_make_test_is_green


@pytest.mark.slow
def test_first_make_test_is_green(tmp_path: Path) -> None:
    first_make_test_is_green(tmp_path, "fastapi")


def test_copy_never_overwrites_a_users_file_without_consent(tmp_path: Path) -> None:
    destination = tmp_path / "existing"
    destination.mkdir()
    (destination / "README.md").write_text("my own notes\n")
    (destination / "notes.txt").write_text("keep me\n")
    with pytest.raises(Exception, match="overwrite"):
        render(destination, template=str(REPO_ROOT), vcs_ref="HEAD")
    assert (destination / "README.md").read_text() == "my own notes\n"
    assert (destination / "notes.txt").read_text() == "keep me\n"


def test_copy_into_a_folder_with_unrelated_files_keeps_them(tmp_path: Path) -> None:
    destination = tmp_path / "existing"
    destination.mkdir()
    (destination / "notes.txt").write_text("keep me\n")
    render(destination, template=str(REPO_ROOT), vcs_ref="HEAD")
    assert (destination / "notes.txt").read_text() == "keep me\n"
    assert (destination / "pyproject.toml").is_file()
