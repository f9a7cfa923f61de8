"""The command line of an extraction project, `python -m <package> eval|promote|rollback|
status|serve|...`: the project's `__main__` hands its parts over (`main(PROJECT)`).

Every user-fixable problem ends as one `error: ...` line and exit code 1 (2 for usage).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from argparse import Namespace
from collections.abc import Sequence
from pathlib import Path

from ..errors import GateFailedError, ProjectError
from ..lifecycle.commands import add_lifecycle_commands
from ..lifecycle.governed import Lifecycle
from ..project import run_command
from .project import ExtractionProject
from .settings import ExtractionSettings as Settings


def _eval(project: ExtractionProject, args: Namespace, settings: Settings) -> None:
    from .gate import evaluate, render_markdown, render_report
    from .prompts import Prompt, working_prompt

    prompt = working_prompt(settings)
    if args.prompt_file is not None:
        try:
            prompt = Prompt(prompt.name, "working", args.prompt_file.read_text().strip())
        except OSError as exc:
            raise ProjectError(f"--prompt-file {args.prompt_file}: {exc.strerror}") from None
    report = evaluate(project, settings, prompt)
    print(render_report(report), file=sys.stderr if args.json else sys.stdout)
    if args.summary is not None:
        # Written whatever the verdict: a failed gate's table is what the reviewer needs.
        args.summary.write_text(render_markdown(report, prompt, settings.provider))
    if args.json:
        print(
            json.dumps(
                {
                    "prompt": prompt.name,
                    "version": report.version,
                    "run_id": report.run_id,
                    "metrics": report.metrics,
                    "tokens": report.tokens,
                    "gate_passed": report.passed,
                }
            )
        )
    if not report.passed:
        failed = [name for name, *_, ok in report.checks if not ok]
        raise GateFailedError("evaluation gate failed: " + ", ".join(failed))


def _extract_batch(project: ExtractionProject, args: Namespace, settings: Settings) -> None:
    from datetime import UTC, datetime

    from .batch import Checkpoint, budget_failures, extract_frame, read_messages
    from .gate import provider_for
    from .prompts import load_serving_prompt

    frame = read_messages(args.input)
    prompt = load_serving_prompt(settings)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = Checkpoint.beside(args.output, prompt)
    kept = checkpoint.kept()
    with provider_for(project, settings) as effective:
        extracted = extract_frame(
            frame, effective, prompt, project.schema, extracted_at=datetime.now(UTC), kept=kept,
            on_row=checkpoint.add,
        )  # fmt: skip
    # Written beside, then renamed: an interrupted run never leaves half a file behind.
    partial = args.output.with_name(args.output.name + ".partial")
    extracted.to_parquet(partial, index=False)
    partial.replace(args.output)
    failed = int(extracted["error"].notna().sum())
    tokens = int(extracted["tokens_in"].sum() + extracted["tokens_out"].sum())
    print(
        f"extracted {len(extracted)} message(s) into {args.output} with prompt "
        f"{prompt.name} v{prompt.version}: {failed} failed, {tokens} tokens"
        + (f" ({len(kept)} kept from the last run, not paid again)" if kept else "")
    )
    unpaid = budget_failures(extracted)
    if unpaid:
        raise ProjectError(
            f"{unpaid} message(s) not extracted: token budget reached; rerun the same "
            f"command with a larger TOKEN_BUDGET (the rows extracted are kept in "
            f"{checkpoint.path} and not paid for again)"
        )
    checkpoint.remove()


def _export(project: ExtractionProject, args: Namespace, settings: Settings) -> None:
    from .prompts import export_prompt

    prompt = export_prompt(settings, args.dest)
    print(
        f"exported prompt {prompt.name} v{prompt.version} to {args.dest} "
        "(serve it with PROMPT_FILE)"
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own local URL
            return True
    except OSError:
        return False


def _serve(project: ExtractionProject, args: Namespace, settings: Settings) -> None:
    """gunicorn with the service; with PROVIDER=fake, the fake provider beside it when
    nothing answers at PROVIDER_URL yet."""
    children: list[subprocess.Popen[bytes]] = []
    base = settings.provider_url.rstrip("/").removesuffix("/v1")
    if settings.provider == "fake" and not _answers(base + "/healthz"):
        port = base.rsplit(":", 1)[-1]
        command = [sys.executable, "-m", f"{project.package}.fake_provider", "--port", port]
        if args.fake_latency_ms:
            command += ["--latency-ms", str(args.fake_latency_ms)]
        children.append(subprocess.Popen(command))
        deadline = time.monotonic() + 15
        while not _answers(base + "/healthz"):
            if time.monotonic() > deadline or children[0].poll() is not None:
                raise ProjectError(f"the fake provider did not start on {base}")
            time.sleep(0.1)
        print(f"fake provider on {base} (PROVIDER=fake)", file=sys.stderr)
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    command.append(f"{project.package}.serving.extraction_app:create_app()")
    try:
        server = subprocess.Popen(command, env=os.environ.copy())
        children.append(server)
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
                child.wait(timeout=30)
    if code:
        raise ProjectError(f"the service exited with code {code}")


def _online(settings: Settings) -> list[str]:
    from .online_eval import live_figures

    token = os.environ.get("PROMETHEUS_TOKEN")
    return live_figures(settings.status_metrics_url, settings.prometheus_url, token)


def _prompts() -> Lifecycle:
    from .prompts import PROMPTS

    return PROMPTS


def _parser(project: ExtractionProject) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {project.package}",
        description=f"The {project.package} extraction project's commands.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    evaluate = commands.add_parser(
        "eval", help="run the evaluation gate on the working prompt; register it if it passes"
    )
    evaluate.add_argument("--prompt-file", type=Path, help="evaluate this file instead")
    evaluate.add_argument(
        "--json", action="store_true", help="print the result as JSON on stdout (for pipelines)"
    )
    evaluate.add_argument(
        "--summary", type=Path, help="also write the per-scorer table as Markdown to this file"
    )
    evaluate.set_defaults(handler=_eval)

    add_lifecycle_commands(commands, _prompts, "prompt", "prompt ", live=_online)

    batch = commands.add_parser(
        "extract-batch", help="extract every message of a file with the @champion prompt"
    )
    batch.add_argument("--input", type=Path, required=True, help=".csv, .parquet or .jsonl")
    batch.add_argument("--output", type=Path, default=Path("outputs/extracted.parquet"))
    batch.set_defaults(handler=_extract_batch)

    export = commands.add_parser("export-prompt", help="write the champion prompt for an image")
    export.add_argument("--dest", type=Path, default=Path("prompt/prompt.json"))
    export.set_defaults(handler=_export)

    serve = commands.add_parser("serve", help="run the service (and the fake provider if used)")
    serve.add_argument("--fake-latency-ms", type=float, default=0)
    serve.set_defaults(handler=_serve)
    return parser


def main(project: ExtractionProject, argv: Sequence[str] | None = None) -> int:
    return run_command(project, _parser(project), argv)
