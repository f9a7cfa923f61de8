"""Tables a project reads and writes (CSV or Parquet): anything that is not one (empty,
binary, corrupt, a header naming a column twice) is one line naming the file and the
problem, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ProjectError


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file; anything that is not one (empty, binary, corrupt, a
    header naming a column twice) is one line naming the file and the problem."""
    if not path.exists():
        raise ProjectError(f"input file {path} does not exist")
    if path.is_dir():
        raise ProjectError(f"input file {path} is a directory, not a file")
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet", ".pq"}:
        raise ProjectError(
            f"input file {path}: unsupported format {suffix!r}, use .csv or .parquet"
        )
    if path.stat().st_size == 0:
        raise ProjectError(f"input file {path} is empty (0 bytes)")
    if suffix == ".csv":
        return _read_csv(path)
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        _no_repeated_columns(path, pq.read_schema(path).names)
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise ProjectError(f"input file {path} is not a readable Parquet file ({reason})") from None
    frame: pd.DataFrame = table.to_pandas()
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    head = path.read_bytes()[:8192]
    if b"\x00" in head:
        raise ProjectError(f"input file {path} is binary, not CSV text")
    try:
        header = head.decode("utf-8").splitlines()[0]
    except UnicodeDecodeError:
        raise ProjectError(f"input file {path} is not UTF-8 CSV text") from None
    except IndexError:
        raise ProjectError(f"input file {path} has no header line") from None
    _no_repeated_columns(path, [c.strip().strip('"') for c in header.split(",")])
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise ProjectError(f"input file {path} is not valid CSV ({reason})") from None


def _no_repeated_columns(path: Path, names: list[str]) -> None:
    # pandas would rename a second "spread_bps" to "spread_bps.1" and carry on silently.
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ProjectError(f"input file {path}: column(s) {', '.join(repeated)} appear twice")


def check_output_path(path: Path) -> None:
    """Fail before any work is done when the output could not be written."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet", ".pq"}:
        raise ProjectError(
            f"output file {path}: unsupported format {suffix!r}, use .csv or .parquet"
        )


def write_table(frame: pd.DataFrame, path: Path) -> None:
    check_output_path(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
