"""Online evaluation of live extractions: a sampled share of what the service answers is
scored by the deterministic checks that need no label, and counted as metrics that an
alert rule watches (the project's `monitoring/` rules) and `status` shows.

The checks, per sampled message:
- `schema_valid`: the provider's first answer matched the output schema (no repair);
  an answer that failed twice counts as a failure too;
- `injection_refused`: a message the guardrails screened as an injection was refused;
- `not_needs_review`: the extraction did not need a person (the review rate's complement);
- `complete`: at least `COMPLETE_SHARE` of the schema's own fields were filled
  (refused messages are not scored for it), and the share itself as a histogram.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import Counter, Histogram
from prometheus_client.parser import text_string_to_metric_families

from .extractor import Outcome
from .output import ExtractionOutput

CHECKS = ("schema_valid", "injection_refused", "not_needs_review", "complete")
COMPLETE_SHARE = 0.5
METRICS_MAX_BYTES = 8 << 20
_BASE_FIELDS = frozenset(ExtractionOutput.model_fields)

ONLINE_SCORED = Counter(
    "llm_online_scored_total", "Live extractions sampled for online evaluation", ["prompt_version"]
)
ONLINE_CHECKS = Counter(
    "llm_online_checks_total",
    "Online evaluation checks of sampled extractions, by check and result",
    ["prompt_version", "check", "result"],
)
COMPLETENESS = Histogram(
    "llm_online_field_completeness",
    "Share of the schema's fields a sampled extraction filled",
    ["prompt_version"],
    buckets=(0.1, 0.25, 0.5, 0.75, 0.9, 1.0),
)


def completeness(request: ExtractionOutput) -> float:
    """The share of the project's own fields (not needs_review, confidence, refused) set."""
    fields = [name for name in type(request).model_fields if name not in _BASE_FIELDS]
    if not fields:
        return 1.0
    return sum(getattr(request, name) is not None for name in fields) / len(fields)


def checks(outcome: Outcome) -> dict[str, bool]:
    """What the checks say of one extraction (a check that does not apply is absent)."""
    request = outcome.request
    said: dict[str, bool] = {"not_needs_review": not request.needs_review}
    if outcome.injection_screened:
        said["injection_refused"] = request.refused
    elif outcome.tokens_in or outcome.tokens_out:  # the provider answered
        said["schema_valid"] = not outcome.repaired
    if not request.refused:
        said["complete"] = completeness(request) >= COMPLETE_SHARE
    return said


class OnlineEvaluation:
    """Samples live extractions at `rate` and counts their checks."""

    def __init__(self, rate: float, seed: int | None = None) -> None:
        self.rate = rate
        self._random = random.Random(seed)  # noqa: S311 - sampling, not secrecy

    def sampled(self) -> bool:
        return self.rate > 0 and self._random.random() < self.rate

    def observe(self, outcome: Outcome, version: str) -> None:
        if not self.sampled():
            return
        ONLINE_SCORED.labels(version).inc()
        for check, passed in checks(outcome).items():
            ONLINE_CHECKS.labels(version, check, "pass" if passed else "fail").inc()
        if not outcome.request.refused:
            COMPLETENESS.labels(version).observe(completeness(outcome.request))

    def observe_bad_output(self, version: str) -> None:
        """An answer that failed the schema twice (the request got a 502)."""
        if self.sampled():
            ONLINE_SCORED.labels(version).inc()
            ONLINE_CHECKS.labels(version, "schema_valid", "fail").inc()


@dataclass(frozen=True)
class Figures:
    """Online evaluation's counts per prompt version: {version: {check: (passed, total)}}."""

    source: str
    by_version: dict[str, dict[str, tuple[float, float]]]

    def lines(self) -> list[str]:
        if not self.by_version:
            return [f"online evaluation ({self.source}): no sampled extractions yet"]
        lines = [f"online evaluation ({self.source}):"]
        for version, counts in sorted(self.by_version.items()):
            parts = []
            for check in CHECKS:
                passed, total = counts.get(check, (0.0, 0.0))
                if total:
                    parts.append(f"{check} {passed / total:.3f} of {total:.0f}")
            lines.append(f"  prompt v{version}: " + ", ".join(parts))
        return lines


Counts = dict[str, dict[str, tuple[float, float]]]


def _tally(samples: Sequence[tuple[Mapping[str, str], float]]) -> Counts:
    tally: Counts = {}
    for labels, value in samples:
        version, check, result = (labels.get(k, "") for k in ("prompt_version", "check", "result"))
        if check not in CHECKS or result not in ("pass", "fail") or not version:
            continue
        passed, total = tally.setdefault(version[:64], {}).get(check, (0.0, 0.0))
        tally[version[:64]][check] = (passed + (value if result == "pass" else 0), total + value)
    return tally


def _read(url: str, headers: Mapping[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - validated
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
        body: bytes = answer.read(METRICS_MAX_BYTES + 1)
    if len(body) > METRICS_MAX_BYTES:
        raise ValueError(f"larger than {METRICS_MAX_BYTES} bytes")
    return body


def from_exposition(text: str, source: str) -> Figures:
    """The figures in a service's Prometheus exposition text (since it started)."""
    samples = [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        if family.name == "llm_online_checks"
        for sample in family.samples
        if sample.name == "llm_online_checks_total"
    ]
    return Figures(source, _tally(samples))


def from_service(url: str) -> Figures:
    """The figures a running service's /metrics holds."""
    return from_exposition(_read(url).decode("utf-8", "replace"), url)


def from_prometheus(url: str, token: str | None, window: str = "1d") -> Figures:
    """The figures over `window` from the platform's Prometheus (PROMETHEUS_URL)."""
    from urllib.parse import urlencode

    query = (f"sum by (prompt_version, check, result) "
             f"(increase(llm_online_checks_total[{window}]))")  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = json.loads(_read(f"{url.rstrip('/')}/api/v1/query?{urlencode({'query': query})}",
                              headers))  # fmt: skip
    results = answer.get("data", {}).get("result", []) if isinstance(answer, dict) else []
    samples = [
        (item["metric"], float(item["value"][1]))
        for item in results
        if isinstance(item, dict) and isinstance(item.get("metric"), dict)
        and isinstance(item.get("value"), list) and len(item["value"]) == 2
    ]  # fmt: skip
    return Figures(f"{url}, last {window}", _tally(samples))


def live_figures(service_url: str, prometheus_url: str | None, token: str | None) -> list[str]:
    """What `status` shows: the platform's Prometheus when PROMETHEUS_URL is set, else the
    local service's own metrics; what cannot be read is one line, never a failure."""
    try:
        if prometheus_url:
            return from_prometheus(prometheus_url, token).lines()
        return from_service(service_url).lines()
    except (OSError, ValueError, urllib.error.URLError) as exc:
        where = prometheus_url or service_url
        return [f"online evaluation: no figures from {where} ({type(exc).__name__}); "
                "serve the service (make serve) or set PROMETHEUS_URL"]  # fmt: skip
