"""The training table built from the template's raw desk tables (its `raw.py` and
`dataset.py`): point-in-time correct (a row that arrives after a request never changes its
features; a feature read by the wrong clock is caught), contracts checked before any join,
built by date partition (a rerun builds only new dates, a killed build keeps whole ones),
and its raw inputs' versions carried onto the model card."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from rfq_project import PROJECT, Settings

from goldpath_runtime.errors import DataValidationError, ProjectError
from goldpath_runtime.tabular.dataset import (
    MANIFEST_SUFFIX,
    RawInputs,
    build_dataset,
    read_manifest,
    read_raw,
)
from goldpath_runtime.tabular.pointintime import build_pandas, leaky_features

PARTS = importlib.import_module("rfq_desk.dataset").parts()
DEFINITION = PARTS.definition
TABLES = tuple(DEFINITION.tables)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("raw")
    for name, frame in PARTS.generate(3_000, 7).items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def inputs(raw: Path) -> RawInputs:
    return read_raw(raw, DEFINITION, PARTS.contracts)


def test_the_built_table_is_what_training_reads(raw: Path) -> None:
    table = build_pandas(DEFINITION, inputs(raw).frames)
    assert len(table) == 3_000
    assert table["rfq_id"].is_unique
    checked = PROJECT.contract.validate_frame(table, require_target=True)
    assert 0.2 < checked[PROJECT.schema.target].mean() < 0.8


def test_a_row_that_arrives_after_a_request_never_changes_its_features(raw: Path) -> None:
    frames = dict(inputs(raw).frames)
    before = build_pandas(DEFINITION, frames).set_index("rfq_id")
    rfq = frames["rfqs"].iloc[1_500]
    at = pd.Timestamp(rfq["requested_at"])
    future = pd.DataFrame({
        # Observed before the request but ingested after it (a late row), and one from
        # after the request: neither was known when the desk priced it.
        "instrument": [rfq["instrument"]] * 2, "volatility": [4.9, 4.8], "mid": [1.0, 1.0],
        "at": [at - pd.Timedelta(minutes=1), at + pd.Timedelta(minutes=1)],
        "ingested_at": [at + pd.Timedelta(seconds=1), at + pd.Timedelta(minutes=2)],
    })  # fmt: skip
    frames["market"] = pd.concat([frames["market"], future], ignore_index=True)
    frames["clients"] = pd.concat([frames["clients"], pd.DataFrame({
        "client_id": [rfq["client_id"]], "client_tier": ["platinum"],
        "valid_from": [at - pd.Timedelta(days=1)], "ingested_at": [at + pd.Timedelta(hours=1)],
    })], ignore_index=True)  # fmt: skip
    # A quote the client closed before the request, reported a second after it.
    frames["quotes"] = pd.concat([frames["quotes"], pd.DataFrame({
        "rfq_id": ["R-late"], "client_id": [rfq["client_id"]], "done": [1],
        "closed_at": [at - pd.Timedelta(seconds=1)], "ingested_at": [at + pd.Timedelta(seconds=1)],
    })], ignore_index=True)  # fmt: skip
    after = build_pandas(DEFINITION, frames).set_index("rfq_id")
    row = rfq["rfq_id"]
    for feature in ("volatility", "client_tier", "client_hit_rate_30d"):
        assert after.loc[row, feature] == before.loc[row, feature], feature
    # Nothing requested before the planted rows arrived changed (later requests may see them).
    earlier = before["requested_at"] <= at
    pd.testing.assert_frame_equal(before[earlier], after[earlier])


def test_the_leakage_check_names_a_feature_read_by_the_wrong_clock(raw: Path) -> None:
    frames = inputs(raw).frames
    assert leaky_features(DEFINITION, frames, sample=150) == []
    # The observation time instead of the ingestion time: late market rows leak.
    wrong = dataclasses.replace(
        DEFINITION,
        features=tuple(
            dataclasses.replace(f, clock="at") if f.name == "volatility" else f
            for f in DEFINITION.features
        ),
    )
    # About one row in twenty reads a market row not yet ingested.
    assert leaky_features(wrong, frames, sample=150) == ["volatility"]


def test_a_raw_table_that_breaks_its_contract_is_refused_before_any_join(
    raw: Path, tmp_path: Path
) -> None:
    for name in TABLES:
        (tmp_path / f"{name}.parquet").write_bytes((raw / f"{name}.parquet").read_bytes())
    market = pd.read_parquet(raw / "market.parquet")
    market.loc[3, "volatility"] = -1.0
    market.to_parquet(tmp_path / "market.parquet", index=False)
    rfqs = pd.read_parquet(raw / "rfqs.parquet")
    rfqs.loc[0, "side"] = "short"
    rfqs.to_parquet(tmp_path / "rfqs.parquet", index=False)
    with pytest.raises(DataValidationError) as refused:
        inputs(tmp_path)
    problems = refused.value.problems
    assert any(p.startswith("market: volatility") for p in problems), problems
    assert any(p.startswith("rfqs: side") for p in problems), problems
    (tmp_path / "trades.parquet").unlink()
    with pytest.raises(ProjectError, match=r"raw table trades not found .*make raw-data"):
        inputs(tmp_path)


def split(raw: Path, folder: Path, until: str) -> Path:
    """The raw tables as they stood at `until`: what had been ingested by then."""
    folder.mkdir(parents=True, exist_ok=True)
    cut = pd.Timestamp(until, tz="UTC")
    for name in TABLES:
        frame = pd.read_parquet(raw / f"{name}.parquet")
        frame[frame["ingested_at"] < cut].to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def test_a_rerun_builds_only_new_dates_and_equals_a_build_from_scratch(
    raw: Path, tmp_path: Path
) -> None:
    table = tmp_path / "training.parquet"
    first = build_dataset(DEFINITION, inputs(split(raw, tmp_path / "day45", "2026-02-18")), table)
    assert first.kept == []
    assert len(first.built) > 40
    again = build_dataset(DEFINITION, inputs(split(raw, tmp_path / "day45", "2026-02-18")), table)
    assert again.built == []  # idempotent: nothing new, nothing rebuilt
    # A month later: the old dates are kept, only the new ones are built.
    later = build_dataset(DEFINITION, inputs(raw), table)
    assert later.kept == first.built
    assert set(later.built).isdisjoint(first.built)
    scratch = build_dataset(DEFINITION, inputs(raw), tmp_path / "scratch.parquet").table
    pd.testing.assert_frame_equal(pd.read_parquet(table), pd.read_parquet(scratch))
    manifest = read_manifest(table)
    assert set(manifest["partitions"]) == set(first.built) | set(later.built)
    versions = {p["inputs"]["market"] for p in manifest["partitions"].values()}
    assert len(versions) == 2  # each partition names the market file it was built from


def test_a_build_killed_half_way_keeps_whole_partitions_and_the_rerun_finishes(
    raw: Path, tmp_path: Path
) -> None:
    table = tmp_path / "training.parquet"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import importlib, rfq_project
        from goldpath_runtime.tabular import dataset
        parts = importlib.import_module("rfq_desk.dataset").parts()
        raw = dataset.read_raw(dataset.Path({str(raw)!r}), parts.definition, parts.contracts)
        written = []
        original = dataset._write_atomic
        def killed(path, write):
            original(path, write)
            written.append(path)
            if len(written) == 9:  # after four partitions and their manifests, mid-fifth
                os.kill(os.getpid(), signal.SIGKILL)
        dataset._write_atomic = killed
        dataset.build_dataset(parts.definition, raw, dataset.Path({str(table)!r}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=300)  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert len(read_manifest(table)["partitions"]) == 4
    assert not table.exists()
    leftovers = [p.name for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []
    finished = build_dataset(DEFINITION, inputs(raw), table)
    assert len(finished.kept) == 4
    scratch = build_dataset(DEFINITION, inputs(raw), tmp_path / "scratch.parquet").table
    pd.testing.assert_frame_equal(pd.read_parquet(table), pd.read_parquet(scratch))


@pytest.mark.parametrize("text", ["", "{", "[]", '{"partitions": 3}', "\x00\x01"])
def test_a_damaged_manifest_is_one_line(tmp_path: Path, text: str) -> None:
    table = tmp_path / "training.parquet"
    table.with_name(table.name + MANIFEST_SUFFIX).write_text(text)
    with pytest.raises(ProjectError, match="manifest") as refused:
        read_manifest(table)
    assert "\n" not in str(refused.value)


def test_the_model_card_names_the_raw_inputs_versions(
    raw: Path, tmp_path: Path, empty_store: Path, people: pytest.MonkeyPatch
) -> None:
    import shutil

    from goldpath_runtime.store import connect
    from goldpath_runtime.tabular.training import train

    table = tmp_path / "training.parquet"
    build_dataset(DEFINITION, inputs(raw), table)
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    settings = Settings(
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        mlflow_artifact_root=(tmp_path / "artifacts").as_uri(), training_data=table,
    )  # fmt: skip
    result = train(PROJECT, settings)
    client = connect(settings)
    tags = client.get_model_version(settings.model_name, result.version).tags
    market = inputs(raw).versions["market"]
    assert f"market {market[:16]}" in tags["data_raw_inputs"]
    card = json.loads(
        Path(client.download_artifacts(result.run_id, "model_card/card.json", str(tmp_path)))
        .read_text()
    )  # fmt: skip
    assert card["training_data"]["built_from"]["raw_inputs"]["market"] == [market]
    assert os.path.basename(card["training_data"]["source"]) == "training.parquet"
