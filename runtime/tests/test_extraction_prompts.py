"""Prompts move through aliases like models do, in a real MLflow prompt registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from trade_project import Settings, lifecycle_status, promote, rollback, working_prompt

from goldpath_runtime.errors import GateFailedError, ModelNotFoundError, ProjectError
from goldpath_runtime.llm.prompts import (
    Prompt,
    export_prompt,
    load_serving_prompt,
    register,
    version_tags,
)
from goldpath_runtime.store import connect


def test_promote_and_rollback_move_champion_like_a_model(fresh_store: Settings) -> None:
    first = register(fresh_store, Prompt("extract_trade", "working", "one"), {})
    assert promote(fresh_store).version == first
    second = register(fresh_store, Prompt("extract_trade", "working", "two"), {})
    move = promote(fresh_store)
    assert (move.previous, move.version) == (first, second)
    assert load_serving_prompt(fresh_store).text == "two"

    back = rollback(fresh_store)
    assert (back.previous, back.version) == (second, first)
    served = load_serving_prompt(fresh_store)
    assert (served.version, served.text) == (first, "one")
    # The rolled-back version lost @challenger: the next promote cannot bring it back.
    assert version_tags(fresh_store, "challenger") is None
    with pytest.raises(ModelNotFoundError, match="make eval"):
        promote(fresh_store)
    with pytest.raises(ProjectError, match="no earlier"):
        rollback(fresh_store)
    rows = {row["alias"]: row for row in lifecycle_status(fresh_store)}
    assert rows["champion"]["version"] == first
    assert rows["challenger"]["version"] == "-"


def test_a_version_without_a_passed_gate_is_never_promoted(fresh_store: Settings) -> None:
    import mlflow

    connect(fresh_store)
    unchecked = mlflow.genai.register_prompt(name="extract_trade", template="registered by hand")
    with pytest.raises(GateFailedError, match="no passed evaluation gate"):
        promote(fresh_store, str(unchecked.version))


def test_serving_never_creates_or_migrates_a_store(fresh_store: Settings, tmp_path: Path) -> None:
    database = tmp_path / "nowhere" / "mlflow.db"
    fresh_store = fresh_store.model_copy(update={"mlflow_tracking_uri": f"sqlite:///{database}"})
    with pytest.raises(ModelNotFoundError, match="no MLflow store"):
        load_serving_prompt(fresh_store)
    assert not database.exists()
    database.parent.mkdir(parents=True)
    database.write_bytes(b"")
    with pytest.raises(ModelNotFoundError, match="empty or damaged"):
        load_serving_prompt(fresh_store)
    assert database.read_bytes() == b""


def test_no_champion_is_one_clear_line(fresh_store: Settings) -> None:
    connect(fresh_store)
    register(fresh_store, Prompt("extract_trade", "working", "one"), {})
    with pytest.raises(ModelNotFoundError, match="make promote"):
        load_serving_prompt(fresh_store)


def test_an_exported_prompt_serves_without_the_registry(
    served_settings: Settings, tmp_path: Path
) -> None:
    exported = export_prompt(served_settings, tmp_path / "prompt.json")
    baked = Settings(
        prompt_file=tmp_path / "prompt.json",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'absent.db'}",
    )
    assert load_serving_prompt(baked) == exported
    (tmp_path / "prompt.json").write_text("{not json")
    with pytest.raises(ProjectError, match="not an exported prompt"):
        load_serving_prompt(baked)


@pytest.mark.parametrize(("content", "problem"), [(b"", "is empty"), (b"\xff\xfe\x00", "UTF-8")])
def test_an_empty_or_binary_prompt_file_is_refused(
    fresh_store: Settings, tmp_path: Path, content: bytes, problem: str
) -> None:
    (tmp_path / "extract_trade.md").write_bytes(content)
    with pytest.raises(ProjectError, match=problem):
        working_prompt(fresh_store.model_copy(update={"prompts_dir": tmp_path}))
