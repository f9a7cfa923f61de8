"""The model card of a registered tabular version: what it is for, what data and code made
it, how it was evaluated (overall, with a bootstrap interval, and per segment the team
reviews it by) and how it compares with the champion, in Markdown for people and JSON for
tools. A project's training writes both as artifacts of its run (`model_card/`) and puts
the card's id and a summary on the version's tags; serving and batch outputs carry it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..governance import Record, card_record_section, provenance, with_card_id

if TYPE_CHECKING:
    from .features import FeatureSchema

BOOTSTRAP_ROUNDS = 200


def fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of the table as trained on: same rows and values, same hash."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    columns = ",".join(f"{c}:{t}" for c, t in frame.dtypes.astype(str).items())
    return hashlib.sha256(columns.encode() + hashed.tobytes()).hexdigest()


def time_range(frame: pd.DataFrame, event_time: str | None) -> str:
    """First and last event time (ISO 8601) of the training table, or why there is none."""
    if event_time is None:
        return "the features declare no event time"
    if event_time not in frame.columns:
        return f"no {event_time} column in the training table"
    times = pd.to_datetime(frame[event_time], utc=True, errors="coerce", format="ISO8601")
    unreadable = int(times.isna().sum())
    if unreadable == len(times):
        return f"{event_time} holds no readable time"
    span = f"{times.min().isoformat()} to {times.max().isoformat()}"
    return span + (f" ({unreadable} row(s) without a readable time)" if unreadable else "")


def data_quality(frame: pd.DataFrame, schema: FeatureSchema) -> dict[str, Any]:
    """Nulls, ranges and category coverage per column."""
    summary: dict[str, Any] = {}
    for name in schema.numeric:
        column = frame[name]
        summary[name] = {
            "nulls": int(column.isna().sum()),
            "min": float(column.min()),
            "max": float(column.max()),
            "mean": float(column.mean()),
        }
    for feature in schema.features:
        if feature.is_categorical:
            seen = set(frame[feature.name].astype(str).unique())
            summary[feature.name] = {
                "nulls": int(frame[feature.name].isna().sum()),
                "categories_seen": sorted(seen & set(feature.categories)),
                "categories_missing": sorted(set(feature.categories) - seen),
            }
    summary[schema.target] = {"positive_rate": float(frame[schema.target].mean())}
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
        scores.append(roc_auc_rows(labels[both], scored[both]))
    low, high = np.percentile(np.concatenate(scores), [2.5, 97.5])
    return float(low), float(high)


def roc_auc_rows(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The ROC AUC of each row: the Mann-Whitney U statistic with average ranks for ties,
    which is exactly roc_auc_score's value."""
    ranks = stats.rankdata(scores, axis=1)
    positives = labels.sum(axis=1)
    negatives = labels.shape[1] - positives
    u = (ranks * labels).sum(axis=1) - positives * (positives + 1) / 2
    return u / (positives * negatives)  # type: ignore[no-any-return]


def segments(
    x_test: pd.DataFrame, y_test: np.ndarray, probability: np.ndarray, segment: str
) -> list[dict[str, Any]]:
    """ROC AUC per value of the `segment` column (none where a value has one class)."""
    rows = []
    for value in sorted(x_test[segment].astype(str).unique()):
        mask = (x_test[segment].astype(str) == value).to_numpy()
        labels = y_test[mask].astype(bool)
        auc = None
        if labels.any() and not labels.all():
            auc = float(roc_auc_rows(labels[None, :], probability[mask][None, :])[0])
        rows.append({segment: value, "rows": int(mask.sum()), "positives": int(labels.sum()),
                     "roc_auc": auc})  # fmt: skip
    return rows


def build_card(schema: FeatureSchema, project_root: Path, **facts: Any) -> dict[str, Any]:
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
            for f in schema.features
        ],
        "metrics": facts["metrics"],
        "roc_auc_95ci": facts["roc_auc_95ci"],
        "segments": facts["segments"],
        "gate": facts["gate"],
        "champion": facts["champion"],
        "data_quality": facts["data_quality"],
        "code": provenance(project_root),
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
        *_segment_table(card["segments"]),
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


def _segment_table(rows: list[dict[str, Any]]) -> list[str]:
    """Per-segment results; the first key of each row is the segment's column."""
    if not rows:
        return []
    segment = next(iter(rows[0]))
    return [
        f"By {segment}:",
        "",
        f"| {segment} | rows | positives | roc_auc |",
        "|---|---|---|---|",
        *(
            f"| {s[segment]} | {s['rows']} | {s['positives']} | "
            f"{'-' if s['roc_auc'] is None else format(s['roc_auc'], '.4f')} |"
            for s in rows
        ),
        "",
    ]
