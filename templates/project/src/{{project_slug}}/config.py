"""Settings from environment variables (and an optional `.env` file).

Defaults keep everything stateful local and inside the project: MLflow on a SQLite file
and an artifact folder under `.mlflow/` (git-ignored). Point MLFLOW_TRACKING_URI at a
tracking server, or `databricks`/`azureml://...`, to use a shared registry instead.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ProjectError

PACKAGE = __name__.split(".")[0]


def _local_store() -> Path:
    return Path.cwd() / ".mlflow"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    mlflow_tracking_uri: str = Field(
        default_factory=lambda: f"sqlite:///{_local_store() / 'mlflow.db'}",
        description="MLflow tracking store; a local SQLite file by default",
    )
    mlflow_registry_uri: str | None = Field(
        default=None, description="Model registry, when it differs from the tracking store"
    )
    mlflow_artifact_root: str = Field(
        default_factory=lambda: (_local_store() / "artifacts").as_uri(),
        description="Where new experiments store artifacts (local store only)",
    )
    experiment_name: str = PACKAGE
    model_name: str = Field(default=PACKAGE, min_length=1)
    serving_alias: str = Field(default="champion", pattern=r"^[A-Za-z][\w-]*$")
    model_dir: Path | None = Field(
        default=None,
        description="A model directory baked into the image; when set, the registry is not used",
    )

    training_data: Path | None = Field(
        default=None, description="CSV or Parquet training table; the generated sample if unset"
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
        description="Probability at or above which an RFQ is predicted won. Training records "
        "it on the model version; serving and batch scoring use the version's own value",
    )
    gate_min_roc_auc: float = Field(default=0.70, ge=0, le=1)
    gate_max_regression: float = Field(
        default=0.01, ge=0, le=1, description="How much worse than the champion is tolerated"
    )

    drift_psi_threshold: float = Field(default=0.2, gt=0)
    drift_ks_pvalue: float = Field(default=0.01, gt=0, lt=1)

    max_batch_size: int = Field(default=1_000, ge=1)
    model_load_wait_s: float = Field(
        default=30,
        ge=0,
        le=600,
        description="How long /predict holds a request while its worker loads the model, "
        "before answering 503 (readiness probes never wait)",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @model_validator(mode="after")
    def _model_dir_exists(self) -> Settings:
        if self.model_dir is not None and not (self.model_dir / "MLmodel").is_file():
            raise ValueError(
                f"MODEL_DIR={self.model_dir} is not an MLflow model directory (no MLmodel file)"
            )
        return self


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with one clear line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
            lines.append(f"{name}: {error['msg']}")
        raise ProjectError(
            "invalid setting(s): " + "; ".join(lines) + " (fix the environment variable or .env)"
        ) from None
