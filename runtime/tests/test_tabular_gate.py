"""The tabular evaluation gate: a floor on ROC AUC, and no worse than the champion on the
same hold-out rows beyond a tolerance; the metrics it reads."""

from __future__ import annotations

import numpy as np

from goldpath_runtime.tabular.gate import classification_metrics, evaluate_gate


def test_gate_passes_above_floor_without_champion() -> None:
    assert evaluate_gate(0.8, None, min_roc_auc=0.7, max_regression=0.01).passed


def test_gate_fails_below_floor() -> None:
    gate = evaluate_gate(0.65, None, min_roc_auc=0.7, max_regression=0.01)
    assert not gate.passed
    assert "below the minimum 0.7000" in gate.summary()


def test_gate_compares_with_champion() -> None:
    assert evaluate_gate(0.795, 0.80, min_roc_auc=0.7, max_regression=0.01).passed
    worse = evaluate_gate(0.78, 0.80, min_roc_auc=0.7, max_regression=0.01)
    assert not worse.passed
    assert "worse than the champion's 0.8000" in worse.summary()


def test_metrics_of_a_perfect_and_a_useless_ranking() -> None:
    truth = np.array([0, 0, 1, 1])
    perfect = classification_metrics(truth, np.array([0.1, 0.2, 0.8, 0.9]), threshold=0.5)
    assert perfect["roc_auc"] == perfect["accuracy"] == 1.0
    flat = classification_metrics(truth, np.full(4, 0.5), threshold=0.5)
    assert flat["roc_auc"] == 0.5
    assert flat["accuracy"] == 0.5
