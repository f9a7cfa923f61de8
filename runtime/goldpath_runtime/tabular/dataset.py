"""`make dataset`: the training table built from the desk's raw tables, locally on pandas.

Each raw table is read from `<raw>/<name>.parquet` and held to its contract before any
join. The table is built by date partition of the base table's time: a partition built
once is never built again (point-in-time features do not change when later rows arrive,
late ones included), so a rerun builds only the new dates and an interrupted build
leaves whole partitions. The manifest beside the table records, per partition, its rows,
its hash and the versions (file hashes) of the raw inputs it was built from; training
copies it onto the model card, so a card's data fingerprint traces back to raw inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataValidationError, ProjectError
from .contract import Contract
from .features import Feature, FeatureSchema
from .pointintime import Definition, build_pandas
from .tables import read_table

MANIFEST_SUFFIX = ".manifest.json"
PARTITIONS = "partitions"


@dataclass(frozen=True)
class DatasetParts:
    """What a project hands over for its dataset: the definition, a contract per raw
    table, and `generate(rfqs, seed)`, its raw tables generated (a stand-in for the desk's)."""

    definition: Definition
    contracts: Mapping[str, Contract]
    generate: Callable[[int, int], dict[str, pd.DataFrame]]


def raw_contract(*columns: Feature) -> Contract:
    """A raw table's contract: its value columns' types, ranges and categories (ids and
    timestamps pass through; the definition checks they are there)."""
    return Contract(FeatureSchema(tuple(columns), target="_no_target"))


@dataclass(frozen=True)
class RawInputs:
    frames: dict[str, pd.DataFrame]
    versions: dict[str, str]  # table -> its version: sha256 of the file here


@dataclass(frozen=True)
class Built:
    table: Path
    built: list[str]  # the partitions this run built
    kept: list[str]  # the partitions an earlier run had built
    rows: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_raw(
    directory: Path, definition: Definition, contracts: Mapping[str, Contract]
) -> RawInputs:
    """The raw tables the definition reads, each checked against its contract (every
    problem of every table in one error, table by table)."""
    names = sorted({definition.base, definition.label.table,
                    *(f.table for f in definition.features)})  # fmt: skip
    frames, versions, problems = {}, {}, []
    for name in names:
        path = directory / f"{name}.parquet"
        if not path.is_file():
            raise ProjectError(f"raw table {name} not found at {path}: run `make raw-data`")
        frame = read_table(path)
        contract = contracts.get(name)
        if contract is not None:
            try:
                contract.validate_frame(frame)
            except DataValidationError as exc:
                problems += [f"{name}: {problem}" for problem in exc.problems]
        frames[name], versions[name] = frame, file_sha256(path)
    if problems:
        raise DataValidationError(problems)
    definition.check_inputs(frames)
    return RawInputs(frames, versions)


def _write_atomic(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(scratch)
    os.replace(scratch, path)


def read_manifest(table: Path) -> dict[str, Any]:
    path = table.with_name(table.name + MANIFEST_SUFFIX)
    if not path.is_file():
        return {"partitions": {}}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProjectError(
            f"{path} is not a readable manifest ({exc}): delete it to rebuild"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("partitions"), dict):
        raise ProjectError(f"{path} is not a dataset manifest: delete it to rebuild")
    return manifest


def build_dataset(definition: Definition, raw: RawInputs, table: Path) -> Built:
    """Build the partitions not built yet, then the whole table and its manifest."""
    manifest = read_manifest(table)
    done: dict[str, Any] = manifest["partitions"]
    folder = table.with_name(table.stem + "." + PARTITIONS)
    base = raw.frames[definition.base]
    dates = pd.to_datetime(base[definition.time], utc=True).dt.strftime("%Y-%m-%d")
    kept = sorted(d for d in set(dates) if d in done and (folder / f"{d}.parquet").is_file())
    new = sorted(set(dates) - set(kept))
    if new:
        frames = dict(raw.frames)
        frames[definition.base] = base[dates.isin(new).to_numpy()]
        built = build_pandas(definition, frames)
        built_dates = pd.to_datetime(built[definition.time], utc=True).dt.strftime("%Y-%m-%d")
        for date in new:
            part = built[built_dates == date]
            path = folder / f"{date}.parquet"
            _write_atomic(path, lambda p, part=part: part.to_parquet(p, index=False))
            done[date] = {"rows": len(part), "sha256": file_sha256(path),
                          "inputs": dict(raw.versions)}  # fmt: skip
            # The manifest after each partition: a killed build keeps what it finished.
            text = json.dumps(manifest, indent=2, sort_keys=True)
            _write_atomic(table.with_name(table.name + MANIFEST_SUFFIX),
                          lambda p, text=text: p.write_text(text))  # fmt: skip
    parts = [folder / f"{d}.parquet" for d in sorted(done)]
    whole = pd.concat([pd.read_parquet(p) for p in parts if p.is_file()], ignore_index=True)
    whole = whole.sort_values(definition.row_id, kind="mergesort").reset_index(drop=True)
    _write_atomic(table, lambda p: whole.to_parquet(p, index=False))
    return Built(table, new, kept, len(whole))


def lineage(table: Path) -> dict[str, Any] | None:
    """What the manifest beside a training table says of its raw inputs (None: none)."""
    path = table.with_name(table.name + MANIFEST_SUFFIX)
    if not path.is_file():
        return None
    manifest = read_manifest(table)
    inputs: dict[str, set[str]] = {}
    for partition in manifest["partitions"].values():
        for name, version in (partition.get("inputs") or {}).items():
            inputs.setdefault(str(name), set()).add(str(version))
    return {"partitions": len(manifest["partitions"]),
            "raw_inputs": {name: sorted(v) for name, v in sorted(inputs.items())}}  # fmt: skip
