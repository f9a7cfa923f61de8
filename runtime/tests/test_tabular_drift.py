"""Drift: quiet on a fresh sample of the same distribution, loud on a shift in a number or
a category, both samples held to the contract first, reports a person and a job can read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tabular_models import SCHEMA, sample

from goldpath_runtime.errors import DataValidationError
from goldpath_runtime.tabular.contract import Contract
from goldpath_runtime.tabular.drift import detect_drift, numeric_psi, write_report

CONTRACT = Contract(SCHEMA)


def test_the_same_distribution_does_not_drift(tmp_path: Path) -> None:
    report = detect_drift(CONTRACT, sample(4_000, seed=1), sample(4_000, seed=2))
    assert report.drifted == []
    assert all(f.psi < 0.05 for f in report.features)
    json_path, html_path = write_report(report, tmp_path / "drift")
    assert json.loads(json_path.read_text())["drifted"] == []
    assert "No drift detected" in html_path.read_text()


def test_a_shifted_number_and_category_drift(tmp_path: Path) -> None:
    current = sample(4_000, seed=2)
    current["spread"] = current["spread"] * 1.8
    current["tier"] = "bronze"
    report = detect_drift(CONTRACT, sample(4_000, seed=1), current)
    assert set(report.drifted) == {"spread", "tier"}
    spread = next(f for f in report.features if f.feature == "spread")
    assert spread.psi > 0.2
    assert spread.ks_pvalue is not None
    assert spread.ks_pvalue < 0.01
    _, html_path = write_report(report, tmp_path)
    assert "Drift in spread, tier" in html_path.read_text()


def test_psi_is_zero_for_identical_samples() -> None:
    amounts = sample(1_000)["amount"]
    assert numeric_psi(amounts, amounts) == pytest.approx(0.0, abs=1e-9)


def test_a_sample_outside_the_contract_is_refused_not_measured() -> None:
    current = sample(100).assign(tier="platinum")
    with pytest.raises(DataValidationError, match=r"tier: must be one of"):
        detect_drift(CONTRACT, sample(100), current)


def test_a_feature_name_is_escaped_in_the_page(tmp_path: Path) -> None:
    from goldpath_runtime.tabular.drift import DriftReport, FeatureDrift

    report = DriftReport(1, 1, 0.2, 0.01, [FeatureDrift("<script>x</script>", 1.0, None, True)])
    page = report.to_html()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
