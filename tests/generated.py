"""A generated project is green on its first `make test`, in its own uv environment: the
check each variant's test file runs (one file per variant, so CI's workers run them side
by side).

These are slow (each builds a project environment and trains real models); uv's cache is
shared with every other project on the machine, so after the first variant the
environment is linked from the cache, not downloaded.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from generator._process import project_env
from generator._template import REPO_ROOT, render

from .conftest import run

VARIANTS = {
    "fastapi": {"serving": "fastapi"},
    "flask": {"serving": "flask"},
    # Azure defaults to a Databricks bundle: its make test includes the PySpark engine test.
    "azure-databricks": {"cloud": "azure", "databricks": True},
    # The LLM kind's bundle: Spark-vs-pandas batch extraction against the fake provider.
    "llm-azure-databricks": {"project_kind": "llm", "cloud": "azure", "databricks": True},
    # GitLab CI (#30): the project's suite, run as a GitLab job runs it.
    "gitlab": {"ci": "gitlab", "serving": "flask"},
}
# The default variant runs its whole suite; the others run what differs from it (the
# Flask service; the Spark engine and batch jobs; the LLM kind's Spark extraction), which
# keeps CI inside its time budget. The LLM
# kind's whole suite runs in test_generated_llm_project.py.
# `make test` honours PYTEST_ADDOPTS: the command is the same, the selection narrower.
ONLY = {
    "fastapi": "",
    "flask": "tests/test_api.py tests/test_lean.py tests/test_shadow.py",
    "azure-databricks": "tests/test_spark.py tests/test_batch.py tests/test_dataset_spark.py",
    "llm-azure-databricks": "tests/test_spark_extraction.py tests/test_batch_extraction.py",
    "gitlab": "tests/test_governance.py tests/test_api.py",
}


GITHUB_ACTIONS_RUN = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "ci-bot",
                      "GITHUB_REPOSITORY": "acme-bank/rfq-model", "GITHUB_RUN_ID": "7"}  # fmt: skip
GITLAB_RUN = {"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "ci-bot", "CI_JOB_ID": "7",
              "CI_PROJECT_ID": "31", "CI_API_V4_URL": "https://gitlab.invalid/api/v4"}  # fmt: skip


def first_steps() -> list[str]:
    """`make setup`, the first commit and `make test`, from copier's closing message."""
    message = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())["_message_after_copy"]
    steps = [
        line.split("#")[0].strip()
        for line in message.splitlines()
        if line.strip().startswith(("make setup", "git init", "make test"))
    ]
    assert [s.split()[0:2] for s in steps] == [["make", "setup"], ["git", "init"], ["make", "test"]]
    return steps


def first_make_test_is_green(tmp_path: Path, variant: str) -> None:
    """Render the variant, take the first steps exactly as copier's closing message gives
    them, and check what `make test` ran."""
    project = render(
        tmp_path / "rfq-model", template=str(REPO_ROOT), data=VARIANTS[variant], vcs_ref="HEAD"
    )
    # The first steps exactly as copier's closing message gives them: the lock file is in
    # the first commit, so the tests leave the tree clean and copier update works.
    # As the project's own CI runs it: GitHub Actions' variables are set (decisions the
    # suite makes must stay local ones, whatever the runner says).
    runner = GITLAB_RUN if variant == "gitlab" else GITHUB_ACTIONS_RUN
    env = {**project_env(), "PYTEST_ADDOPTS": ONLY[variant], **runner}
    for step in first_steps():
        done = subprocess.run(
            ["bash", "-c", step], cwd=project, env=env, capture_output=True, text=True,
            timeout=900, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{step}:\n{(done.stdout + done.stderr)[-3000:]}"
        result = done
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert run(["git", "status", "--porcelain"], project).stdout == ""
    assert "uv.lock" in run(["git", "ls-files"], project).stdout
    if variant == "fastapi":
        # The project's own checks on what the template rendered: ruff, format, mypy
        # (strict, with the project's dependencies installed), hadolint.
        linted = subprocess.run(["make", "lint"], cwd=project, env=project_env(),
                                capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
        assert linted.returncode == 0, (linted.stdout + linted.stderr)[-3000:]
        updated = subprocess.run(
            [sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--vcs-ref",
             "HEAD"], cwd=project, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert updated.returncode == 0, updated.stderr[-2000:]
        assert "dirty" not in updated.stderr.lower()
        # The project's CLI is quiet by default: no MLflow INFO chatter (database
        # migrations, uv export) unless LOG_LEVEL=DEBUG.
        package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
        status = subprocess.run(
            ["uv", "run", "python", "-m", package, "status"], cwd=project,
            env={**project_env(), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'quiet.db'}"},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr[-2000:]
        assert "INFO" not in status.stderr, status.stderr
        assert "@champion" in status.stdout
        # `make bench`, briefly (issue #35's figures come from it at its defaults): this
        # service, `mlflow models serve` and the no-op ceiling each answer every request,
        # and every goal gets its summary line. .ci/run installs wrk.
        benched = subprocess.run(
            ["uv", "run", "python", "benchmarks/serving.py", "--duration", "1", "--rounds",
             "1", "--connections", "4", "--no-mlserver", "--no-alternatives",
             "--shadow-rate", "0"], cwd=project,
            env={**project_env(), "APPROVER": "ci-bench", "REASON": "benchmark smoke"},
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        bench_answered_everything(
            benched,
            ["this service (FastAPI)", "mlflow models serve", "HTTP ceiling (no-op app)"],
            ["share of the HTTP ceiling", "p99 at 4 connections",
             "throughput vs mlflow models serve"],
        )  # fmt: skip
    summary = result.stdout.splitlines()[-1]  # pytest's last line (uv writes to stderr)
    assert " passed" in summary
    assert "failed" not in summary
    # The real-server test ran, not skipped.
    assert "skipped" not in summary
    if variant in ("fastapi", "flask"):
        # The real-server smoke ran on this variant's shell, with the lean model's checks.
        assert re.search(r"tests/test_lean\.py \.{4}\s", output), output[-3000:]
    if variant == "azure-databricks":
        assert "tests/test_spark.py ." in output
        assert "tests/test_batch.py ." in output
    if variant == "llm-azure-databricks":
        assert re.search(r"tests/test_spark_extraction\.py \.{3}\s", output), output[-3000:]
        assert "tests/test_batch_extraction.py ." in output


def bench_answered_everything(
    benched: subprocess.CompletedProcess[str], servers: list[str], goals: list[str]
) -> None:
    """A brief `make bench` run: every server's row, each with requests answered and no
    error, and every goal's `target` line (figures on a busy CI machine mean nothing)."""
    assert benched.returncode == 0, (benched.stdout + benched.stderr)[-3000:]
    rows = re.findall(r"^(.+?) +([\d,.]+) +[\d.]+ +[\d.]+ +(\d+)$", benched.stdout, re.M)
    assert [row[0] for row in rows] == servers
    assert all(float(rps.replace(",", "")) > 0 and errors == "0" for _, rps, errors in rows)
    targets = re.findall(r"^target (.+?): .+ (met|NOT MET)$", benched.stdout, re.M)
    assert [goal for goal, _ in targets] == goals
