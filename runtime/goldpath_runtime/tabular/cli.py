"""The command line of a tabular project, `python -m <package> train|promote|rollback|
batch|...`: the project's CLI module hands its parts over (`main(PROJECT)`).

Every user-fixable problem ends as one `error: ...` line and exit code 1 (2 for usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from argparse import Namespace
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ProjectError
from ..lifecycle.commands import add_lifecycle_commands
from ..lifecycle.governed import Lifecycle
from ..project import run_command
from .project import TabularProject

if TYPE_CHECKING:
    from .dataset import DatasetParts
from .settings import TabularSettings as Settings


def _data(project: TabularProject, args: Namespace, settings: Settings) -> None:
    from .tables import write_table

    frame = project.sample(args.rows, args.seed)
    if args.no_target:
        frame = frame.drop(columns=[project.schema.target])
    write_table(frame, args.output)
    print(f"wrote {len(frame)} rows to {args.output}")


def _parts(project: TabularProject) -> DatasetParts:
    if project.dataset is None:
        raise ProjectError("this project declares no dataset (project.py: dataset=...)")
    return project.dataset()


def _raw_data(project: TabularProject, args: Namespace, settings: Settings) -> None:
    frames = _parts(project).generate(args.rfqs, args.seed)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        # Microseconds, the unit Spark reads (pandas' own is nanoseconds).
        frame.to_parquet(args.output_dir / f"{name}.parquet", index=False, coerce_timestamps="us")
    sizes = ", ".join(f"{name} {len(frame)}" for name, frame in frames.items())
    print(f"wrote the raw tables to {args.output_dir}: {sizes} rows")


def _dataset(project: TabularProject, args: Namespace, settings: Settings) -> None:
    from .dataset import build_dataset, read_raw
    from .pointintime import leaky_features

    parts = _parts(project)
    raw = read_raw(args.raw, parts.definition, parts.contracts)
    if args.check_rows:
        leaky = leaky_features(parts.definition, raw.frames, sample=args.check_rows)
        if leaky:
            raise ProjectError(
                f"feature(s) {', '.join(leaky)} read data the desk did not have at the "
                "request time (checked by rebuilding rows from the raw tables cut at their "
                "time): fix their definition in dataset.py"
            )
    built = build_dataset(parts.definition, raw, args.output or settings.dataset_table)
    print(
        f"built {built.table}: {built.rows} rows; {len(built.built)} new date partition(s), "
        f"{len(built.kept)} kept from earlier builds (`make train` trains on it)"
    )


def _train(project: TabularProject, args: Namespace, settings: Settings) -> None:
    from .training import train

    result = train(project, settings)
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


def _rows(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a row count from 1 to 1000000")
    return int(text)


def _batch(project: TabularProject, args: Namespace, settings: Settings) -> None:
    from .registry import load_serving_model
    from .scoring import score_file

    model = load_serving_model(settings)
    if args.sample is not None:
        # An explicit smoke run (the deploy pipeline's job check): generated rows, real model.
        import tempfile

        from .tables import write_table

        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "sample.csv"
            rows = project.sample(args.sample, 7).drop(columns=[project.schema.target])
            write_table(rows, source)
            report = score_file(source, args.output, model, project.contract)
    else:
        report = score_file(args.input, args.output, model, project.contract)
    print(f"scored {report.rows} rows with v{report.model_version} into {report.output}")


def _smoke(project: TabularProject, args: Namespace, settings: Settings) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        sample = Namespace(input=None, sample=100, output=Path(scratch) / "scored.csv")
        _batch(project, sample, settings)


def _monitor(project: TabularProject, args: Namespace, settings: Settings) -> None:
    from .drift import DRIFT_EXIT_CODE, write_report
    from .monitoring import monitor, said
    from .tables import read_table

    result = monitor(project, settings, read_table(args.reference), read_table(args.current))
    json_path, html_path = write_report(result.report, args.output_dir)
    print(f"drift report: {json_path} and {html_path}")
    for line in said(result):
        print(line, file=sys.stderr if result.report.drifted else sys.stdout)
    if result.report.drifted:
        raise SystemExit(DRIFT_EXIT_CODE)


def _shadow_evidence(project: TabularProject, args: Namespace, settings: Settings) -> None:
    from .shadow_evidence import record_evidence

    evidence = record_evidence(settings)
    print(
        f"recorded on v{evidence.challenger}: {evidence.requests} shadow requests "
        f"({evidence.rows} rows) against @champion v{evidence.champion}, agreement "
        f"{evidence.agreement:.4f}, mean |difference| {evidence.mean_abs_diff:.5f}"
        + (f"; {evidence.skipped} unreadable log lines skipped" if evidence.skipped else "")
    )


def _export(project: TabularProject, args: Namespace, settings: Settings) -> None:
    from .registry import export_model

    model, lean = export_model(project, settings, args.dest)
    print(
        f"exported {model.name} v{model.version} to {args.dest} (serve it with MODEL_DIR): {lean}"
    )


def _models() -> Lifecycle:
    from .registry import MODELS

    return MODELS


def _parser(project: TabularProject) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {project.package}",
        description=f"The {project.package} model project's commands.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="write the project's generated sample to a file")
    data.add_argument("--output", type=Path, default=Path("data/sample.csv"))
    data.add_argument("--rows", type=int, default=5_000)
    data.add_argument("--seed", type=int, default=7)
    data.add_argument("--no-target", action="store_true", help="omit the label, as for scoring")
    data.set_defaults(handler=_data)

    raw = commands.add_parser("raw-data", help="write the generated raw desk tables (Parquet)")
    raw.add_argument("--output-dir", type=Path, default=Path("data/raw"))
    raw.add_argument("--rfqs", type=_rows, default=5_000)
    raw.add_argument("--seed", type=int, default=7)
    raw.set_defaults(handler=_raw_data)

    dataset = commands.add_parser(
        "dataset", help="build the training table from the raw tables (new dates only)"
    )
    dataset.add_argument("--raw", type=Path, default=Path("data/raw"))
    dataset.add_argument("--output", type=Path, help="default DATASET_TABLE")
    dataset.add_argument(
        "--check-rows", type=int, default=200,
        help="rows rebuilt from raw tables cut at their time, to catch leaky features (0: skip)",
    )  # fmt: skip
    dataset.set_defaults(handler=_dataset)

    train = commands.add_parser("train", help="train and register a challenger")
    train.add_argument(
        "--require-gate", action="store_true", help="exit 1 when the evaluation gate fails"
    )
    train.add_argument(
        "--json", action="store_true", help="print the result as JSON on stdout (for pipelines)"
    )
    train.set_defaults(handler=_train)

    add_lifecycle_commands(commands, _models, "model")

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

    shadow = commands.add_parser(
        "shadow-evidence",
        help="record the @challenger's live shadow evidence (SHADOW_LOG_DIR) on its version",
    )
    shadow.set_defaults(handler=_shadow_evidence)

    export = commands.add_parser("export-model", help="copy the champion out for an image")
    export.add_argument("--dest", type=Path, default=Path("model"))
    export.set_defaults(handler=_export)
    return parser


def main(project: TabularProject, argv: Sequence[str] | None = None) -> int:
    return run_command(project, _parser(project), argv)
