"""Settings from arguments, the environment and `.env`, in that order, with one line per bad
variable; and what reading them costs a serving worker (no pydantic-settings import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.settings import ProjectSettings, load


class Example(ProjectSettings):
    model_name: str = "model"
    cv_folds: int = Field(default=3, ge=2, le=10)
    model_dir: Path | None = None
    regions: tuple[str, ...] = ("GB",)
    prices: dict[str, tuple[float, float]] = Field(default_factory=dict)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env unless a test writes one
    for name in list(os.environ):
        if name.upper() in {f.upper() for f in Example.model_fields}:
            monkeypatch.delenv(name)


def test_arguments_win_over_the_environment_which_wins_over_dot_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("MODEL_NAME=from-file\nCV_FOLDS=4\nMODEL_DIR=baked\n")
    monkeypatch.setenv("MODEL_NAME", "from-env")
    loaded = load(Example, cv_folds=5)
    assert (loaded.model_name, loaded.cv_folds, loaded.model_dir) == ("from-env", 5, Path("baked"))
    assert load(Example).cv_folds == 4


def test_names_are_matched_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("Model_Name", "mixed")
    assert load(Example).model_name == "mixed"


def test_collections_are_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIONS", '["GB", "DE"]')
    monkeypatch.setenv("PRICES", '{"m": [1.5, 2]}')
    loaded = load(Example)
    assert loaded.regions == ("GB", "DE")
    assert loaded.prices == {"m": (1.5, 2.0)}


@pytest.mark.parametrize("value", ["GB,DE", "", "[" * 100_000])
def test_a_collection_that_is_not_json_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("regions", value)
    with pytest.raises(ProjectError) as caught:
        load(Example)
    assert str(caught.value).startswith("invalid setting(s): REGIONS: ")
    assert "\n" not in str(caught.value)


def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CV_FOLDS", "eleven")
    with pytest.raises(ProjectError, match=r"^invalid setting\(s\): CV_FOLDS: .*\.env\)$"):
        load(Example)


def test_unknown_names_in_dot_env_are_ignored(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SOMETHING_ELSE=1\n# a comment\nexport MODEL_NAME='quoted'\n")
    assert load(Example).model_name == "quoted"


@pytest.mark.parametrize("content", [b"\xff\xfe\x00MODEL_NAME=x\n", bytes(range(256))])
def test_a_dot_env_that_is_not_text_is_one_line(tmp_path: Path, content: bytes) -> None:
    (tmp_path / ".env").write_bytes(content)
    with pytest.raises(ProjectError, match=r"^invalid setting\(s\): \.env cannot be read "):
        load(Example)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")),
    in_file=st.booleans(),
)
def test_any_text_reaches_a_text_field_as_written(text: str, in_file: bool) -> None:
    """The environment is data: a value is never evaluated or split, whatever it holds."""
    env_file = Path(".env")
    try:
        if in_file:
            env_file.write_text(f"MODEL_NAME={json.dumps(text)}\n", encoding="utf-8")
        else:
            os.environ["MODEL_NAME"] = text
        expected = text
        if in_file:  # a double-quoted .env value is read with its escapes, as dotenv does
            from dotenv import dotenv_values

            expected = dotenv_values(env_file)["MODEL_NAME"] or ""
        assert load(Example).model_name == expected
    finally:
        os.environ.pop("MODEL_NAME", None)
        env_file.unlink(missing_ok=True)


def test_a_serving_worker_reads_settings_without_pydantic_settings_or_dotenv(
    tmp_path: Path,
) -> None:
    probe = (
        "import sys\n"
        "from goldpath_runtime.settings import ServingSettings, load\n"
        "load(ServingSettings)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic_settings', 'dotenv')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
