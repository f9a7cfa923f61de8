"""The LLM kind's generated project, as its README says: its own `make test` and `make lint`
offline, and the pull-request gate run exactly as its GitHub and Azure DevOps pipelines
define it. (Its own file so the two slowest suites run on different workers.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from generator._process import project_env
from generator._template import REPO_ROOT, render

from .conftest import run
from .generated import bench_answered_everything
from .pipeline_checks import load


def pipeline_step(project: Path, ci: str) -> tuple[str, dict[str, str]]:
    """The PR gate's command and environment, exactly as a generated pipeline defines them."""
    if ci == "github":
        gate = load(project / ".github" / "workflows" / "ci.yml")["jobs"]["gate"]
        step = next(s for s in gate["steps"] if s.get("name", "").startswith("Gate the prompt"))
        return step["run"], step["env"]
    own = load(project / "azure-pipelines.yml")["extends"]["parameters"]["stages"]
    stages = load(project / own)["stages"]
    gate = next(s for s in stages if s.get("stage") == "Gate")
    step = next(s for s in gate["jobs"][0]["steps"] if s.get("displayName") == "Evaluation gate")
    return step["bash"], step["env"]


@pytest.mark.slow
def test_llm_project_is_green_and_its_pipeline_gate_runs_offline(tmp_path: Path) -> None:
    """The LLM kind, as its README says: `make test` offline; the pull-request gate, run as
    the generated GitHub and Azure DevOps pipelines define it, writes the per-scorer table
    and registers a challenger; the same step fails a broken prompt."""
    project = render(
        tmp_path / "trade-intake", template=str(REPO_ROOT),
        data={"project_kind": "llm", "ci": "both"}, vcs_ref="HEAD",
    )  # fmt: skip
    assert run(["git", "init", "-q"], project).returncode == 0

    def shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command], cwd=project,
            env={**project_env(), **env}, capture_output=True, text=True, timeout=900,
            check=False,
        )  # fmt: skip

    tested = shell("make test")
    output = tested.stdout + tested.stderr
    assert tested.returncode == 0, output[-5000:]
    linted = shell("make lint")  # ruff, format, strict mypy, hadolint on the rendered kind
    assert linted.returncode == 0, (linted.stdout + linted.stderr)[-3000:]
    last = tested.stdout.splitlines()[-1]  # pytest's summary (uv's lines go to stderr)
    assert " passed" in last
    assert "failed" not in last
    assert "skipped" not in last
    for suite in ("test_extraction", "test_gate", "test_guardrails", "test_governance",
                  "test_service"):  # fmt: skip
        assert f"tests/{suite}.py ." in output, suite

    command, env = pipeline_step(project, "github")
    evaluated = shell(command, **env)
    assert evaluated.returncode == 0, (evaluated.stdout + evaluated.stderr)[-3000:]
    for scorer in ("schema_validity", "field_accuracy", "injection_refusal", "pii_redaction"):
        assert re.search(rf"^{scorer} +[01]\.\d+ .* pass$", evaluated.stdout, re.M), scorer
    assert "registered as version 1 with @challenger" in evaluated.stdout
    table = (project / "gate.md").read_text()
    assert table.startswith("### Evaluation gate passed")
    assert re.search(r"^\| field_accuracy \| [01]\.\d{4} \| >= 0\.9 \| pass \|$", table, re.M)

    # `make bench`, briefly (issue #35's figures come from it at its defaults): the fake
    # provider alone, the relay floor, the service and its traced run each answer every
    # request, and every goal gets its summary line. .ci/run installs wrk.
    benched = shell(
        "uv run python benchmarks/extraction.py --duration 1 --rounds 1 --clients 8 "
        "--latency-ms 20", APPROVER="ci-bench", REASON="benchmark smoke",
    )  # fmt: skip
    bench_answered_everything(
        benched,
        ["fake provider alone (baseline)", "relay to the provider (floor)",
         "this service -> fake provider", "... with 5% traced"],
        ["share of the Little's-law bound", "p99 / provider alone",
         "p99 / provider alone, 5% traced"],
    )  # fmt: skip

    prompt = project / "prompts" / "extract_trade.md"
    careless = [line for line in prompt.read_text().splitlines() if "refused" not in line]
    prompt.write_text("\n".join(careless) + "\n")
    (project / "gate.md").unlink()
    command, env = pipeline_step(project, "azure-devops")
    broken = shell(command, **env)
    assert broken.returncode != 0
    assert re.search(r"^injection_refusal +0\.\d+ .* FAIL$", broken.stdout, re.M), broken.stdout
    assert "error: evaluation gate failed: injection_refusal" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert "| injection_refusal | " in (project / "gate.md").read_text()
