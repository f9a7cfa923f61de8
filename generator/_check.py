"""`goldpath check`: render every option combination (full, pairwise or default), run
every validator on each, optionally each project's own `make test`, and report."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._errors import GoldpathError
from ._lifetime import worker_pool
from ._options import (
    Combination,
    default_combination,
    default_problems,
    full_matrix,
    label,
    pairwise,
)
from ._process import run, run_project_tests
from ._runtime import local_runtime_env
from ._template import render
from ._validate import Finding, validate_project


@dataclass
class CheckResult:
    answers: Combination
    ok: bool
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    error: str = ""


def combinations(template: Path, matrix: str) -> list[Combination]:
    if matrix == "full":
        return full_matrix(template)
    if matrix == "pairwise":
        return pairwise(template)
    if matrix == "default":
        return [{}]
    raise GoldpathError(f"--matrix {matrix!r}: use full, pairwise or default")


def check_one(template: str, answers: Combination, run_tests: bool) -> CheckResult:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="goldpath-check-") as scratch:
        try:
            project = render(
                Path(scratch) / "project", template=template, data=answers, vcs_ref="HEAD"
            )
            findings = validate_project(project)
            if run_tests:
                run(["git", "init", "-q"], project, what="git init")
                passed, summary = run_project_tests(project)
                findings.append(Finding("make test", passed, summary))
        except GoldpathError as exc:
            return CheckResult(answers, False, time.perf_counter() - started, error=str(exc))
        except Exception as exc:  # a template error is a FAIL row, never a lost report
            reason = (str(exc).strip().splitlines() or [""])[-1]
            where = getattr(exc, "filename", None) or getattr(exc, "name", None)
            line = getattr(exc, "lineno", None)
            place = f" in {where}" + (f" line {line}" if line else "") if where else ""
            error = f"{type(exc).__name__}{place}: {reason}"
            return CheckResult(answers, False, time.perf_counter() - started, error=error)
    ok = all(f.ok for f in findings)
    return CheckResult(answers, ok, time.perf_counter() - started, findings)


def _name(combination: Combination, defaults: Combination) -> str:
    if not combination or combination == defaults:
        return "defaults" + (f" ({label(combination)})" if combination else "")
    return label(combination)


def run_check(template: Path, matrix: str, jobs: int, run_tests: bool, report: Path | None) -> int:
    if run_tests and (template / "runtime" / "pyproject.toml").is_file():
        # Each project's make test runs on the checked template's own goldpath-runtime.
        os.environ.update(local_runtime_env(template / "runtime"))
    try:
        full = len(full_matrix(template))
        # A default outside its own choices breaks `copier copy --defaults`: said first,
        # and the combinations (which start from the defaults) are not drawn.
        problems = default_problems(template)
        combos = [] if problems else combinations(template, matrix)
    except GoldpathError as exc:  # copier.yml itself is broken: one FAIL row, still a report
        combos, full, problems = [], 0, [str(exc)]
    print(f"{matrix} matrix: {len(combos)} combination(s) of {full} in the full matrix", flush=True)
    results = [CheckResult({}, False, 0.0, error=p) for p in problems]
    if results:
        combos = []
    defaults = default_combination(template) if combos else {}
    names = {i: _name(c, defaults) for i, c in enumerate(combos)}
    for index, name in names.items():
        print(f"  {index + 1:>3}. {name}", flush=True)
    with worker_pool(jobs) as pool:
        futures = {pool.submit(check_one, str(template), c, run_tests): i
                   for i, c in enumerate(combos)}  # fmt: skip
        finished: dict[int, CheckResult] = {}
        for done, future in enumerate(as_completed(futures), 1):
            result = future.result()
            finished[futures[future]] = result
            bar = "#" * (20 * done // len(futures))
            mark = "ok" if result.ok else "FAIL"
            name = names[futures[future]]
            print(
                f"[{bar:<20}] {done}/{len(futures)} {mark:<4} {name}", file=sys.stderr, flush=True
            )
    results += [finished[i] for i in sorted(finished)]  # the plan's order, defaults first
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    for result in failed:
        print(f"\nFAIL {_name(result.answers, defaults)}")
        if result.error:
            print(f"  {result.error}")
        for finding in result.findings:
            if not finding.ok:
                print(f"  {finding.validator}:")
                print("    " + finding.output.replace("\n", "\n    "))
    if report is not None:
        document: dict[str, Any] = {
            "matrix": matrix,
            "combinations": len(combos),
            "full_matrix": full,
            "passed": len(results) - len(failed),
            "failed": len(failed),
            "results": [asdict(r) for r in results],
        }
        try:
            report.write_text(json.dumps(document, indent=2, default=str))
        except OSError as exc:
            raise GoldpathError(f"--report {report}: cannot be written ({exc.strerror})") from None
    return 1 if failed else 0
