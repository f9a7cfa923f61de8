"""Training, promotion and rollback of the example project's model through the platform:
a second version carries the decision threshold it was trained with into serving, and a
rollback retires the version it leaves so no later promotion quietly brings it back."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from rfq_project import PROJECT, Settings

from goldpath_runtime.errors import ModelNotFoundError, ProjectError
from goldpath_runtime.store import connect
from goldpath_runtime.tabular.registry import (
    alias_version,
    load_serving_model,
    promote,
    rollback,
)
from goldpath_runtime.tabular.training import train


def champion_of(settings: Settings) -> str | None:
    found = alias_version(connect(settings), settings.model_name, "champion")
    return None if found is None else str(found.version)


@pytest.fixture
def store(tmp_path: Path, empty_store: Path, people: pytest.MonkeyPatch) -> Settings:
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    for name, value in {"APPROVER": "alice", "REASON": "test", "VALIDATOR": "val"}.items():
        people.setenv(name, value)
    return Settings(
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        mlflow_artifact_root=(tmp_path / "artifacts").as_uri(),
    )


def test_the_threshold_travels_with_its_version_and_a_rollback_retires(store: Settings) -> None:
    with pytest.raises(ModelNotFoundError, match="run `make train` first"):
        promote(store, PROJECT.record())
    first = train(PROJECT, store)
    assert (first.version, first.champion_version) == ("1", None)
    assert promote(store, PROJECT.record()).version == "1"

    trained_with = store.model_copy(update={"decision_threshold": 0.8})
    second = train(PROJECT, trained_with)
    assert (second.version, second.champion_version) == ("2", "1")
    assert second.champion_roc_auc is not None
    client = connect(store)
    assert client.get_model_version(store.model_name, "2").tags["decision_threshold"] == "0.8"
    move = promote(store, PROJECT.record())
    assert (move.previous, move.version) == ("1", "2")
    # Served under settings that say 0.5: the version's own threshold wins.
    model = load_serving_model(store)
    assert (model.version, model.threshold) == ("2", pytest.approx(0.8))
    assert model.labels(np.array([0.79, 0.8])).tolist() == [0, 1]
    assert promote(store, PROJECT.record()).changed is False  # idempotent

    back = rollback(store, PROJECT.record())
    assert (back.previous, back.version) == ("2", "1")
    assert champion_of(store) == "1"
    assert alias_version(client, store.model_name, "challenger") is None
    assert client.get_model_version(store.model_name, "2").tags["rolled_back"] == "true"
    with pytest.raises(ModelNotFoundError, match="no @challenger"):
        promote(store, PROJECT.record())
    assert champion_of(store) == "1"
    with pytest.raises(ProjectError, match="no earlier @champion"):
        rollback(store, PROJECT.record())


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 10])
def test_serving_never_writes_an_empty_or_damaged_store(tmp_path: Path, content: bytes) -> None:
    database = tmp_path / "mlflow.db"
    database.write_bytes(content)
    settings = Settings(mlflow_tracking_uri=f"sqlite:///{database}")
    with pytest.raises(ModelNotFoundError, match="is not an MLflow SQLite store"):
        load_serving_model(settings)
    assert database.read_bytes() == content


def test_serving_before_training_is_a_clear_error(store: Settings) -> None:
    with pytest.raises(ModelNotFoundError, match="run `make train` then `make promote`"):
        load_serving_model(store)
