"""Training a tabular project's model: validate the data against its contract, search the
project's hyperparameters over its pipeline, evaluate against the gate and the current
champion, log everything (with the model card) to MLflow and register it as `challenger`."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mlflow
import pandas as pd
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import infer_signature
from sklearn.model_selection import RandomizedSearchCV, train_test_split

from ..errors import DataValidationError
from ..governance import load_record, trainer_identity
from ..lifecycle import CHALLENGER
from ..retraining import training_trigger
from ..store import connect, ensure_experiment
from .card import (
    bootstrap_interval,
    build_card,
    data_quality,
    fingerprint,
    render_markdown,
    segments,
    time_range,
)
from .dataset import lineage
from .gate import GateResult, classification_metrics, evaluate_gate
from .project import TabularProject
from .registry import SKOPS_TRUSTED_TYPES, THRESHOLD_TAG, alias_version, load_model_version
from .settings import TabularSettings as Settings
from .tables import read_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    version: str
    metrics: dict[str, float]
    gate: GateResult
    champion_version: str | None
    champion_roc_auc: float | None


# Below this, the hold-out split and the cross-validation folds have too few rows of a
# class to mean anything (or to run at all).
MIN_ROWS = 100
MIN_PER_CLASS = 10


def _enough_to_learn_from(data: pd.DataFrame, target: str) -> None:
    counts = data[target].value_counts()
    smallest = int(counts.min()) if len(counts) == len((0, 1)) else 0  # both classes present
    if len(data) < MIN_ROWS or smallest < MIN_PER_CLASS:
        raise DataValidationError(
            [
                f"{len(data)} rows ({smallest} in the smaller class of {target}); training "
                f"needs at least {MIN_ROWS}, with {MIN_PER_CLASS} of each class"
            ]
        )


def train(
    project: TabularProject,
    settings: Settings,
    frame: pd.DataFrame | None = None,
    built_from: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Train on `frame` (e.g. a Unity Catalog table, with what its history says it was
    built from), else on TRAINING_DATA or the sample."""
    schema = project.schema
    target_name = schema.target
    client = connect(settings)
    experiment_id = ensure_experiment(client, settings)
    # TRAINING_DATA, else the table `make dataset` built, else the generated sample.
    table = settings.training_data or (
        settings.dataset_table if settings.dataset_table.is_file() else None
    )
    if frame is not None:
        raw = frame
    elif table is not None:
        raw = read_table(table)
    else:
        raw = project.sample(settings.sample_rows, settings.random_seed)
    data = project.contract.validate_frame(raw, require_target=True)
    _enough_to_learn_from(data, target_name)
    # Read before any work: a project without its governance record registers nothing.
    governance = load_record(project.record())
    trainer = trainer_identity()
    source = "data-frame" if frame is not None else str(table or "generated-sample")
    # A table `make dataset` built says which raw inputs it came from (its manifest).
    if frame is None:
        built_from = None if table is None else lineage(table)
    features, target = data[list(schema.names)], data[target_name].to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        target,
        test_size=settings.test_size,
        stratify=target,
        random_state=settings.random_seed,
    )

    search = RandomizedSearchCV(
        project.pipeline(settings.random_seed),
        dict(project.search_space()),
        n_iter=settings.search_iterations,
        cv=settings.cv_folds,
        scoring="roc_auc",
        random_state=settings.random_seed,
        n_jobs=1,
    )
    search.fit(x_train, y_train)
    model = search.best_estimator_
    test_probability = model.predict_proba(x_test)[:, 1]
    metrics = classification_metrics(y_test, test_probability, settings.decision_threshold)

    # The champion is scored on the same hold-out rows, so the comparison is like for like.
    champion = alias_version(client, settings.model_name, settings.serving_alias)
    champion_auc = None
    if champion is not None:
        champion_model = load_model_version(settings, str(champion.version))
        _, champion_probability = champion_model.predict(x_test)
        champion_auc = classification_metrics(
            y_test, champion_probability, settings.decision_threshold
        )["roc_auc"]
    gate = evaluate_gate(
        metrics["roc_auc"],
        champion_auc,
        min_roc_auc=settings.gate_min_roc_auc,
        max_regression=settings.gate_max_regression,
    )

    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({k.removeprefix("model__"): v for k, v in search.best_params_.items()})
        mlflow.log_params(
            {
                "rows": len(data),
                "search_iterations": settings.search_iterations,
                "cv_folds": settings.cv_folds,
                "decision_threshold": settings.decision_threshold,
                "data": source,
            }
        )
        mlflow.log_metrics({f"test_{k}": v for k, v in metrics.items()})
        mlflow.log_metric("cv_roc_auc", float(search.best_score_))
        if champion_auc is not None:
            mlflow.log_metric("champion_test_roc_auc", champion_auc)
        mlflow.set_tags({"gate": "passed" if gate.passed else "failed"})
        predictions = model.predict(x_test)
        logged = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(x_test, predictions),
            input_example=x_test.head(3),
            registered_model_name=settings.model_name,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
        )
        version = str(logged.registered_model_version)
        digest = fingerprint(data)
        # A plain path reads as several source kinds, and integer columns get a hint: both
        # warnings are about schema inference the card does not use.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = from_pandas(
                data, source=source, name="training", targets=target_name, digest=digest[:16]
            )
            mlflow.log_input(dataset, context="training")
        card = build_card(
            schema, project.root,
            record=governance,
            version=version,
            trained_by=trainer,
            training_data={"source": source, "rows": len(data), "sha256": digest,
                           "time_range": time_range(raw, schema.event_time),
                           **({"built_from": dict(built_from)} if built_from else {})},
            metrics=metrics,
            roc_auc_95ci=bootstrap_interval(y_test, test_probability, settings.random_seed),
            segments=segments(x_test, y_test, test_probability, project.review_segment),
            gate={"outcome": "passed" if gate.passed else "failed", "reasons": gate.summary(),
                  "min_roc_auc": settings.gate_min_roc_auc,
                  "max_regression": settings.gate_max_regression},
            champion={"version": None if champion is None else str(champion.version),
                      "roc_auc": champion_auc},
            data_quality=data_quality(data, schema),
            run_id=run.info.run_id,
        )  # fmt: skip
        mlflow.log_dict(card, "model_card/card.json")
        mlflow.log_text(render_markdown(card), "model_card/card.md")

    name = settings.model_name
    client.set_model_version_tag(name, version, "gate", "passed" if gate.passed else "failed")
    client.set_model_version_tag(
        name, version, THRESHOLD_TAG, repr(float(settings.decision_threshold))
    )
    client.set_model_version_tag(name, version, "gate_reason", gate.summary())
    client.set_model_version_tag(name, version, "test_roc_auc", f"{metrics['roc_auc']:.6f}")
    # Who trained it: a high-risk promotion needs a validator other than this person.
    client.set_model_version_tag(name, version, "trained_by", trainer)
    # The card's summary on the version; the card itself is an artifact of the run.
    client.set_model_version_tag(name, version, "card_id", card["card_id"])
    card_uri = f"runs:/{run.info.run_id}/model_card/card.md"
    client.set_model_version_tag(name, version, "card", card_uri)
    client.set_model_version_tag(name, version, "training_data_sha256", digest)
    if built_from:
        raw_inputs = ", ".join(
            f"{t} {' '.join(version[:16] for version in v)}"
            for t, v in built_from["raw_inputs"].items()
        )
        client.set_model_version_tag(name, version, "data_raw_inputs", raw_inputs[:4_000])
    client.set_model_version_tag(name, version, "risk_tier", card["risk_tier"])
    trigger = training_trigger()
    if trigger is not None:  # a monitor's breach, say: why this challenger exists
        client.set_model_version_tag(name, version, "training_trigger", trigger)
    client.set_registered_model_alias(name, CHALLENGER, version)
    log.info(
        "trained",
        extra={
            "model": name,
            "version": version,
            "roc_auc": metrics["roc_auc"],
            "gate": gate.summary(),
        },
    )
    return TrainResult(
        run.info.run_id,
        version,
        metrics,
        gate,
        None if champion is None else str(champion.version),
        champion_auc,
    )
