"""Metrics and the evaluation gate: the rule a challenger must pass to become champion
(its thresholds are settings: GATE_MIN_ROC_AUC, GATE_MAX_REGRESSION)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, brier_score_loss, roc_auc_score


def classification_metrics(
    y_true: np.ndarray, probability: np.ndarray, threshold: float
) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y_true, probability)),
        "average_precision": float(average_precision_score(y_true, probability)),
        "brier": float(brier_score_loss(y_true, probability)),
        "accuracy": float(accuracy_score(y_true, probability >= threshold)),
    }


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return "passed" if self.passed else "; ".join(self.reasons)


def evaluate_gate(
    roc_auc: float,
    champion_roc_auc: float | None,
    *,
    min_roc_auc: float,
    max_regression: float,
) -> GateResult:
    """Pass when ROC AUC clears the floor and is no worse than the champion's (on the same
    hold-out rows) by more than `max_regression`."""
    reasons = []
    if roc_auc < min_roc_auc:
        reasons.append(f"roc_auc {roc_auc:.4f} is below the minimum {min_roc_auc:.4f}")
    if champion_roc_auc is not None and roc_auc < champion_roc_auc - max_regression:
        reasons.append(
            f"roc_auc {roc_auc:.4f} is worse than the champion's {champion_roc_auc:.4f} "
            f"by more than {max_regression:.4f}"
        )
    return GateResult(passed=not reasons, reasons=reasons)
