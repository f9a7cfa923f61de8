"""An Azure project with its Databricks bundle (the PySpark engine, batch jobs): a generated project green on its first `make test` (tests/generated.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .generated import first_make_test_is_green


@pytest.mark.slow
def test_first_make_test_is_green(tmp_path: Path) -> None:
    first_make_test_is_green(tmp_path, "azure-databricks")
