"""GitLab CI (#30): a generated project green on its first `make test`, run with a GitLab
job's variables set (tests/generated.py); its pipeline's validators are test_matrix's."""

from __future__ import annotations

from pathlib import Path

import pytest

from .generated import first_make_test_is_green


@pytest.mark.slow
def test_first_make_test_is_green(tmp_path: Path) -> None:
    first_make_test_is_green(tmp_path, "gitlab")
