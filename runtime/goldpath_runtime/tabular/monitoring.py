"""The monitoring run, locally (`python -m <package> monitor`) and as the bundle's job: drift
of recent inputs, and of the serving model's scores, against the training reference; on a
breach, the alert and the configured training trigger (goldpath_runtime.retraining), which
can only ever register a @challenger."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ModelNotFoundError
from ..retraining import Started, TriggerError, alert, start_training
from .drift import DriftReport, detect_drift
from .project import TabularProject
from .settings import TabularSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Monitored:
    report: DriftReport
    scored_by: str | None  # the serving model version whose scores were compared
    alerted: bool = False  # whether the team's channel took the alert
    started: Started | None = None  # the training run the breach started
    trigger_error: str | None = None  # why it could not be started


def champion_scorer(
    settings: TabularSettings,
) -> tuple[Callable[[pd.DataFrame], np.ndarray] | None, str | None]:
    """The serving model's probabilities, when there is one to load."""
    from .registry import load_serving_model

    try:
        model = load_serving_model(settings)
    except ModelNotFoundError as exc:
        log.warning("scores not compared: no serving model", extra={"reason": str(exc)})
        return None, None
    return (lambda frame: model.predict(frame)[1]), model.version


def monitor(
    project: TabularProject,
    settings: TabularSettings,
    reference: pd.DataFrame,
    current: pd.DataFrame,
) -> Monitored:
    scorer, version = champion_scorer(settings)
    report = detect_drift(
        project.contract, reference, current,
        psi_threshold=settings.drift_psi_threshold,
        ks_pvalue_threshold=settings.drift_ks_pvalue,
        scorer=scorer,
    )  # fmt: skip
    if not report.drifted:
        return Monitored(report, version)
    text = f"drift in {settings.model_name}: {report.summary()}"
    alerted = alert(settings, text)
    try:
        started = start_training(settings, text)
    except TriggerError as exc:
        return Monitored(report, version, alerted, None, str(exc))
    return Monitored(report, version, alerted, started)


def said(result: Monitored) -> list[str]:
    """What the run tells the person or the job log after the report, line by line."""
    lines = []
    if result.scored_by is None:
        lines.append("scores not compared: no serving model (make promote)")
    if not result.report.drifted:
        return [*lines, "no drift detected"]
    lines.append(f"drift detected: {result.report.summary()}")
    if result.started is not None:
        run = f" ({result.started.run})" if result.started.run else ""
        lines.append(
            f"training started through {result.started.trigger} {result.started.target}{run}: "
            "it registers a @challenger; promotion stays a person's decision"
        )
    elif result.trigger_error is not None:
        lines.append(f"error: training not started: {result.trigger_error}")
    else:
        lines.append("training not started: RETRAIN_TRIGGER is none")
    return lines
