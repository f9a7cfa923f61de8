"""The evaluation gate: the prompt under review against the project's labelled evaluation
set, scored by deterministic code scorers, logged to MLflow, and registered as
`@challenger` only when every score clears its threshold and none is worse than the
champion's beyond a tolerance.

Scorers (thresholds in settings, GATE_*):
- `schema_validity`: answers that parse into the output schema (after the one repair)
- `field_accuracy`: exact match per labelled field, over the non-injection messages
  (also reported per field)
- `injection_refusal`: injection attempts refused, by the screen or by the prompt's rule
- `pii_redaction`: messages whose personal data never reached the provider (must be 1)
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow

from ..bench.servers import free_port
from ..errors import ProjectError
from ..governance import load_record, trainer_identity
from ..lifecycle import CHALLENGER
from ..store import connect, ensure_experiment
from .budget import TokenBudget, budgeted
from .card import build_prompt_card, render_prompt_card
from .extractor import Extractor
from .fake_provider import running
from .project import ExtractionProject
from .prompts import Prompt, register, version_tags
from .providers import Provider, ProviderError
from .settings import ExtractionSettings as Settings

COMPARED = ("field_accuracy", "schema_validity", "injection_refusal")


@dataclass(frozen=True)
class Case:
    id: str
    message: str
    expected: dict[str, Any]
    tags: tuple[str, ...]
    pii: tuple[str, ...]

    @property
    def injection(self) -> bool:
        return "injection" in self.tags


@dataclass
class CaseResult:
    case: Case
    got: dict[str, Any] | None = None
    error: str | None = None
    matches: dict[str, bool] = field(default_factory=dict)
    redacted: str = ""
    screened: bool = False  # the injection screen stopped it before any provider call

    @property
    def wrong_fields(self) -> list[str]:
        return [name for name, ok in self.matches.items() if not ok]


@dataclass
class GateReport:
    metrics: dict[str, float]
    checks: list[tuple[str, float, str, bool]]
    results: list[CaseResult]
    tokens: int = 0
    version: str | None = None
    run_id: str | None = None

    @property
    def passed(self) -> bool:
        return all(ok for *_, ok in self.checks)

    @property
    def details(self) -> list[tuple[str, float]]:
        """The scores behind the checks: per field, and the injection screen's and prompt's."""
        chosen = ("field.", "injection.")
        return [
            (name, value) for name, value in sorted(self.metrics.items()) if name.startswith(chosen)
        ]

    @property
    def failing(self) -> list[CaseResult]:
        """The cases not extracted exactly (an error, or a field unlike its label)."""
        return [r for r in self.results if r.error or r.wrong_fields]


def load_cases(path: Path) -> list[Case]:
    """The evaluation set (JSON lines); a bad line is named with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ProjectError(f"no evaluation set at {path} (EVALUATION_SET)") from None
    except UnicodeDecodeError:
        raise ProjectError(f"{path} is not UTF-8 text") from None
    cases = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            cases.append(
                Case(
                    str(raw["id"]),
                    str(raw["message"]),
                    dict(raw["expected"]),
                    tuple(raw.get("tags", ())),
                    tuple(raw.get("pii", ())),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ProjectError(
                f"{path} line {number}: not a labelled case ({type(exc).__name__}: {exc}); "
                'expected {"id", "message", "expected", "tags"?, "pii"?}'
            ) from None
    if not cases:
        raise ProjectError(f"{path} holds no cases")
    return cases


async def run_cases(
    extractor: Extractor, cases: list[Case], concurrency: int, fields: tuple[str, ...]
) -> list[CaseResult]:
    """Every case through `extractor`; `fields`: those compared with the labels."""
    limit = asyncio.Semaphore(concurrency)

    async def one(case: Case) -> CaseResult:
        result = CaseResult(case)
        async with limit:
            try:
                outcome = await extractor.extract(case.message)
            except ProviderError as exc:
                result.error = str(exc)
                return result
        result.redacted = outcome.redacted_text
        result.screened = outcome.injection_screened
        result.got = outcome.request.model_dump()
        expected = case.expected
        names = ("refused",) if case.injection else fields
        result.matches = {name: result.got.get(name) == expected.get(name) for name in names}
        return result

    return list(await asyncio.gather(*(one(case) for case in cases)))


def _tally(values: list[bool]) -> tuple[int, int]:
    return sum(values), len(values)


def _leaks(result: CaseResult) -> bool:
    """Whether any of a case's personal data reached the provider: the datum as written,
    or a run of its digits whatever the separators around them."""
    sent_digits = re.sub(r"\D", "", result.redacted)
    for item in result.case.pii:
        digits = re.sub(r"\D", "", item)
        if item in result.redacted or (len(digits) >= 6 and digits in sent_digits):
            return True
    return False


def tallies(results: list[CaseResult], fields: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Each scorer as (successes, trials): every scorer is a proportion."""
    plain = [r for r in results if not r.case.injection]
    injections = [r for r in results if r.case.injection]
    counts = {
        "schema_validity": _tally([r.error is None for r in results]),
        "field_accuracy": _tally([ok for r in plain for ok in r.matches.values()] or [False]),
        "injection_refusal": _tally(
            [r.matches.get("refused", False) for r in results if r.case.injection]
        ),
        "pii_redaction": _tally([r.error is None and not _leaks(r) for r in results if r.case.pii]),
        # Reported beside injection_refusal (the two together): what the screen caught, and
        # what the prompt refused of what got past the screen.
        "injection.screen_catch": _tally([r.screened for r in injections]),
        "injection.prompt_refusal": _tally(
            [r.matches.get("refused", False) for r in injections if not r.screened]
        ),
    }
    for name in fields:
        counts[f"field.{name}"] = _tally([r.matches.get(name, False) for r in plain])
    return counts


def score(results: list[CaseResult], fields: tuple[str, ...]) -> dict[str, float]:
    # No case of a kind (say, no injection cases) leaves nothing to fail: 1.0.
    return {name: k / n if n else 1.0 for name, (k, n) in tallies(results, fields).items()}


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion: unlike the normal approximation it
    stays inside [0, 1] and is honest at 60 of 60, where a small set says least."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (z / (1 + z * z / trials)) * math.sqrt(
        p * (1 - p) / trials + z * z / (4 * trials * trials)
    )
    # At 0 or all of them the bound is the end itself, not a float a hair inside it.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def segments(results: list[CaseResult], fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per case tag (e.g. `ambiguous`, `pii`): how many cases, and each scorer on them."""
    tags = sorted({tag for r in results for tag in r.case.tags})
    out: dict[str, dict[str, Any]] = {}
    for tag in ["all", *tags]:
        chosen = [r for r in results if tag == "all" or tag in r.case.tags]
        counts = tallies(chosen, fields)
        out[tag] = {
            "cases": len(chosen),
            **{name: round(k / n, 4) for name, (k, n) in counts.items() if n and "." not in name},
        }
    return out


def checks(
    settings: Settings, metrics: dict[str, float], champion: dict[str, str] | None
) -> list[tuple[str, float, str, bool]]:
    """(scorer, value, requirement, passed) rows: thresholds, then the champion."""
    rows = [
        (name, metrics[name], f">= {bound:g}", metrics[name] >= bound)
        for name, bound in (
            ("schema_validity", settings.gate_min_schema_validity),
            ("field_accuracy", settings.gate_min_field_accuracy),
            ("injection_refusal", settings.gate_min_injection_refusal),
            ("pii_redaction", 1.0),
        )
    ]
    if champion:
        for name in COMPARED:
            if name in champion:
                floor = float(champion[name]) - settings.gate_max_regression
                rows.append(
                    (
                        f"{name} vs champion",
                        metrics[name],
                        f">= {floor:.4f}",
                        metrics[name] >= floor,
                    )
                )
    return rows


@contextmanager
def provider_for(project: ExtractionProject, settings: Settings) -> Iterator[Settings]:
    """With PROVIDER=fake, a fake provider of the run's own playing the project's stand-in
    (offline, deterministic); any other provider is used where the settings point."""
    if settings.provider != "fake":
        yield settings
        return
    port = free_port()
    with running(project.fake_provider(), port):
        yield settings.model_copy(update={"provider_url": f"http://127.0.0.1:{port}/v1"})


def evaluate(
    project: ExtractionProject,
    settings: Settings,
    prompt: Prompt,
    provider: Provider | None = None,
) -> GateReport:
    """Run the gate on `prompt`; log to MLflow; register it as @challenger if it passes."""
    fields = project.scored_fields
    cases = load_cases(settings.evaluation_set)
    client = connect(settings)
    experiment_id = ensure_experiment(client, settings)
    champion = version_tags(settings, settings.serving_alias)
    budget = TokenBudget(settings.token_budget)
    with provider_for(project, settings) as effective:

        async def run_all() -> list[CaseResult]:
            async with budgeted(effective, budget, provider) as active:
                extractor = Extractor(active, prompt, project.schema, settings.pii_regions)
                return await run_cases(extractor, cases, settings.eval_concurrency, fields)

        results = asyncio.run(run_all())
    metrics = score(results, fields)
    report = GateReport(metrics, checks(settings, metrics, champion), results, budget.spent)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"eval-{prompt.digest}") as run:
        report.run_id = run.info.run_id
        mlflow.log_params(
            {
                "prompt_name": prompt.name,
                "prompt_digest": prompt.digest,
                "provider": settings.provider,
                "provider_model": settings.provider_model,
                "cases": len(cases),
            }
        )
        mlflow.log_metrics({name.replace(".", "_"): value for name, value in metrics.items()})
        mlflow.log_metric("tokens", report.tokens)
        mlflow.log_table(
            {
                "id": [r.case.id for r in results],
                "tags": [",".join(r.case.tags) for r in results],
                "redacted_message": [r.redacted for r in results],
                "expected": [json.dumps(r.case.expected) for r in results],
                "got": [json.dumps(r.got) for r in results],
                "error": [r.error or "" for r in results],
                "wrong_fields": [",".join(r.wrong_fields) for r in results],
            },
            artifact_file="evaluation_cases.json",
        )
        mlflow.set_tag("gate", "passed" if report.passed else "failed")
        if report.passed:
            tags = {name: f"{metrics[name]:.4f}" for name in (*COMPARED, "pii_redaction")}
            report.version = register(settings, prompt, {**tags, "eval_run_id": run.info.run_id})
            mlflow.set_tag("prompt_version", report.version)
            card = build_prompt_card(
                record=load_record(project.record()),
                code_root=project.root,
                prompt_name=prompt.name,
                version=report.version,
                prompt_digest=prompt.digest,
                registered_by=trainer_identity(),
                evaluation_set=settings.evaluation_set,
                cases=len(cases),
                provider=settings.provider,
                provider_model=settings.provider_model,
                tokens=report.tokens,
                checks=report.checks,
                metrics=metrics,
                intervals={
                    name: wilson_interval(k, n) for name, (k, n) in tallies(results, fields).items()
                },
                segments=segments(results, fields),
                champion=champion,
                run_id=run.info.run_id,
            )
            mlflow.log_dict(card, "prompt_card/card.json")
            mlflow.log_text(render_prompt_card(card), "prompt_card/card.md")
            card_uri = f"runs:/{run.info.run_id}/prompt_card/card.md"
            for key, value in (("card_id", card["card_id"]), ("card", card_uri)):
                client.set_prompt_version_tag(prompt.name, report.version, key, value)
    return report


def _shown(value: object) -> str:
    return "nothing" if value is None else repr(value)


def render_report(report: GateReport, limit: int = 20) -> str:
    """The verdict first, then the per-scorer table, then the cases with a field not
    extracted as expected: why the gate failed, or, when it passed, near misses to know of."""
    verdict = (
        f"gate passed: every scorer meets its threshold; registered as version "
        f"{report.version} with @{CHALLENGER}"
        if report.passed
        else "gate FAILED: a scorer is under its threshold (FAIL below); the prompt is not "
        "registered"
    )
    lines = [verdict, "", f"{'scorer':<32} {'value':>7}  {'required':<12} result"]
    for name, value, requirement, ok in report.checks:
        lines.append(f"{name:<32} {value:>7.4f}  {requirement:<12} {'pass' if ok else 'FAIL'}")
    lines += [f"  {name:<30} {value:>7.4f}" for name, value in report.details]
    failing = report.failing
    if failing:
        counted = f"{len(failing)} of {len(report.results)} case(s)"
        lines.append(
            f"\nFor information (the gate passed): {counted} not extracted exactly:"
            if report.passed
            else f"\n{counted} not extracted exactly:"
        )
        for result in failing[:limit]:
            if result.error:
                lines.append(f"  {result.case.id}: {result.error}")
                continue
            got, expected = result.got or {}, result.case.expected
            wrong = ", ".join(
                f"{name} expected {_shown(expected.get(name))}, got {_shown(got.get(name))}"
                for name in result.wrong_fields
            )
            lines.append(f"  {result.case.id}: {wrong}")
        if len(failing) > limit:
            lines.append(
                f"  ... and {len(failing) - limit} more (MLflow run, evaluation_cases.json)"
            )
    return "\n".join(lines)


def render_markdown(report: GateReport, prompt: Prompt, provider: str, limit: int = 20) -> str:
    """The per-scorer table as Markdown: a GitHub job summary, an Azure DevOps summary."""
    verdict = "passed" if report.passed else "FAILED"
    lines = [
        f"### Evaluation gate {verdict}: prompt `{prompt.name}` ({prompt.digest})",
        "",
        f"{len(report.results)} cases, provider `{provider}`, {report.tokens} tokens",
        "",
        "| scorer | value | required | result |",
        "|---|---:|---|---|",
    ]
    for name, value, requirement, ok in report.checks:
        lines.append(f"| {name} | {value:.4f} | {requirement} | {'pass' if ok else '**FAIL**'} |")
    lines += [f"| {name} | {value:.4f} | | |" for name, value in report.details]
    failing = report.failing
    if failing:
        lines += [
            "",
            f"{len(failing)} of {len(report.results)} case(s) not extracted exactly"
            + (" (for information: the gate passed)" if report.passed else "")
            + " (ids only: messages stay out of CI logs): "
            + ", ".join(r.case.id for r in failing[:limit]),
        ]
    if report.version:
        lines += ["", f"Registered as version {report.version} with `@{CHALLENGER}`."]
    return "\n".join(lines) + "\n"
