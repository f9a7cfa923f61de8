"""A model trained by the bundle's training job names the raw tables' Delta versions the
dataset job wrote into its table's history, as a local one names their file hashes.

MOCK BOUNDARY: Databricks' Spark session. `DeltaSession` answers `DESCRIBE HISTORY` with
rows shaped as Delta Lake documents them (version, timestamp, operation,
operationParameters, userMetadata, ...) and `table()` with the built table. Everything
behind it (the job's argument handling, training, MLflow on SQLite) is real.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rfq_project import PROJECT

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.store import StoreConfig, connect
from goldpath_runtime.tabular.delta_history import (
    MAX_METADATA_CHARS,
    lineage_from_history,
    table_identifier,
)
from goldpath_runtime.tabular.jobs import train_job

TABLE = "main.rfq.rfq_training"


def commit(version: int, metadata: str | None, operation: str = "WRITE") -> dict[str, Any]:
    """A row of DESCRIBE HISTORY, as Delta Lake's documentation lists its columns."""
    return {
        "version": version, "timestamp": pd.Timestamp("2026-03-01") + pd.Timedelta(days=version),
        "userId": "42", "userName": "ci@bank.example", "operation": operation,
        "operationParameters": {"mode": "Append"}, "job": None, "notebook": None,
        "clusterId": "0101-abc", "readVersion": max(version - 1, 0),
        "isolationLevel": "WriteSerializable", "isBlindAppend": True,
        "operationMetrics": {"numOutputRows": "40"}, "userMetadata": metadata,
        "engineInfo": "Databricks-Runtime/15.4",
    }  # fmt: skip


def built(raw: dict[str, str]) -> str:
    return json.dumps({"raw_inputs": raw})


class Rows(list[dict[str, Any]]):
    def collect(self) -> list[dict[str, Any]]:
        return list(self)


class DeltaSession:
    def __init__(self, frame: pd.DataFrame, history: list[dict[str, Any]]) -> None:
        self.frame, self.history, self.statements = frame, history, []

    def sql(self, statement: str) -> Rows:
        self.statements.append(statement)
        assert statement.startswith("DESCRIBE HISTORY `main`.`rfq`.`rfq_training`")
        return Rows(sorted(self.history, key=lambda c: -c["version"]))

    def table(self, name: str) -> Any:
        assert name == TABLE
        frame = self.frame

        class Table:
            def toPandas(self) -> pd.DataFrame:
                return frame

        return Table()


def test_the_history_s_raw_inputs_are_gathered_and_junk_is_counted() -> None:
    history = [
        commit(0, None, "CREATE TABLE"),
        commit(1, built({"rfqs": "delta v7", "market": "delta v3"})),
        commit(2, built({"rfqs": "delta v8", "market": "delta v3"})),
        commit(3, "set by hand"),
        commit(4, json.dumps({"raw_inputs": {"rfqs": 8}})),
        commit(5, None, "OPTIMIZE"),
    ]
    assert lineage_from_history(history) == {
        "table_version": "delta v5", "commits": 2, "unreadable_commits": 2,
        "raw_inputs": {"market": ["delta v3"], "rfqs": ["delta v7", "delta v8"]},
    }  # fmt: skip
    assert lineage_from_history([commit(0, None), commit(1, "{}")]) is None


metadata = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=20,
    ).map(json.dumps),
    st.dictionaries(st.text(max_size=200), st.text(max_size=300), max_size=5).map(
        lambda raw: built(raw)
    ),
    st.integers(1, 5).map(lambda depth: "[" * 10_000 * depth + "]" * 10_000 * depth),
    st.just("x" * (MAX_METADATA_CHARS + 1)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), metadata), max_size=8))
def test_hostile_commit_metadata_is_data_bounded_and_never_an_error(
    commits: list[tuple[int, str | None]],
) -> None:
    said = lineage_from_history([commit(v, m) for v, m in commits])
    if said is not None:
        assert said["commits"] >= 1
        for name, versions in said["raw_inputs"].items():
            assert len(name) <= 128
            assert all(len(v) <= 128 for v in versions)


@pytest.mark.parametrize(
    "name",
    ["main.rfq.t; DROP TABLE x", "a.b.c.d", "`main`.rfq.t", "main..t", "", "main.rfq.t\n", "-x"],
)
def test_a_table_name_that_is_not_one_is_one_line(name: str) -> None:
    with pytest.raises(ProjectError, match=r"catalog\.schema\.table"):
        table_identifier(name)


def test_the_training_job_writes_the_history_s_raw_inputs_onto_card_and_version(
    tmp_path: Path, empty_store: Path, people: pytest.MonkeyPatch
) -> None:
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    store = StoreConfig(f"sqlite:///{tmp_path / 'mlflow.db'}", (tmp_path / "artifacts").as_uri(),
                        "rfq_desk")  # fmt: skip
    people.setenv("MLFLOW_TRACKING_URI", store.mlflow_tracking_uri)
    people.setenv("MLFLOW_REGISTRY_URI", store.mlflow_tracking_uri)
    people.setenv("MLFLOW_ARTIFACT_ROOT", store.mlflow_artifact_root)
    session = DeltaSession(
        PROJECT.sample(2_000, 7),
        [commit(0, built({"rfqs": "delta v11", "quotes": "delta v4"})),
         commit(1, built({"rfqs": "delta v12", "quotes": "delta v4"}))],
    )  # fmt: skip
    people.setattr("goldpath_runtime.tabular.jobs._spark", lambda: session)
    train_job(PROJECT, ["--model-name", "rfq_desk", "--table", TABLE])
    client = connect(store)
    version = client.get_model_version("rfq_desk", "1")
    assert version.tags["data_raw_inputs"].startswith("quotes delta v4, rfqs delta v11 delta v12")
    card = json.loads(
        Path(client.download_artifacts(version.run_id, "model_card/card.json", str(tmp_path)))
        .read_text()
    )  # fmt: skip
    assert card["training_data"]["built_from"]["table_version"] == "delta v1"
    assert card["training_data"]["built_from"]["raw_inputs"]["rfqs"] == ["delta v11", "delta v12"]
