"""Drift between a reference sample (training data) and a current one (recent inputs), for
the features a project's contract declares.

Per feature: the population stability index (PSI, on reference quantile bins for numbers,
on categories for categoricals) and, for numbers, the two-sample Kolmogorov-Smirnov test.
A feature drifts when PSI exceeds its threshold or the KS p-value falls below its own.
The result is JSON for machines and HTML for people; the CLI exits 3 on drift so a
scheduled job fails loudly and its alerting fires.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .contract import Contract

DRIFT_EXIT_CODE = 3
# The row of the report for the serving model's scores (beside the features').
SCORE = "score"
_STYLE = "body { font-family: sans-serif } td, th { padding: 4px 12px } .drift { background: #fdd }"
_EPSILON = 1e-6


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI between two histograms of shares (each summing to 1)."""
    expected = np.clip(expected, _EPSILON, None)
    actual = np.clip(actual, _EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def numeric_psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> float:
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(reference, edges)[0] / len(reference)
    actual = np.histogram(current, edges)[0] / len(current)
    return psi(expected, actual)


def categorical_psi(reference: pd.Series, current: pd.Series, categories: tuple[str, ...]) -> float:
    expected = reference.value_counts(normalize=True).reindex(categories, fill_value=0)
    actual = current.value_counts(normalize=True).reindex(categories, fill_value=0)
    return psi(expected.to_numpy(), actual.to_numpy())


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float
    ks_pvalue: float | None
    drifted: bool


@dataclass(frozen=True)
class DriftReport:
    reference_rows: int
    current_rows: int
    psi_threshold: float
    ks_pvalue_threshold: float
    features: list[FeatureDrift]

    @property
    def drifted(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    def summary(self) -> str:
        """The breach in one line: each drifted feature with its figures."""
        parts = []
        for f in self.features:
            if f.drifted:
                ks = "" if f.ks_pvalue is None else f", KS p {f.ks_pvalue:.2g}"
                parts.append(f"{f.feature} (PSI {f.psi:.3f}{ks})")
        return ", ".join(parts)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "drifted": self.drifted}, indent=2)

    def to_html(self) -> str:
        rows = "\n".join(
            f'<tr class="{"drift" if f.drifted else "ok"}"><td>{html.escape(f.feature)}</td>'
            f"<td>{f.psi:.4f}</td><td>{'' if f.ks_pvalue is None else f'{f.ks_pvalue:.4g}'}</td>"
            f"<td>{'DRIFT' if f.drifted else 'ok'}</td></tr>"
            for f in self.features
        )
        verdict = f"Drift in {', '.join(self.drifted)}" if self.drifted else "No drift detected"
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report</title>
<style>{_STYLE}</style>
</head><body>
<h1>{html.escape(verdict)}</h1>
<p>Reference rows: {self.reference_rows}; current rows: {self.current_rows};
PSI threshold {self.psi_threshold}; KS p-value threshold {self.ks_pvalue_threshold}.</p>
<table><tr><th>feature</th><th>PSI</th><th>KS p-value</th><th></th></tr>
{rows}
</table></body></html>
"""


def detect_drift(
    contract: Contract,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    psi_threshold: float = 0.2,
    ks_pvalue_threshold: float = 0.01,
    scorer: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> DriftReport:
    """Both samples meet the contract first (one line per problem if not). With `scorer`
    (the serving model's probabilities), its scores on both samples are compared too."""
    reference, current = contract.validate_frame(reference), contract.validate_frame(current)
    results = []

    def compare(name: str, ref: pd.Series, cur: pd.Series, categories: tuple[str, ...]) -> None:
        if categories:
            value, pvalue = categorical_psi(ref, cur, categories), None
        else:
            value = numeric_psi(ref, cur)
            pvalue = float(stats.ks_2samp(ref, cur).pvalue)
        drifted = value > psi_threshold or (pvalue is not None and pvalue < ks_pvalue_threshold)
        results.append(FeatureDrift(name, value, pvalue, drifted))

    for feature in contract.schema.features:
        compare(feature.name, reference[feature.name], current[feature.name], feature.categories)
    if scorer is not None:
        names = list(contract.schema.names)
        compare(SCORE, pd.Series(scorer(reference[names])), pd.Series(scorer(current[names])), ())
    return DriftReport(len(reference), len(current), psi_threshold, ks_pvalue_threshold, results)


def write_report(report: DriftReport, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / "drift.json", directory / "drift.html"
    json_path.write_text(report.to_json())
    html_path.write_text(report.to_html())
    return json_path, html_path
