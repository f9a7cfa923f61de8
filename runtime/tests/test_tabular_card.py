"""The tabular model card: the training table's time range or why there is none, data
quality per declared feature, the bootstrap interval and per-segment ROC AUC exactly as
scikit-learn computes them, and Markdown that names every section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from tabular_models import SCHEMA, sample

from goldpath_runtime.governance import load_record
from goldpath_runtime.tabular.card import (
    bootstrap_interval,
    build_card,
    data_quality,
    fingerprint,
    render_markdown,
    roc_auc_rows,
    segments,
    time_range,
)


def test_the_time_range_or_why_there_is_none() -> None:
    frame = sample(10).assign(at=pd.date_range("2026-01-05", periods=10, freq="D", tz="UTC"))
    assert time_range(frame, "at") == "2026-01-05T00:00:00+00:00 to 2026-01-14T00:00:00+00:00"
    assert time_range(frame.drop(columns=["at"]), "at") == "no at column in the training table"
    assert time_range(frame, None) == "the features declare no event time"
    as_text = frame.astype({"at": str})  # as a CSV gives it back
    as_text.loc[0, "at"] = "not a time"
    assert time_range(as_text, "at").endswith("(1 row(s) without a readable time)")
    assert time_range(as_text.assign(at="never"), "at") == "at holds no readable time"


@settings(max_examples=50, deadline=None)
@given(
    labels=st.lists(st.booleans(), min_size=2, max_size=60).filter(lambda v: 0 < sum(v) < len(v)),
    data=st.data(),
)
def test_the_vectorised_roc_auc_is_scikit_learns(labels: list[bool], data: st.DataObject) -> None:
    # Scores from a few values, so ties (which average ranks must handle) are common.
    scores = data.draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=len(labels),
                                max_size=len(labels)))  # fmt: skip
    got = roc_auc_rows(np.array([labels]), np.array([scores]))[0]
    assert got == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_the_bootstrap_interval_brackets_the_estimate() -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 500)
    probability = np.clip(truth * 0.3 + rng.random(500) * 0.7, 0, 1)
    low, high = bootstrap_interval(truth, probability)
    assert low < roc_auc_score(truth, probability) < high
    assert (low, high) == bootstrap_interval(truth, probability)  # seeded: reproducible


def test_segments_and_data_quality_follow_the_schema() -> None:
    frame = sample(400, seed=4)
    rows = segments(frame, frame["won"].to_numpy(), frame["spread"].to_numpy() / 500, "tier")
    assert [r["tier"] for r in rows] == ["bronze", "gold", "silver"]
    assert sum(r["rows"] for r in rows) == 400
    one_class = segments(frame, np.zeros(400), frame["spread"].to_numpy(), "tier")
    assert all(r["roc_auc"] is None for r in one_class)
    quality = data_quality(frame.assign(tier="gold"), SCHEMA)
    assert quality["tier"]["categories_missing"] == ["bronze", "silver"]
    assert quality["amount"]["nulls"] == 0
    assert 0 < quality["won"]["positive_rate"] < 1
    assert fingerprint(frame) == fingerprint(frame.copy()) != fingerprint(frame.head(399))


def test_the_card_in_markdown_names_every_section(tmp_path: Path) -> None:
    from conftest import write_record

    record = load_record(write_record(tmp_path / "governance.yml"))
    frame = sample(400, seed=4)
    card = build_card(
        SCHEMA, tmp_path, record=record, version="3", trained_by="trainer-tom",
        training_data={"source": "s", "rows": 400, "sha256": "f" * 64, "time_range": "-"},
        metrics={"roc_auc": 0.8}, roc_auc_95ci=(0.75, 0.85),
        segments=segments(frame, frame["won"].to_numpy(), frame["spread"].to_numpy(), "tier"),
        gate={"outcome": "passed", "reasons": "", "min_roc_auc": 0.7, "max_regression": 0.02},
        champion={"version": None, "roc_auc": None}, data_quality=data_quality(frame, SCHEMA),
        run_id="run-1",
    )  # fmt: skip
    assert card["card_id"]
    assert [f["name"] for f in card["features"]] == list(SCHEMA.names)
    text = render_markdown(card)
    assert text.startswith("# Model card: rfq_model v3")
    for section in ("## Training data", "## Evaluation (hold-out rows)", "By tier:",
                    "## Gate and champion", "## Data quality", "## Code"):  # fmt: skip
        assert section in text
