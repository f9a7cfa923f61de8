"""The tabular fast path: the numpy encoding and compiled trees score exactly as the fitted
pipeline, the lean artifact round-trips and refuses what it cannot trust with one line,
and a baked MODEL_DIR is never left half-written, even by SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from tabular_models import SCHEMA, Version, fitted_pipeline, sample

from conftest import Store
from goldpath_runtime.errors import ProjectError
from goldpath_runtime.store import connect
from goldpath_runtime.tabular import Feature, FeatureSchema, lean, model_dir
from goldpath_runtime.tabular.fastpath import FastScorer

PIPELINE = fitted_pipeline()
ROWS = sample(400, seed=9, target=False)


def test_the_compiled_trees_score_as_the_pipeline() -> None:
    scorer = FastScorer(PIPELINE, SCHEMA)
    assert scorer.forest is not None, "the trees are compiled, not walked one by one"
    got = scorer.predict_proba(scorer.encode(ROWS.to_dict("records")))
    expected = PIPELINE.predict_proba(ROWS[list(SCHEMA.names)])[:, 1]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert scorer.check_against(PIPELINE, ROWS)


def test_an_unknown_category_encodes_as_the_pipeline_does() -> None:
    row = ROWS.head(1).assign(tier="platinum")
    encoded = FastScorer(PIPELINE, SCHEMA).encode(row.to_dict("records"))
    transformed = PIPELINE.named_steps["preprocess"].transform(row[list(SCHEMA.names)])
    np.testing.assert_allclose(encoded, transformed)


def test_an_estimator_that_does_not_compile_is_scored_by_itself() -> None:
    linear = fitted_pipeline(LogisticRegression(max_iter=500))
    scorer = FastScorer(linear, SCHEMA)
    assert scorer.forest is None
    assert scorer.check_against(linear, ROWS)
    with pytest.raises(ProjectError, match="could not be compiled: no lean artifact"):
        lean.export(Version(linear), Path("unused"), SCHEMA, ROWS)


def test_the_lean_artifact_round_trips(tmp_path: Path) -> None:
    path = lean.export(Version(PIPELINE), tmp_path, SCHEMA, ROWS)
    model = lean.load(tmp_path, SCHEMA)
    assert path == tmp_path / lean.LEAN_FILE
    assert (model.name, model.version, model.threshold, model.card_id) == (
        "rfq_model", "3", 0.4, "card-3",
    )  # fmt: skip
    got = model.scorer.predict_proba(model.scorer.encode(ROWS.to_dict("records")))
    expected = PIPELINE.predict_proba(ROWS[list(SCHEMA.names)])[:, 1]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(model.labels(np.array([0.39, 0.4])), [0, 1])


def test_a_compiled_model_that_disagrees_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    honest = FastScorer.predict_proba
    monkeypatch.setattr(FastScorer, "predict_proba", lambda self, m: honest(self, m) + 1e-6)
    with pytest.raises(ProjectError, match=r"differs from the pipeline by 1\.00e-06"):
        lean.export(Version(PIPELINE), tmp_path, SCHEMA, ROWS)
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=4096))
def test_a_damaged_artifact_is_one_clear_line(tmp_path_factory: pytest.TempPathFactory,
                                              content: bytes) -> None:  # fmt: skip
    folder = tmp_path_factory.mktemp("damaged")
    (folder / lean.LEAN_FILE).write_bytes(content)
    with pytest.raises(ProjectError) as raised:
        lean.load(folder, SCHEMA, fix="bake it again")
    message = str(raised.value)
    assert message.endswith("bake it again")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda meta: meta["features"]["numeric"].append("new"), "exported for other features"),
        (lambda meta: meta.update(format=99), "has format 99, not 1"),
        (lambda meta: meta.pop("depth"), "not a readable serving model"),
    ],
)
def test_an_artifact_this_code_cannot_trust_is_refused(
    tmp_path: Path, change: object, problem: str
) -> None:
    (tmp_path / "good").mkdir()
    lean.export(Version(PIPELINE), tmp_path / "good", SCHEMA, ROWS)
    with np.load(tmp_path / "good" / lean.LEAN_FILE) as saved:
        arrays = {name: saved[name] for name in saved.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(meta)  # type: ignore[operator]
    (tmp_path / "bad").mkdir()
    np.savez(tmp_path / "bad" / lean.LEAN_FILE, meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ProjectError, match=problem):
        lean.load(tmp_path / "bad", SCHEMA)


def test_the_schema_order_is_part_of_the_artifact(tmp_path: Path) -> None:
    lean.export(Version(PIPELINE), tmp_path, SCHEMA, ROWS)
    reordered = FeatureSchema(tuple(reversed(SCHEMA.features)), target="won")
    with pytest.raises(ProjectError, match="exported for other features"):
        lean.load(tmp_path, reordered)
    renamed = FeatureSchema((*SCHEMA.features[:3], Feature("grade", "x", ("a", "b"))), "won")
    with pytest.raises(ProjectError, match="exported for other features"):
        lean.load(tmp_path, renamed)


# A baked MODEL_DIR ----------------------------------------------------------------------

BAKE = """
import sys, time
from pathlib import Path
import mlflow.artifacts
from tabular_models import SCHEMA, Version, fitted_pipeline, sample
from goldpath_runtime.tabular import model_dir

slow = mlflow.artifacts.download_artifacts
def download(**kwargs):
    path = slow(**kwargs)
    time.sleep(float(sys.argv[3]))  # the moment a real download of a large model takes
    return path
mlflow.artifacts.download_artifacts = download
model = Version(fitted_pipeline(), uri=sys.argv[1])
print(model_dir.bake(model, Path(sys.argv[2]), SCHEMA, sample(200, 5, target=False)))
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real MLflow store on SQLite with the pipeline registered as v1 and a model that
    does not compile as v2: the bake downloads `models:/` URIs as a project's export does."""
    folder = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = connect(Store(uri, (folder / "artifacts").as_uri()))
    experiment = client.create_experiment("baked", (folder / "artifacts").as_uri())
    for pipeline in (PIPELINE, fitted_pipeline(LogisticRegression(max_iter=500))):
        with mlflow.start_run(experiment_id=experiment):
            mlflow.sklearn.log_model(
                pipeline, name="model", registered_model_name="rfq_model",
                serialization_format="pickle", pip_requirements=[],
            )  # fmt: skip
    return uri


def bake(registry: str, version: int, destination: Path, pause: float) -> subprocess.Popen[str]:
    env = {**os.environ, "MLFLOW_TRACKING_URI": registry}
    return subprocess.Popen(
        [sys.executable, "-c", BAKE, f"models:/rfq_model/{version}", str(destination), str(pause)],
        cwd=Path(__file__).parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def test_a_bake_killed_half_way_leaves_no_half_model(registry: str, tmp_path: Path) -> None:
    destination = tmp_path / "model"
    killed = bake(registry, 1, destination, pause=60)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".model.partial-*/MLmodel")):
        assert killed.poll() is None, killed.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the bake never started writing"
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not destination.exists()
    connect(Store(registry, ""))
    said = model_dir.bake(Version(PIPELINE, uri="models:/rfq_model/1"), destination, SCHEMA, ROWS)
    assert said.startswith("lean serving artifact serving-model.npz")
    assert model_dir.baked_identity(destination) == ("3", "card-3")
    assert (destination / "MLmodel").is_file()
    assert lean.load(destination, SCHEMA).version == "3"
    assert list(tmp_path.glob(".model.partial-*")) == [], "the killed run's scratch is gone"


def test_a_bake_refuses_a_folder_that_holds_something(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "notes.txt").write_text("mine")
    with pytest.raises(ProjectError, match="is not empty"):
        model_dir.bake(Version(PIPELINE), tmp_path / "model", SCHEMA, ROWS)
    assert (tmp_path / "model" / "notes.txt").read_text() == "mine"


def test_a_model_that_does_not_compile_is_baked_without_the_lean_artifact(
    registry: str, tmp_path: Path
) -> None:
    connect(Store(registry, ""))
    linear = Version(fitted_pipeline(LogisticRegression(max_iter=500)), uri="models:/rfq_model/2")
    said = model_dir.bake(linear, tmp_path / "model", SCHEMA, ROWS)
    assert said.endswith("MODEL_DIR serves the full MLflow model")
    assert (tmp_path / "model" / "MLmodel").is_file()
    assert not (tmp_path / "model" / lean.LEAN_FILE).exists()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, len(ROWS) - 20), st.integers(1, 20),
    st.lists(st.tuples(st.integers(0, 19), st.sampled_from(SCHEMA.numeric)), max_size=6),
)  # fmt: skip
def test_every_way_through_the_trees_scores_as_the_pipeline(
    start: int, size: int, missing: list[tuple[int, str]]
) -> None:
    """One or two rows take every node's branch at once, larger batches go level by
    level, and a batch with a missing value takes each node's learned side for it."""
    rows = ROWS.iloc[start : start + size].copy()
    for row, column in missing:
        if row < size:
            rows.iloc[row, rows.columns.get_loc(column)] = np.nan
    scorer = FastScorer(PIPELINE, SCHEMA)
    got = scorer.predict_proba(scorer.encode(rows.to_dict("records")))
    expected = PIPELINE.predict_proba(rows[list(SCHEMA.names)])[:, 1]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
