"""Tables a tabular project reads that are not what they claim: each is one line naming the
file and the problem (no traceback, nothing trained or scored on a silently mangled
table)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rfq_project import PROJECT, Settings

from goldpath_runtime.errors import DataValidationError, ProjectError
from goldpath_runtime.tabular import cli
from goldpath_runtime.tabular.tables import read_table
from goldpath_runtime.tabular.training import train

make_rfq_sample = PROJECT.sample
validate_frame = PROJECT.contract.validate_frame
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def sample_csv(path: Path, rows: int = 20) -> Path:
    make_rfq_sample(rows, 7).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty (0 bytes)"),
        ("empty.parquet", b"", "is empty (0 bytes)"),
        ("image.csv", PNG, "is binary, not CSV text"),
        ("latin1.csv", "côté,prix\n1,2\n".encode("latin-1"), "is not UTF-8 CSV text"),
        ("corrupt.parquet", b"PAR1" + bytes(range(200)), "is not a readable Parquet file"),
        ("random.parquet", PNG, "is not a readable Parquet file"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5,6\n", "is not valid CSV"),
        ("notes.txt", b"hello", "unsupported format '.txt'"),
    ],
)
def test_a_file_that_is_not_a_table_is_named(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ProjectError) as caught:
        read_table(path)
    assert str(caught.value).startswith(f"input file {path}")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_column_named_twice_is_refused_not_renamed(tmp_path: Path) -> None:
    good = sample_csv(tmp_path / "good.csv")
    header, *rows = good.read_text().splitlines()
    twice = tmp_path / "twice.csv"
    twice.write_text("\n".join([header + ",spread_bps", *(r + ",1.0" for r in rows)]) + "\n")
    with pytest.raises(ProjectError, match=r"column\(s\) spread_bps appear twice"):
        read_table(twice)
    as_parquet = tmp_path / "twice.parquet"
    frame = read_table(good)
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.append_column("hit", table.column("hit")), as_parquet)
    with pytest.raises(ProjectError, match=r"column\(s\) hit appear twice"):
        read_table(as_parquet)
    with pytest.raises(ProjectError, match="is a directory"):
        read_table(tmp_path)


def test_a_header_without_rows_is_no_rows(tmp_path: Path) -> None:
    only_header = tmp_path / "header.csv"
    only_header.write_text(sample_csv(tmp_path / "s.csv").read_text().splitlines()[0] + "\n")
    with pytest.raises(DataValidationError, match="no rows"):
        validate_frame(read_table(only_header), require_target=True)


@pytest.fixture
def fresh_store(tmp_path: Path, empty_store: Path) -> Settings:
    (tmp_path / "mlflow").mkdir()
    shutil.copy(empty_store, tmp_path / "mlflow" / "mlflow.db")
    return Settings(
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}",
        mlflow_artifact_root=(tmp_path / "mlflow" / "artifacts").as_uri(),
    )


def test_five_rows_are_too_few_to_train_on(tmp_path: Path, fresh_store: Settings) -> None:
    tiny = sample_csv(tmp_path / "tiny.csv", rows=5)
    with pytest.raises(DataValidationError, match=r"5 rows .* training needs at least 100"):
        train(PROJECT, fresh_store.model_copy(update={"training_data": tiny}))


def test_the_cli_says_it_in_one_line(
    tmp_path: Path, fresh_store: Settings, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    image = tmp_path / "scores.csv"
    image.write_bytes(PNG)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", fresh_store.mlflow_tracking_uri)
    monkeypatch.setenv("TRAINING_DATA", str(image))
    assert cli.main(PROJECT, ["train"]) == 1
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line == f"error: input file {image} is binary, not CSV text"
