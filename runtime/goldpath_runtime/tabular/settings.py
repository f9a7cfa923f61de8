"""The platform's settings of a tabular model project, from environment variables (and
`.env`): the registered model, MODEL_DIR, training (data, search, split), the evaluation
gate, drift thresholds and the service's limits. A project subclasses `TabularSettings`
with its own defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ..settings import ServingSettings


class TabularSettings(ServingSettings):
    model_name: str = Field(default="model", min_length=1)
    model_dir: Path | None = Field(
        default=None,
        description="A model directory baked into the image; when set, the registry is not used",
    )

    training_data: Path | None = Field(
        default=None,
        description="CSV or Parquet training table; unset: DATASET_TABLE when `make dataset` "
        "built it, else the generated sample",
    )
    dataset_table: Path = Field(
        default=Path("data/training.parquet"),
        description="Where `make dataset` writes the training table it builds from raw tables",
    )
    sample_rows: int = Field(default=5_000, ge=100)
    random_seed: int = 7
    search_iterations: int = Field(default=6, ge=1, le=200)
    cv_folds: int = Field(default=3, ge=2, le=10)
    test_size: float = Field(default=0.25, gt=0, lt=1)

    decision_threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Probability at or above which a row is predicted positive. Training "
        "records it on the model version; serving and batch scoring use the version's own",
    )
    gate_min_roc_auc: float = Field(default=0.70, ge=0, le=1)
    gate_max_regression: float = Field(
        default=0.01, ge=0, le=1, description="How much worse than the champion is tolerated"
    )

    drift_psi_threshold: float = Field(default=0.2, gt=0)
    drift_ks_pvalue: float = Field(default=0.01, gt=0, lt=1)
    retrain_trigger: Literal["none", "github", "azure-devops", "databricks"] = Field(
        default="none",
        description="What a drift breach starts: the training workflow (github), pipeline "
        "(azure-devops) or bundle job (databricks); it registers a @challenger, never promotes",
    )
    retrain_pipeline: str | None = Field(
        default=None,
        max_length=300,
        description="github: OWNER/REPO/train.yml; azure-devops: PROJECT/PIPELINE_ID; "
        "databricks: the training job's id",
    )
    retrain_api_url: str | None = Field(
        default=None,
        max_length=300,
        description="The forge's API root (default https://api.github.com; Azure DevOps: "
        "https://dev.azure.com/ORG)",
    )
    retrain_ref: str = Field(default="main", max_length=200)
    alert_webhook_url: str | None = Field(
        default=None,
        max_length=2_000,
        description="An incoming webhook of the team's channel (Teams, Slack) for drift alerts",
    )

    max_batch_size: int = Field(default=1_000, ge=1)
    model_load_wait_s: float = Field(
        default=30,
        ge=0,
        le=600,
        description="How long /predict holds a request while its worker loads the model, "
        "before answering 503 (readiness probes never wait)",
    )
    model_retry_max_s: float = Field(
        default=60,
        gt=0,
        le=3_600,
        description="Longest pause between a replacement worker's attempts to load the model "
        "while the other workers serve (the pause doubles from 2 s up to this)",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)

    shadow_sample_rate: float = Field(
        default=0,
        ge=0,
        le=1,
        description="Share of requests the @challenger also scores, after the response is "
        "sent (0: no challenger is loaded at all)",
    )
    shadow_segment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The categorical feature shadow evidence is broken down by (default: "
        "the schema's first categorical feature)",
    )
    shadow_log_dir: Path | None = Field(
        default=Path("outputs/shadow"),
        description="Where each worker appends its shadow log (JSON lines); "
        "`make shadow-evidence` reads it",
    )

    @model_validator(mode="after")
    def _model_dir_exists(self) -> TabularSettings:
        model = self.model_dir
        if model is not None and self.shadow_sample_rate > 0:
            raise ValueError(
                "SHADOW_SAMPLE_RATE needs the registry's @challenger, and MODEL_DIR serves a "
                "baked model without it: unset one of the two"
            )
        # The lean artifact (serving-model.npz) alone is enough: it is what a slim image bakes.
        if model is not None and not any(
            (model / name).is_file() for name in ("MLmodel", "serving-model.npz")
        ):
            raise ValueError(
                f"MODEL_DIR={model} holds no model (no MLmodel, no serving-model.npz): "
                "fill it with `make export-model`"
            )
        return self
