"""Every Databricks variant renders a bundle that the typed bundle models accept, with
declared variables and complete targets; a broken bundle is rejected."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from generator._bundle import BundleError, validate_bundle

from .conftest import Render, option_product, run, tool

VARIANTS = option_product("cloud", "databricks_compute")


@pytest.mark.parametrize(("cloud", "compute"), VARIANTS)
def test_bundle_validates(rendered: Render, cloud: str, compute: str) -> None:
    project = rendered(cloud=cloud, databricks=True, databricks_compute=compute)
    bundle = validate_bundle(project)
    jobs = bundle["resources"]["jobs"]
    assert set(jobs) == {"dataset", "training", "batch_inference", "monitoring"}
    # The dataset job builds the table training reads; a breach of the monitor starts
    # the training job with its figures.
    dataset = jobs["dataset"]["tasks"][0]["python_wheel_task"]["parameters"]
    training = jobs["training"]["tasks"][0]["python_wheel_task"]["parameters"]
    assert dataset[dataset.index("--output-table") + 1] == training[training.index("--table") + 1]
    assert "--feature-table" in dataset  # looked up by rfq_id and requested_at
    monitor = jobs["monitoring"]["tasks"][0]["python_wheel_task"]["parameters"]
    assert monitor[monitor.index("--retrain-job-id") + 1] == "${resources.jobs.training.id}"
    assert jobs["training"]["parameters"] == [{"name": "trigger", "default": "schedule"}]
    for job in jobs.values():
        task = job["tasks"][0]
        assert task["python_wheel_task"]["package_name"] == "project"
        assert job["schedule"]["timezone_id"] == "UTC"
        if compute == "serverless":
            assert task["environment_key"] == "default"
            assert job["environments"][0]["spec"]["dependencies"] == ["../dist/*.whl"]
        else:
            assert task["job_cluster_key"] == "main"
            assert job["job_clusters"][0]["new_cluster"]["data_security_mode"] == "SINGLE_USER"
    model = bundle["resources"]["registered_models"]["model"]
    assert (model["catalog_name"], model["schema_name"]) == ("${var.catalog}", "${var.schema}")
    assert bundle["targets"]["prod"]["variables"]["catalog"] == "ml"
    result = run(
        [tool("yamllint"), "--strict", "-c", ".yamllint.yml", "databricks.yml", "resources"],
        project,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(("cloud", "compute"), VARIANTS)
def test_llm_bundle_validates_with_extraction_and_evaluation_jobs(
    rendered: Render, cloud: str, compute: str
) -> None:
    project = rendered(project_kind="llm", cloud=cloud, databricks=True, databricks_compute=compute)
    bundle = validate_bundle(project)
    jobs = bundle["resources"]["jobs"]
    assert set(jobs) == {"batch_extraction", "evaluation"}
    for job in jobs.values():
        parameters = job["tasks"][0]["python_wheel_task"]["parameters"]
        options = dict(zip(parameters[::2], parameters[1::2], strict=True))
        # Both jobs use the Unity Catalog prompt, the serving endpoint and a token budget.
        assert options["--prompt-name"] == "${var.catalog}.${var.schema}.extract_trade"
        assert options["--serving-endpoint"] == "${var.serving_endpoint}"
        assert options["--token-budget"] == "${var.token_budget}"
    extract = jobs["batch_extraction"]["tasks"][0]["python_wheel_task"]["parameters"]
    assert "${var.catalog}.${var.schema}.client_messages" in extract
    # Rows are kept as they arrive in the bundle's own volume: a rerun does not pay twice.
    options = dict(zip(extract[::2], extract[1::2], strict=True))
    assert options["--checkpoint-dir"] == (
        "/Volumes/${var.catalog}/${var.schema}/checkpoints/batch_extraction"
    )
    volume = bundle["resources"]["volumes"]["checkpoints"]
    assert (volume["name"], volume["catalog_name"], volume["schema_name"]) == (
        "checkpoints", "${var.catalog}", "${var.schema}",
    )  # fmt: skip
    evaluate = jobs["evaluation"]["tasks"][0]["python_wheel_task"]["parameters"]
    assert "${workspace.file_path}/prompts/extract_trade.md" in evaluate
    assert "schedule" not in jobs["evaluation"]  # on demand
    assert "registered_models" not in bundle["resources"]  # the prompt registry holds it
    assert int(bundle["variables"]["token_budget"]["default"]) > 0
    assert not (project / "resources" / "training.job.yml").exists()
    result = run(
        [tool("yamllint"), "--strict", "-c", ".yamllint.yml", "databricks.yml", "resources"],
        project,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("kind", ["tabular", "llm"])
def test_entry_points_exist_for_every_wheel_task(rendered: Render, kind: str) -> None:
    project = rendered(project_kind=kind, cloud="azure", databricks=True)
    pyproject = (project / "pyproject.toml").read_text()
    for job in validate_bundle(project)["resources"]["jobs"].values():
        entry_point = job["tasks"][0]["python_wheel_task"]["entry_point"]
        assert f"\n{entry_point} = " in pyproject, entry_point


def test_no_bundle_without_databricks(rendered: Render) -> None:
    project = rendered(cloud="gcp", databricks=False)
    assert not (project / "databricks.yml").exists()
    assert not (project / "resources").exists()
    assert not (project / "src" / "project" / "jobs.py").exists()
    assert not (project / "tests" / "test_spark.py").exists()


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda job: job.update(max_concurrent_runz=1), "Unexpected field 'max_concurrent_runz'"),
        (lambda job: job.update(max_concurrent_runs="many"), "invalid literal for int()"),
        (lambda job: job["tasks"][0]["python_wheel_task"].pop("entry_point"), "entry_point"),
        (lambda job: job["tasks"][0]["python_wheel_task"]["parameters"].append("${var.nope}"),
         "${var.nope} is used but not declared"),
    ],
)  # fmt: skip
def test_broken_bundle_is_rejected(
    rendered: Render, tmp_path: Path, breakage: object, message: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(rendered(cloud="azure", databricks=True), project)
    path = project / "resources" / "training.job.yml"
    document = yaml.safe_load(path.read_text())
    breakage(document["resources"]["jobs"]["training"])  # type: ignore[operator]
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(BundleError, match=re.escape(message)):
        validate_bundle(project)


def test_incomplete_targets_are_rejected(rendered: Render, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(rendered(cloud="azure", databricks=True), project)
    bundle = yaml.safe_load((project / "databricks.yml").read_text())
    del bundle["targets"]["prod"]["run_as"]
    del bundle["targets"]["staging"]
    (project / "databricks.yml").write_text(yaml.safe_dump(bundle))
    with pytest.raises(BundleError, match=r"target staging is missing.*target prod must run_as"):
        validate_bundle(project)


def test_a_broken_volume_is_rejected(rendered: Render, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(rendered(project_kind="llm", cloud="azure", databricks=True), project)
    path = project / "resources" / "ml.yml"
    document = yaml.safe_load(path.read_text())
    document["resources"]["volumes"]["checkpoints"]["volume_typ"] = "MANAGED"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(BundleError, match=re.escape("volumes.checkpoints: Unexpected field")):
        validate_bundle(project)
