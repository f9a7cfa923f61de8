"""The live evidence a challenger earned in the shadow of `@champion`, read back from the
workers' shadow logs (`shadow.py`) and recorded on the challenger's version: tags that
`make status`, the technical documentation and a promotion read, and a card section
beside the model card.

The logs are read as untrusted text: files and lines are bounded, a line that is not one
of ours is counted and skipped, and only lines about this champion and this challenger
count (a challenger's evidence against an earlier champion says nothing of this one).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ProjectError

if TYPE_CHECKING:
    from .settings import TabularSettings

SHADOW_LOG_PREFIX = "shadow-"
LOG_MAX_BYTES = 64 << 20
LINE_MAX_BYTES = 64 << 10
SEGMENTS_SHOWN = 20
# Version tags the evidence is recorded as (`status` shows the first two).
REQUESTS_TAG = "shadow_requests"
AGREEMENT_TAG = "shadow_agreement"
CHAMPION_TAG = "shadow_champion"


@dataclass
class Segment:
    rows: int = 0
    agreed: int = 0
    sum_abs_diff: float = 0.0

    @property
    def agreement(self) -> float:
        return self.agreed / self.rows if self.rows else math.nan


@dataclass
class Evidence:
    champion: str
    challenger: str
    requests: int = 0
    rows: int = 0
    agreed: int = 0
    sum_abs_diff: float = 0.0
    max_abs_diff: float = 0.0
    latency_ms: list[float] = field(default_factory=list)
    segments: dict[str, Segment] = field(default_factory=dict)
    first: str = ""
    last: str = ""
    skipped: int = 0  # lines that were not shadow records (junk, cut, another shape)

    @property
    def agreement(self) -> float:
        return self.agreed / self.rows if self.rows else math.nan

    @property
    def mean_abs_diff(self) -> float:
        return self.sum_abs_diff / self.rows if self.rows else math.nan

    @property
    def p99_latency_ms(self) -> float:
        if not self.latency_ms:
            return math.nan
        ordered = sorted(self.latency_ms)
        return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]

    def add(self, line: dict[str, Any]) -> None:
        self.requests += 1
        self.rows += line["rows"]
        self.agreed += line["agreed"]
        self.sum_abs_diff += line["sum_abs_diff"]
        self.max_abs_diff = max(self.max_abs_diff, line["max_abs_diff"])
        self.latency_ms.append(line["latency_ms"])
        for name, (rows, agreed, diff) in line["segments"].items():
            segment = self.segments.setdefault(name, Segment())
            segment.rows += rows
            segment.agreed += agreed
            segment.sum_abs_diff += diff
        self.first = min(self.first or line["at"], line["at"])
        self.last = max(self.last, line["at"])

    def tags(self) -> dict[str, str]:
        """The evidence as version tags (bounded: the largest segments only)."""
        largest = sorted(self.segments.items(), key=lambda kv: -kv[1].rows)[:SEGMENTS_SHOWN]
        by_segment = "; ".join(f"{name} {s.agreement:.4f} of {s.rows}" for name, s in largest)
        return {
            REQUESTS_TAG: str(self.requests),
            AGREEMENT_TAG: f"{self.agreement:.4f}",
            CHAMPION_TAG: self.champion,
            "shadow_rows": str(self.rows),
            "shadow_mean_abs_diff": f"{self.mean_abs_diff:.5f}",
            "shadow_max_abs_diff": f"{self.max_abs_diff:.5f}",
            "shadow_p99_latency_ms": f"{self.p99_latency_ms:.3f}",
            "shadow_window": f"{self.first} to {self.last}",
            "shadow_agreement_by_segment": by_segment,
        }

    def markdown(self) -> str:
        """The card's live-evidence section."""
        lines = [
            f"## Live shadow evidence: v{self.challenger} against @champion v{self.champion}",
            "",
            f"{self.requests} sampled requests ({self.rows} rows) from {self.first} to "
            f"{self.last}, scored after each response was sent.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| label agreement with the champion | {self.agreement:.4f} |",
            f"| mean absolute probability difference | {self.mean_abs_diff:.5f} |",
            f"| largest absolute probability difference | {self.max_abs_diff:.5f} |",
            f"| challenger scoring p99 (off the request path) | {self.p99_latency_ms:.3f} ms |",
            "",
            "| segment | rows | agreement | mean abs. difference |",
            "|---|---|---|---|",
        ]
        for name, s in sorted(self.segments.items(), key=lambda kv: -kv[1].rows):
            cell = name.replace("|", "\\|")
            lines.append(f"| {cell} | {s.rows} | {s.agreement:.4f} | "
                         f"{s.sum_abs_diff / s.rows if s.rows else math.nan:.5f} |")  # fmt: skip
        return "\n".join(lines) + "\n"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _valid(line: Any) -> bool:
    """Whether a parsed line has the shape `shadow.Shadow` writes."""
    if not isinstance(line, dict):
        return False
    if not all(isinstance(line.get(k), str) for k in ("at", "champion", "challenger")):
        return False
    counts = ("rows", "agreed")
    if not all(isinstance(line.get(k), int) and line[k] >= 0 for k in counts):
        return False
    if line["agreed"] > line["rows"]:
        return False
    if not all(_number(line.get(k)) for k in ("sum_abs_diff", "max_abs_diff", "latency_ms")):
        return False
    segments = line.get("segments")
    if not isinstance(segments, dict) or len(segments) > line["rows"]:
        return False
    return all(
        isinstance(v, list) and len(v) == 3 and all(_number(x) for x in v)
        and isinstance(v[0], int) and isinstance(v[1], int) and 0 <= v[1] <= v[0]
        for v in segments.values()
    )  # fmt: skip


def log_files(directory: Path) -> list[Path]:
    """The shadow logs in `directory`: regular files only, never followed out of it."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(SHADOW_LOG_PREFIX) and not path.is_symlink() and path.is_file():
            found.append(path)
    return found


def collect(directory: Path, champion: str, challenger: str) -> Evidence:
    """What the logs in `directory` say of `challenger` in the shadow of `champion`."""
    evidence = Evidence(champion, challenger)
    for path in log_files(directory):
        with path.open("rb") as handle:
            budget = LOG_MAX_BYTES
            while budget > 0:
                raw = handle.readline(min(LINE_MAX_BYTES, budget))
                if not raw:
                    break
                budget -= len(raw)
                if not raw.endswith(b"\n"):
                    # An overlong line (its rest skipped, within the budget) or a cut one.
                    evidence.skipped += 1
                    while budget > 0 and raw and not raw.endswith(b"\n"):
                        raw = handle.readline(min(LINE_MAX_BYTES, budget))
                        budget -= len(raw)
                    continue
                try:
                    line = json.loads(raw)
                except (ValueError, RecursionError):
                    evidence.skipped += 1
                    continue
                if not _valid(line):
                    evidence.skipped += 1
                elif line["champion"] == champion and line["challenger"] == challenger:
                    evidence.add(line)
    return evidence


def record_evidence(settings: TabularSettings) -> Evidence:
    """Collect the evidence of today's @challenger against today's @champion from
    SHADOW_LOG_DIR, and record it on the challenger: tags and the card's section."""
    from mlflow.tracking import MlflowClient

    from ..errors import ModelNotFoundError
    from ..store import connect, readable_store
    from .registry import alias_version

    readable_store(settings, "run `make train` then `make promote`")
    client: MlflowClient = connect(settings)
    name = settings.model_name
    held = {a: alias_version(client, name, a) for a in (settings.serving_alias, "challenger")}
    missing = [alias for alias, version in held.items() if version is None]
    if missing:
        raise ModelNotFoundError(
            f"model {name!r} has no @{missing[0]}: shadow evidence compares a @challenger "
            "with the @champion (make train, make promote)"
        )
    champion, challenger = (str(v.version) for v in held.values() if v is not None)
    directory = settings.shadow_log_dir or Path("outputs/shadow")
    evidence = collect(directory, champion, challenger)
    if evidence.requests == 0:
        raise ProjectError(
            f"no shadow evidence of v{challenger} against v{champion} in {directory}: serve "
            "with SHADOW_SAMPLE_RATE above 0 (e.g. 0.1) while traffic flows, then rerun"
        )
    for key, value in evidence.tags().items():
        client.set_model_version_tag(name, challenger, key, value)
    run_id = client.get_model_version(name, challenger).run_id
    if run_id:
        client.log_text(run_id, evidence.markdown(), "model_card/shadow_evidence.md")
    return evidence
