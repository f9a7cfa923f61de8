"""A challenger scored in the shadow of live traffic: the service loads `@challenger` beside
`@champion` and, for a sampled share of requests, scores the same rows with it after the
response has gone (never on the request path), recording how the two agree.

A worker hands a sampled request's rows and the champion's scores to a bounded list (a
full list drops the sample and counts it); one background thread scores what is there in
batches with the challenger and writes metrics and a line per request to the shadow log.
A line holds counts and score differences by segment (a categorical feature's value),
never the request's features.
`shadow_evidence` reads the log back into the evidence a promotion can require.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import Counter, Histogram

from ..errors import ProjectError
from .shadow_evidence import SHADOW_LOG_PREFIX

if TYPE_CHECKING:
    from .features import FeatureSchema
    from .predictor import Predictor
    from .settings import TabularSettings

CHALLENGER = "challenger"

log = logging.getLogger(__name__)

# A worker's shadow log is rotated once past this size (one previous file kept).
SHADOW_LOG_MAX_BYTES = 32 << 20
# Segment values longer than this are cut: a label is a category of the contract, not text.
SEGMENT_MAX_CHARS = 64

SHADOW_REQUESTS = Counter(
    "shadow_requests_total",
    "Sampled requests offered to the shadow challenger, by outcome",
    ["challenger", "outcome"],
)
SHADOW_ROWS = Counter(
    "shadow_rows_total", "Rows the challenger scored in the shadow", ["challenger", "segment"]
)
SHADOW_AGREEMENTS = Counter(
    "shadow_agreements_total",
    "Shadow rows where the challenger's label equals the champion's",
    ["challenger", "segment"],
)
SHADOW_DIFFERENCE = Histogram(
    "shadow_score_difference",
    "Absolute difference between challenger and champion probabilities, per row",
    ["challenger"],
    buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
)
SHADOW_LATENCY = Histogram(
    "shadow_scoring_seconds",
    "Challenger scoring time per sampled request (scored in batches, off the request path)",
    ["challenger"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


@dataclass(frozen=True)
class Sample:
    rows: list[dict[str, Any]]
    champion_probability: np.ndarray
    champion_labels: np.ndarray


class ShadowLog:
    """This worker's JSON-lines file in `directory`, kept open; writing never fails a
    request: a directory that cannot be written is said once and the metrics carry on."""

    def __init__(self, directory: Path | None) -> None:
        name = f"{SHADOW_LOG_PREFIX}{os.getpid()}.jsonl"
        self.path = None if directory is None else directory / name
        self._handle: Any = None
        self._size = 0
        self._broken = False

    def write(self, lines: list[dict[str, Any]]) -> None:
        if self.path is None or self._broken or not lines:
            return
        text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        try:
            if self._handle is None or self._size > SHADOW_LOG_MAX_BYTES:
                self._open()
            # Whole lines in one write, flushed: a killed worker leaves whole lines.
            self._handle.write(text)
            self._handle.flush()
            self._size += len(text)
        except OSError as exc:
            self._broken = True
            log.warning("shadow log not writable; metrics only", extra={"error": str(exc)})

    def _open(self) -> None:
        assert self.path is not None
        if self._handle is not None:
            self._handle.close()
            os.replace(self.path, self.path.with_suffix(".jsonl.1"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("a", encoding="utf-8")
        self._size = self.path.stat().st_size

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class Shadow:
    """Scores a sampled share of requests with the challenger on a background thread.

    A request only appends its sample to a bounded list; the thread wakes every
    `interval_s`, takes what is there and scores it as one batch. Handing each sample
    over on its own (a queue the thread waits on) made the thread and the event loop
    trade the interpreter lock hundreds of times a second, which cost far more than the
    scoring (`make bench`)."""

    def __init__(
        self,
        challenger: Predictor,
        champion_version: str,
        *,
        rate: float,
        segment: str | None,
        log_dir: Path | None,
        max_pending: int = 2_000,
        interval_s: float = 0.05,
        seed: int | None = None,
    ) -> None:
        self.challenger = challenger
        self.version = str(challenger.model.version)
        self.champion_version = str(champion_version)
        self.rate = rate
        self.segment = segment
        self.log = ShadowLog(log_dir)
        self.max_pending = max_pending
        self.interval_s = interval_s
        self._random = random.Random(seed)  # noqa: S311 - sampling, not secrecy
        self._pending: deque[Sample] = deque()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shadow", daemon=True)
        self._thread.start()

    def sampled(self) -> bool:
        return self._random.random() < self.rate

    def offer(
        self, rows: list[dict[str, Any]], probability: np.ndarray, labels: np.ndarray
    ) -> None:
        """Hand a sampled request over (call after its response is sent); never blocks."""
        if len(self._pending) >= self.max_pending:
            SHADOW_REQUESTS.labels(self.version, "dropped").inc()
            return
        self._pending.append(Sample(rows, probability, labels))

    def stop(self, timeout: float = 10) -> None:
        """Score what is pending, then end the thread."""
        self._stopping.set()
        self._thread.join(timeout)
        self.log.close()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            self._drain()
        self._drain()

    def _drain(self) -> None:
        batch: list[Sample] = []
        while self._pending:
            batch.append(self._pending.popleft())
        if not batch:
            return
        try:
            self._score(batch)
        except Exception:  # the challenger's failure is evidence, never the service's
            SHADOW_REQUESTS.labels(self.version, "failed").inc(len(batch))
            log.exception("shadow scoring failed", extra={"challenger": self.version})

    def _score(self, batch: list[Sample]) -> None:
        rows = [row for sample in batch for row in sample.rows]
        started = time.perf_counter()
        probability = self.challenger.score(rows)
        elapsed = time.perf_counter() - started
        labels = self.challenger.model.labels(probability)
        champion = np.concatenate([sample.champion_probability for sample in batch])
        difference = np.abs(probability - champion)
        agree = labels == np.concatenate([sample.champion_labels for sample in batch])
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        share_ms = round(elapsed * 1000 / len(batch), 4)  # the batch's time, per request
        totals: dict[str, list[int]] = {}
        lines, offset = [], 0
        for sample in batch:
            segments: dict[str, list[float]] = {}
            for index, row in enumerate(sample.rows, offset):
                value = "all" if self.segment is None else str(row.get(self.segment, ""))
                counts = segments.setdefault(value[:SEGMENT_MAX_CHARS], [0, 0, 0.0])
                counts[0] += 1
                counts[1] += int(agree[index])
                counts[2] += float(difference[index])
            span = slice(offset, offset + len(sample.rows))
            offset = span.stop
            lines.append({
                "at": at, "champion": self.champion_version, "challenger": self.version,
                "rows": len(sample.rows), "agreed": int(agree[span].sum()),
                "sum_abs_diff": float(difference[span].sum()),
                "max_abs_diff": float(difference[span].max()), "latency_ms": share_ms,
                "segments": {k: [int(v[0]), int(v[1]), round(v[2], 6)]
                             for k, v in segments.items()},
            })  # fmt: skip
            for value, (count, agreed, _) in segments.items():
                total = totals.setdefault(value, [0, 0])
                total[0] += int(count)
                total[1] += int(agreed)
        SHADOW_REQUESTS.labels(self.version, "scored").inc(len(batch))
        SHADOW_LATENCY.labels(self.version).observe(elapsed / len(batch))
        for value in difference:
            SHADOW_DIFFERENCE.labels(self.version).observe(float(value))
        for value, (count, agreed) in totals.items():
            SHADOW_ROWS.labels(self.version, value).inc(count)
            SHADOW_AGREEMENTS.labels(self.version, value).inc(agreed)
        self.log.write(lines)


def segment_of(schema: FeatureSchema, named: str | None) -> str | None:
    """The feature shadow evidence is broken down by: `named` if it is a categorical
    feature of the schema, else the schema's first categorical one (None: no breakdown)."""
    if named is not None:
        if named not in schema.categorical:
            choices = ", ".join(schema.categorical) or "none"
            raise ProjectError(
                f"SHADOW_SEGMENT={named} is not a categorical feature of the schema "
                f"(categorical features: {choices})"
            )
        return named
    return schema.categorical[0] if schema.categorical else None


def start_shadow(
    settings: TabularSettings,
    loader: Callable[[Any], Predictor],
    champion: Predictor,
    schema: FeatureSchema,
) -> Shadow | None:
    """The shadow challenger when SHADOW_SAMPLE_RATE asks for one. No @challenger, or one
    that is the champion, leaves the service serving unshadowed, with one log line."""
    if settings.shadow_sample_rate <= 0:
        return None
    segment = segment_of(schema, settings.shadow_segment)
    try:
        challenger = loader(settings.model_copy(update={"serving_alias": CHALLENGER}))
    except ProjectError as exc:
        log.warning("no challenger to shadow; serving without", extra={"reason": str(exc)})
        return None
    if str(challenger.model.version) == str(champion.model.version):
        log.warning("@challenger is the champion; nothing to shadow",
                    extra={"version": champion.model.version})  # fmt: skip
        return None
    shadow = Shadow(
        challenger, str(champion.model.version), rate=settings.shadow_sample_rate,
        segment=segment, log_dir=settings.shadow_log_dir,
    )  # fmt: skip
    log.info("challenger loaded in the shadow", extra={
        "challenger": shadow.version, "champion": shadow.champion_version,
        "rate": settings.shadow_sample_rate})  # fmt: skip
    return shadow
