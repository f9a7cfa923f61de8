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

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.lifecycle import commands
from goldpath_runtime.lifecycle.commands import add_lifecycle_commands
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


def _promote(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import promote

    move = promote(settings, args.version)
    commands.report_move(move, move.name)


def _docs_pack(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import documentation

    number, text = documentation(settings, args.version)
    commands.write_documentation(settings.model_name, number, text, args.output)


def _status(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import lifecycle_status

    rows = lifecycle_status(settings)
    if not args.json:
        print(f"{settings.model_name} in {settings.mlflow_tracking_uri}")
    commands.report_status(rows, PACKAGE, as_json=args.json)


def _rollback(args: argparse.Namespace, settings: Settings) -> None:
    from .registry import rollback

    move = rollback(settings)
    commands.report_move(move, move.name, rollback=True)


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

    lifecycle = {"promote": _promote, "rollback": _rollback, "docs-pack": _docs_pack,
                 "status": _status}  # fmt: skip
    add_lifecycle_commands(commands, "model", lifecycle)

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
