"""Batch scoring (pandas): a file in, the same rows out with the version's prediction,
probability, version and card id; a file that breaks the contract, or an output format
that cannot be written, is refused before anything is scored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from rfq_project import PROJECT, Settings

from goldpath_runtime.errors import DataValidationError, ProjectError
from goldpath_runtime.tabular.registry import LoadedModel, load_model_version
from goldpath_runtime.tabular.scoring import OUTPUT_COLUMNS, score_file
from goldpath_runtime.tabular.training import train

TARGET = PROJECT.schema.target
make_rfq_sample = PROJECT.sample


@pytest.fixture(scope="session")
def champion(tmp_path_factory: pytest.TempPathFactory, empty_store: Path) -> LoadedModel:
    """The example project's model, trained once for the session (v1)."""
    root = tmp_path_factory.mktemp("rfq")
    shutil.copy(empty_store, root / "mlflow.db")
    settings = Settings(
        mlflow_tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        mlflow_artifact_root=(root / "artifacts").as_uri(),
    )
    result = train(PROJECT, settings)
    return load_model_version(settings, result.version)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_scores_a_file_with_model_version(
    tmp_path: Path, champion: LoadedModel, suffix: str
) -> None:
    source = tmp_path / f"in{suffix}"
    frame = make_rfq_sample(120, seed=3).drop(columns=[TARGET])
    frame.to_csv(source, index=False) if suffix == ".csv" else frame.to_parquet(source)
    report = score_file(source, tmp_path / f"out{suffix}", champion, PROJECT.contract)
    out = pd.read_csv(report.output) if suffix == ".csv" else pd.read_parquet(report.output)
    assert report.rows == len(out) == 120
    assert set(OUTPUT_COLUMNS) <= set(out.columns)
    assert out["model_version"].astype(str).unique().tolist() == [champion.version]
    assert out["model_card"].unique().tolist() == [champion.card_id]
    assert len(champion.card_id) == 16
    assert out["probability"].between(0, 1).all()


def test_bad_input_file_is_rejected(tmp_path: Path, champion: LoadedModel) -> None:
    source = tmp_path / "in.csv"
    make_rfq_sample(10).drop(columns=["side"]).to_csv(source, index=False)
    with pytest.raises(DataValidationError, match="missing column"):
        score_file(source, tmp_path / "out.csv", champion, PROJECT.contract)
    valid = tmp_path / "valid.csv"
    make_rfq_sample(10).to_csv(valid, index=False)
    with pytest.raises(ProjectError, match=r"unsupported format '\.xlsx'"):
        score_file(valid, tmp_path / "out.xlsx", champion, PROJECT.contract)
