"""The model card of a registered version: what it is for, what data and code made it, how
it was evaluated and how it compares with the champion, in Markdown for people and JSON
for tools. Training writes both as artifacts of its run (`model_card/`) and puts the
card's id and a summary on the version's tags; serving and batch outputs carry that id.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
from goldpath_runtime.governance import Record, card_record_section, provenance, with_card_id
from scipy import stats
from sklearn.metrics import roc_auc_score

from .config import PROJECT_ROOT
from .schema import EVENT_TIME, FEATURES, NUMERIC_FEATURES, TARGET

SEGMENT = "client_tier"  # per-segment results: the desk reviews the model by client tier
BOOTSTRAP_ROUNDS = 200


def fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of the table as trained on: same rows and values, same hash."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    columns = ",".join(f"{c}:{t}" for c, t in frame.dtypes.astype(str).items())
    return hashlib.sha256(columns.encode() + hashed.tobytes()).hexdigest()


def time_range(frame: pd.DataFrame) -> str:
    """First and last EVENT_TIME (ISO 8601) of the training table, or why there is none."""
    if EVENT_TIME not in frame.columns:
        return f"no {EVENT_TIME} column in the training table"
    times = pd.to_datetime(frame[EVENT_TIME], utc=True, errors="coerce", format="ISO8601")
    unreadable = int(times.isna().sum())
    if unreadable == len(times):
        return f"{EVENT_TIME} holds no readable time"
    span = f"{times.min().isoformat()} to {times.max().isoformat()}"
    return span + (f" ({unreadable} row(s) without a readable time)" if unreadable else "")


def data_quality(frame: pd.DataFrame) -> dict[str, Any]:
    """Nulls, ranges and category coverage per column."""
    summary: dict[str, Any] = {}
    for name in NUMERIC_FEATURES:
        column = frame[name]
        summary[name] = {
            "nulls": int(column.isna().sum()),
            "min": float(column.min()),
            "max": float(column.max()),
            "mean": float(column.mean()),
        }
    for feature in FEATURES:
        if feature.is_categorical:
            seen = set(frame[feature.name].astype(str).unique())
            summary[feature.name] = {
                "nulls": int(frame[feature.name].isna().sum()),
                "categories_seen": sorted(seen & set(feature.categories)),
                "categories_missing": sorted(set(feature.categories) - seen),
            }
    summary[TARGET] = {"positive_rate": float(frame[TARGET].mean())}
    return summary


def bootstrap_interval(
    y_true: np.ndarray, probability: np.ndarray, seed: int = 0
) -> tuple[float, float]:
    """95 % bootstrap interval of the ROC AUC on the hold-out rows."""
    rng = np.random.default_rng(seed)
    scores: list[np.ndarray] = []
    # Resamples scored together, a block at a time: one roc_auc_score call per resample
    # cost more than the rest of training on small tables.
    for start in range(0, BOOTSTRAP_ROUNDS, 25):
        rounds = min(25, BOOTSTRAP_ROUNDS - start)
        picks = rng.integers(0, len(y_true), (rounds, len(y_true)))
        labels, scored = y_true[picks].astype(bool), probability[picks]
        both = labels.any(axis=1) & ~labels.all(axis=1)
        scores.append(_roc_auc_rows(labels[both], scored[both]))
    low, high = np.percentile(np.concatenate(scores), [2.5, 97.5])
    return float(low), float(high)


def _roc_auc_rows(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The ROC AUC of each row: the Mann-Whitney U statistic with average ranks for ties,
    which is exactly roc_auc_score's value."""
    ranks = stats.rankdata(scores, axis=1)
    positives = labels.sum(axis=1)
    negatives = labels.shape[1] - positives
    u = (ranks * labels).sum(axis=1) - positives * (positives + 1) / 2
    return u / (positives * negatives)  # type: ignore[no-any-return]


def segments(
    x_test: pd.DataFrame, y_test: np.ndarray, probability: np.ndarray
) -> list[dict[str, Any]]:
    rows = []
    for value in sorted(x_test[SEGMENT].astype(str).unique()):
        mask = (x_test[SEGMENT].astype(str) == value).to_numpy()
        labels = y_test[mask]
        auc = float(roc_auc_score(labels, probability[mask])) if len(set(labels)) > 1 else None
        rows.append({SEGMENT: value, "rows": int(mask.sum()), "positives": int(labels.sum()),
                     "roc_auc": auc})  # fmt: skip
    return rows


def build_card(**facts: Any) -> dict[str, Any]:
    """The card as data. `facts` are what training knows; the rest is read here."""
    record: Record = facts.pop("record")
    card = {
        "model": record.model,
        "version": facts["version"],
        **record.card_fields(),
        "trained_by": facts["trained_by"],
        "training_data": facts["training_data"],
        "features": [
            {"name": f.name, "description": f.description, "categories": list(f.categories)}
            for f in FEATURES
        ],
        "metrics": facts["metrics"],
        "roc_auc_95ci": facts["roc_auc_95ci"],
        "segments": facts["segments"],
        "gate": facts["gate"],
        "champion": facts["champion"],
        "data_quality": facts["data_quality"],
        "code": provenance(PROJECT_ROOT),
        "mlflow_run_id": facts["run_id"],
    }
    return with_card_id(card)


def render_markdown(card: dict[str, Any]) -> str:
    data, gate, champion, code = (card[k] for k in ("training_data", "gate", "champion", "code"))
    low, high = card["roc_auc_95ci"]
    lines = [
        f"# Model card: {card['model']} v{card['version']}",
        "",
        f"Card `{card['card_id']}`; owner {card['owner']} ({card['owner_email']}); "
        f"risk tier **{card['risk_tier']}**; trained by {card['trained_by']}.",
        "",
        *card_record_section(card),
        "## Training data",
        "",
        f"- source: {data['source']}",
        f"- rows: {data['rows']}, time range: {data['time_range']}",
        f"- content hash (sha256): `{data['sha256']}`",
        "",
        "## Evaluation (hold-out rows)",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {k} | {v:.4f} |" for k, v in card["metrics"].items()),
        f"| roc_auc 95% bootstrap interval | {low:.4f} to {high:.4f} |",
        "",
        f"By {SEGMENT}:",
        "",
        f"| {SEGMENT} | rows | positives | roc_auc |",
        "|---|---|---|---|",
        *(
            f"| {s[SEGMENT]} | {s['rows']} | {s['positives']} | "
            f"{'-' if s['roc_auc'] is None else format(s['roc_auc'], '.4f')} |"
            for s in card["segments"]
        ),
        "",
        "## Gate and champion",
        "",
        f"- gate: **{gate['outcome']}** (ROC AUC at least {gate['min_roc_auc']}, at most "
        f"{gate['max_regression']} below the champion)"
        + ("" if gate["outcome"] == "passed" else f": {gate['reasons']}"),
        f"- champion at training: {champion['version'] or 'none'}"
        + (f", ROC AUC {champion['roc_auc']:.4f} on the same rows" if champion["roc_auc"] else ""),
        "",
        "## Data quality",
        "",
        "```json",
        json.dumps(card["data_quality"], indent=2),
        "```",
        "",
        "## Code",
        "",
        f"- git commit: {code['git_commit'] or '-'}",
        f"- template version: {code['template_version'] or '-'}",
        f"- uv.lock sha256: {code['lock_sha256'] or '-'}",
        f"- CI run: {code['ci_run'] or '- (trained locally)'}",
        f"- MLflow run: {card['mlflow_run_id']}",
        "",
    ]
    return "\n".join(lines)
