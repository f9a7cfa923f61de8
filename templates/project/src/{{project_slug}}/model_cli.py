"""Command line of the project: `python -m <package> train|promote|rollback|batch|...`.

Every user-fixable problem ends as one `error: ...` line and exit code 1 (2 for usage).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from goldpath_runtime import lifecycle
from goldpath_runtime.errors import ProjectError
from goldpath_runtime.logs import configure_logging

from .config import PACKAGE, Settings, load_settings


def _data(args: argparse.Namespace, settings: Settings) -> None:
    from .data import make_rfq_sample, write_table
    from .schema import TARGET

    frame = make_rfq_sample(args.rows, args.seed)
    if args.no_target:
        frame = frame.drop(columns=[TARGET])
    write_table(frame, args.output)
    print(f"wrote {len(frame)} rows to {args.output}")


def _train(args: argparse.Namespace, settings: Settings) -> None:
    from .train import train

    result = train(settings)
    if args.json:
        print(
            json.dumps(
                {
                    "model": settings.model_name,
                    "version": result.version,
                    "run_id": result.run_id,
                    "metrics": result.metrics,
                    "gate_passed": result.gate.passed,
                    "gate": result.gate.summary(),
                    "champion_version": result.champion_version,
                }
            )
        )
    champion = (
        f"champion v{result.champion_version} roc_auc={result.champion_roc_auc:.4f}"
        if result.champion_version
        else "no champion yet"
    )
    print(
        f"registered {settings.model_name} v{result.version} as @challenger "
        f"(roc_auc={result.metrics['roc_auc']:.4f}; {champion}; gate {result.gate.summary()})",
        file=sys.stderr if args.json else sys.stdout,
    )
    if not result.gate.passed and args.require_gate:
        raise ProjectError(f"evaluation gate failed: {result.gate.summary()}")


def _was(version: str | None) -> str:
    """The alias's earlier version as people read it: `none` when it had none."""
    return f"v{version}" if version else "none"


def _record_changed(version: str) -> None:
    """A local decision rewrote governance.yml's `latest:` block: say what to do with it
    (in CI the pipeline publishes it)."""
    from goldpath_runtime.governance import ci_context

    if not ci_context():
        print(
            f"governance.yml's latest: block now names v{version}: commit it "
            "(git commit governance.yml) so goldpath inventory lists it"
        )


def _promote(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import promote

    move = promote(settings, args.version)
    if move.changed:
        print(f"@{move.alias} of {move.name}: {_was(move.previous)} -> v{move.version}")
        _record_changed(move.version)
    else:
        print(f"@{move.alias} of {move.name} is already v{move.version}")


def _docs_pack(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import documentation

    number, text = documentation(settings, args.version)
    name = settings.model_name
    output = args.output or Path("outputs") / f"{name}-v{number}-technical-documentation.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}: technical documentation of {name} v{number} (EU AI Act Annex IV)")


def _status(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import lifecycle_status

    rows = lifecycle_status(settings)
    if args.json:
        print(json.dumps(rows))
        _unrecorded(rows)
        return
    print(f"{settings.model_name} in {settings.mlflow_tracking_uri}")
    for row in rows:
        shown = {k: v for k, v in row.items() if k not in {"alias", "version", "audit"}}
        details = ", ".join(f"{k} {v}" for k, v in shown.items())
        print(f"  @{row['alias']:<11} v{row['version']}" + (f"  ({details})" if details else ""))
    _unrecorded(rows)


def _unrecorded(rows: list[dict[str, str]]) -> None:
    """An alias moved around the lifecycle fails `status` (and so CI) until it is dealt with."""
    problem = lifecycle.unrecorded(rows)
    if problem is not None:
        print(
            f"error: {problem}: record it (APPROVER=<id> REASON=<why> uv run python -m "
            f"{PACKAGE} promote --version {rows[0]['version']}) or revert it "
            "(make rollback APPROVER=<id> REASON=<why>)",
            file=sys.stderr,
        )
        raise SystemExit(1)


def _rollback(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import rollback

    move = rollback(settings)
    print(f"@{move.alias} of {move.name}: {_was(move.previous)} -> v{move.version} (rollback)")
    _record_changed(move.version)


def _rows(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a row count from 1 to 1000000")
    return int(text)


def _batch(args: argparse.Namespace, settings: Settings) -> None:
    from .batch import score_file
    from .registry import load_serving_model

    model = load_serving_model(settings)
    if args.sample is not None:
        # An explicit smoke run (the deploy pipeline's job check): generated rows, real model.
        import tempfile

        from .data import make_rfq_sample, write_table
        from .schema import TARGET

        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "sample.csv"
            write_table(make_rfq_sample(args.sample).drop(columns=[TARGET]), source)
            report = score_file(source, args.output, model)
    else:
        report = score_file(args.input, args.output, model)
    print(f"scored {report.rows} rows with v{report.model_version} into {report.output}")


def _smoke(args: argparse.Namespace, settings: Settings) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        sample = argparse.Namespace(input=None, sample=100, output=Path(scratch) / "scored.csv")
        _batch(sample, settings)


def _monitor(args: argparse.Namespace, settings: Settings) -> None:
    from goldpath_runtime.tabular.drift import DRIFT_EXIT_CODE, detect_drift, write_report

    from .contract import CONTRACT
    from .data import read_table

    report = detect_drift(
        CONTRACT,
        read_table(args.reference),
        read_table(args.current),
        psi_threshold=settings.drift_psi_threshold,
        ks_pvalue_threshold=settings.drift_ks_pvalue,
    )
    json_path, html_path = write_report(report, args.output_dir)
    print(f"drift report: {json_path} and {html_path}")
    if report.drifted:
        print(f"drift detected in {', '.join(report.drifted)}", file=sys.stderr)
        raise SystemExit(DRIFT_EXIT_CODE)
    print("no drift detected")


def _export(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import export_model

    model, lean = export_model(settings, args.dest)
    print(
        f"exported {model.name} v{model.version} to {args.dest} (serve it with MODEL_DIR): {lean}"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {PACKAGE}", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="write the generated RFQ sample to a file")
    data.add_argument("--output", type=Path, default=Path("data/rfq_sample.csv"))
    data.add_argument("--rows", type=int, default=5_000)
    data.add_argument("--seed", type=int, default=7)
    data.add_argument("--no-target", action="store_true", help="omit the label, as for scoring")
    data.set_defaults(handler=_data)

    train = commands.add_parser("train", help="train and register a challenger")
    train.add_argument(
        "--require-gate", action="store_true", help="exit 1 when the evaluation gate fails"
    )
    train.add_argument(
        "--json", action="store_true", help="print the result as JSON on stdout (for pipelines)"
    )
    train.set_defaults(handler=_train)

    promote = commands.add_parser("promote", help="move @champion to a version that passed")
    promote.add_argument("--version", help="model version (default: the @challenger)")
    promote.set_defaults(handler=_promote)

    docs = commands.add_parser(
        "docs-pack", help="technical documentation of a version (EU AI Act Annex IV headings)"
    )
    docs.add_argument("--version", help="model version (default: the @champion)")
    docs.add_argument("--output", type=Path, help="default outputs/<name>-v<n>-technical-...md")
    docs.set_defaults(handler=_docs_pack)

    status = commands.add_parser("status", help="which versions hold @champion and @challenger")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)

    rollback = commands.add_parser("rollback", help="move @champion back to the previous one")
    rollback.set_defaults(handler=_rollback)

    batch = commands.add_parser("batch", help="score a CSV or Parquet file")
    source = batch.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="CSV or Parquet file to score")
    source.add_argument(
        "--sample", type=_rows, metavar="ROWS", help="score ROWS generated rows (a smoke run)"
    )
    batch.add_argument("--output", type=Path, required=True)
    batch.set_defaults(handler=_batch)

    smoke = commands.add_parser(
        "smoke",
        help="score 100 generated rows with the serving model and exit 0 "
        "(the deploy pipeline's check of the batch job; no data needed)",
    )
    smoke.set_defaults(handler=_smoke)

    monitor = commands.add_parser(
        "monitor", help="drift between a reference and a current sample (exit 3 on drift)"
    )
    monitor.add_argument("--reference", type=Path, required=True, help="CSV or Parquet")
    monitor.add_argument("--current", type=Path, required=True, help="CSV or Parquet")
    monitor.add_argument("--output-dir", type=Path, default=Path("outputs/drift"))
    monitor.set_defaults(handler=_monitor)

    export = commands.add_parser("export-model", help="copy the champion out for an image")
    export.add_argument("--dest", type=Path, default=Path("model"))
    export.set_defaults(handler=_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], None] = args.handler
    try:
        settings = load_settings()
        configure_logging(settings.log_level, stream="stderr")
        logging.getLogger(__name__).debug("command %s", args.command)
        handler(args, settings)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
