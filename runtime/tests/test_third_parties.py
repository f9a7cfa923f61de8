"""Nothing the platform runs reports to a third party unasked: MLflow's usage telemetry (a
persistent installation id, session ids, events, sent to its maintainers' endpoint from
any process outside CI) is off wherever goldpath_runtime is imported, before or after
MLflow, unless the operator turns it on explicitly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# What the telemetry client is, in a process with no CI or pytest variables (MLflow keeps
# itself quiet under those, so the test runs as a laptop, a job or a serving pod does).
PROBE = (
    "from mlflow.telemetry import get_telemetry_client\nprint(get_telemetry_client() is not None)"
)


def telemetry_on(imports: str, **env: str) -> bool:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ["HOME"]}
    result = subprocess.run(
        [sys.executable, "-c", f"{imports}\n{PROBE}"], env={**clean, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return {"True": True, "False": False}[result.stdout.strip().splitlines()[-1]]


def test_mlflow_alone_would_report_from_this_environment() -> None:
    """The control: without the platform, this environment starts MLflow's client."""
    assert telemetry_on("import mlflow") is True


@pytest.mark.parametrize(
    "imports",
    ["import goldpath_runtime.store\nimport mlflow", "import mlflow\nimport goldpath_runtime"],
    ids=["platform-first", "mlflow-first"],
)
def test_the_platform_turns_mlflow_telemetry_off(imports: str) -> None:
    assert telemetry_on(imports) is False


def test_an_operator_who_wants_it_says_so() -> None:
    assert telemetry_on("import goldpath_runtime.store", MLFLOW_DISABLE_TELEMETRY="false") is True
