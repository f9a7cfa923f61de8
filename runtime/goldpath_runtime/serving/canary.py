"""Canary analysis: is the new revision as good as the stable one, on live traffic?

The pipeline sends a share of traffic to the canary revision, waits one window, then asks
the platform's Prometheus-compatible metrics (Google Managed Service for Prometheus,
Azure Monitor managed Prometheus, or any Prometheus) for both revisions' error rate and
p99 latency over that window, from the metrics every goldpath service exposes
(`http_requests_total`, `http_request_duration_seconds`; health and metrics routes left
out). The verdict:

- promote: enough canary requests, and neither its error rate nor its p99 is worse than
  the stable revision's beyond the thresholds;
- rollback: either is worse (the reasons say which, with both figures);
- no-verdict: too few canary requests in the window, or the metrics cannot be read. The
  pipeline rolls back on this too: no evidence, no promotion.

    python -m goldpath_runtime.serving.canary --prometheus URL \
        --stable 'revision="svc-00041"' --canary 'revision="svc-00042"' --window 10m

Exit code 0 promote, 1 rollback, 2 no verdict; the verdict as one JSON line on stdout.
The selectors are label matchers, checked before they reach a query; Prometheus' answers
are read as data (bounded, any shape refused in one line). A bearer token for a managed
Prometheus is read from PROMETHEUS_TOKEN, never from a flag.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

SHELL_ROUTES = '"/healthz|/readyz|/metrics|/docs|/openapi.json"'
MAX_ANSWER = 1 << 20
_MATCHER = r'[A-Za-z_][A-Za-z0-9_]*\s*(=|!=|=~|!~)\s*"[^"\\\n]{0,200}"'
_SELECTOR = re.compile(rf"^{_MATCHER}(\s*,\s*{_MATCHER}){{0,9}}$")
_WINDOW = re.compile(r"^[1-9][0-9]{0,4}[smh]$")


class CanaryError(Exception):
    """A setting or an answer the analysis cannot use; the message is one line."""


@dataclass(frozen=True)
class Thresholds:
    max_error_rate_increase: float = 0.01  # absolute: one percentage point over stable
    max_p99_ratio: float = 1.25  # the canary's p99 at most 25 % over stable's ...
    p99_slack_s: float = 0.025  # ... plus this, so a 2 ms stable p99 is no hair trigger
    min_requests: float = 50  # canary requests in the window, or no verdict


@dataclass(frozen=True)
class Measure:
    requests: float
    error_rate: float | None
    p99_s: float | None


@dataclass
class Verdict:
    decision: str  # promote, rollback, no-verdict
    stable: Measure | None = None
    canary: Measure | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"promote": 0, "rollback": 1}.get(self.decision, 2)


def check_selector(text: str, what: str) -> str:
    if not _SELECTOR.match(text.strip()):
        raise CanaryError(
            f'--{what}: {text[:80]!r} is not label matchers, e.g. revision="svc-00042"'
        )
    return text.strip()


def check_window(text: str) -> str:
    if not _WINDOW.match(text):
        raise CanaryError(f"--window: {text[:20]!r} is not a duration such as 30s, 10m or 1h")
    return text


class Prometheus:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise CanaryError(f"--prometheus: {url[:80]!r} is not an http(s) URL")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def value(self, query: str) -> float | None:
        """An instant query's single value (None when it has no sample)."""
        request = urllib.request.Request(  # noqa: S310 - the operator's http(s) URL, checked
            f"{self.url}/api/v1/query?{urlencode({'query': query})}",
            headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                data = answer.read(MAX_ANSWER + 1)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise CanaryError(f"Prometheus at {self.url} cannot be read ({exc})") from None
        if len(data) > MAX_ANSWER:
            raise CanaryError("Prometheus answered more than 1 MiB for one value")
        return _single(data)


def _single(data: bytes) -> float | None:
    try:
        answer: Any = json.loads(data)
        result = answer["data"]["result"] if answer.get("status") == "success" else None
    except (ValueError, RecursionError, TypeError, KeyError, AttributeError):
        result = None
    if not isinstance(result, list) or len(result) > 1:
        raise CanaryError("Prometheus answered something that is not one instant vector")
    if not result:
        return None
    try:
        value = float(result[0]["value"][1])
    except (TypeError, KeyError, IndexError, ValueError):
        raise CanaryError("Prometheus answered a sample without a number") from None
    return None if math.isnan(value) else value


def measure(prometheus: Prometheus, selector: str, window: str) -> Measure:
    served = f"{selector},route!~{SHELL_ROUTES}"
    requests = prometheus.value(f"sum(increase(http_requests_total{{{served}}}[{window}]))") or 0.0
    errors = prometheus.value(
        f'sum(increase(http_requests_total{{{served},status=~"5.."}}[{window}]))'
    )
    p99 = prometheus.value(
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{served}}}[{window}])))"
    )
    error_rate = (errors or 0.0) / requests if requests > 0 else None
    return Measure(requests, error_rate, p99)


def judge(stable: Measure, canary: Measure, limits: Thresholds) -> Verdict:
    verdict = Verdict("promote", stable, canary)
    if canary.requests < limits.min_requests or canary.error_rate is None:
        verdict.decision = "no-verdict"
        verdict.reasons.append(
            f"the canary served {canary.requests:.0f} requests in the window, fewer than "
            f"{limits.min_requests:.0f}: raise its traffic share or the window"
        )
        return verdict
    base_errors = stable.error_rate or 0.0
    if canary.error_rate > base_errors + limits.max_error_rate_increase:
        verdict.reasons.append(
            f"error rate {canary.error_rate:.2%} against stable's {base_errors:.2%} "
            f"(allowed: {limits.max_error_rate_increase:.2%} more)"
        )
    if canary.p99_s is not None and stable.p99_s is not None:
        allowed = stable.p99_s * limits.max_p99_ratio + limits.p99_slack_s
        if canary.p99_s > allowed:
            verdict.reasons.append(
                f"p99 {canary.p99_s * 1000:.0f} ms against stable's {stable.p99_s * 1000:.0f} "
                f"ms (allowed: {allowed * 1000:.0f} ms)"
            )
    if verdict.reasons:
        verdict.decision = "rollback"
    return verdict


def analyse(prometheus: Prometheus, stable: str, canary: str, window: str,
            limits: Thresholds) -> Verdict:  # fmt: skip
    try:
        return judge(measure(prometheus, stable, window), measure(prometheus, canary, window),
                     limits)  # fmt: skip
    except CanaryError as exc:
        return Verdict("no-verdict", reasons=[str(exc)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="canary", description=__doc__.split("\n\n")[0])
    parser.add_argument("--prometheus", required=True, help="the Prometheus API's base URL")
    parser.add_argument("--stable", required=True, help='label matchers, e.g. revision="a"')
    parser.add_argument("--canary", required=True, help='label matchers, e.g. revision="b"')
    parser.add_argument("--window", default="10m", help="the span analysed (default 10m)")
    defaults = Thresholds()
    parser.add_argument("--max-error-rate-increase", type=float,
                        default=defaults.max_error_rate_increase)  # fmt: skip
    parser.add_argument("--max-p99-ratio", type=float, default=defaults.max_p99_ratio)
    parser.add_argument("--p99-slack-s", type=float, default=defaults.p99_slack_s)
    parser.add_argument("--min-requests", type=float, default=defaults.min_requests)
    args = parser.parse_args(argv)
    try:
        prometheus = Prometheus(args.prometheus, os.environ.get("PROMETHEUS_TOKEN") or None)
        stable, canary = (
            check_selector(args.stable, "stable"),
            check_selector(args.canary, "canary"),
        )
        window = check_window(args.window)
    except CanaryError as exc:
        print(f"canary: error: {exc}", file=sys.stderr)
        return 2
    limits = Thresholds(args.max_error_rate_increase, args.max_p99_ratio, args.p99_slack_s,
                        args.min_requests)  # fmt: skip
    verdict = analyse(prometheus, stable, canary, window, limits)
    print(json.dumps({"decision": verdict.decision, "reasons": verdict.reasons,
                      "stable": asdict(verdict.stable) if verdict.stable else None,
                      "canary": asdict(verdict.canary) if verdict.canary else None}))  # fmt: skip
    print(f"canary: {verdict.decision}" + (f": {'; '.join(verdict.reasons)}" if verdict.reasons
                                           else ""), file=sys.stderr)  # fmt: skip
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
