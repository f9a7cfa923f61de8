"""What a project's command line says about lifecycle decisions, the same for a model and a
prompt: a move of an alias, the governance record to commit after a local decision, the
status table, an alias moved around the lifecycle (which fails `status`, and so CI), and
the technical documentation written to a file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store import AliasMove
from . import unrecorded

if TYPE_CHECKING:
    from ..project import Project
    from .governed import Lifecycle


def _was(version: str | None) -> str:
    """The alias's earlier version as people read it: `none` when it had none."""
    return f"v{version}" if version else "none"


def _record_changed(version: str) -> None:
    """A local decision rewrote governance.yml's `latest:` block: say what to do with it
    (in CI the pipeline publishes it)."""
    from ..governance import ci_context

    if not ci_context():
        print(
            f"governance.yml's latest: block now names v{version}: commit it "
            "(git commit governance.yml) so goldpath inventory lists it"
        )


def report_move(move: AliasMove, what: str, *, rollback: bool = False) -> None:
    """One line for a promotion or a rollback of `what` (e.g. "prompt extract_trade")."""
    if not move.changed:
        print(f"@{move.alias} of {what} is already v{move.version}")
        return
    done = " (rollback)" if rollback else ""
    print(f"@{move.alias} of {what}: {_was(move.previous)} -> v{move.version}{done}")
    _record_changed(move.version)


def report_status(rows: list[dict[str, str]], package: str, *, as_json: bool) -> None:
    """The aliases and their versions, then exit 1 with one line if one moved unrecorded."""
    if as_json:
        print(json.dumps(rows))
    for row in [] if as_json else rows:
        shown = {k: v for k, v in row.items() if k not in {"alias", "version", "audit"}}
        details = ", ".join(f"{k} {v}" for k, v in shown.items())
        print(f"  @{row['alias']:<11} v{row['version']}" + (f"  ({details})" if details else ""))
    problem = unrecorded(rows)
    if problem is not None:
        print(
            f"error: {problem}: record it (APPROVER=<id> REASON=<why> uv run python -m "
            f"{package} promote --version {rows[0]['version']}) or revert it "
            "(make rollback APPROVER=<id> REASON=<why>)",
            file=sys.stderr,
        )
        raise SystemExit(1)


def write_documentation(name: str, number: str, text: str, output: Path | None) -> None:
    """The technical documentation of version `number` of `name`, to `output` (default
    outputs/<name>-v<n>-technical-documentation.md)."""
    output = output or Path("outputs") / f"{name}-v{number}-technical-documentation.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}: technical documentation of {name} v{number} (EU AI Act Annex IV)")


def add_lifecycle_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    lifecycle: Callable[[], Lifecycle],
    kind: str,
    label: str = "",
    live: Callable[[Any], list[str]] | None = None,
) -> None:
    """`promote`, `rollback`, `docs-pack`, `status` and `export-audit` for a `kind` of
    version ("model", "prompt"), deciding through `lifecycle()` (imported only when a
    command runs: MLflow takes seconds to import); `label` goes before the artifact's name
    in what they print ("prompt "); `live(settings)` adds what `status` says of live traffic."""

    def promote(project: Project, args: argparse.Namespace, settings: Any) -> None:
        move = lifecycle().promote(settings, project.record(), args.version)
        report_move(move, f"{label}{move.name}")

    def rollback(project: Project, args: argparse.Namespace, settings: Any) -> None:
        move = lifecycle().rollback(settings, project.record())
        report_move(move, f"{label}{move.name}", rollback=True)

    def docs_pack(project: Project, args: argparse.Namespace, settings: Any) -> None:
        number, text = lifecycle().documentation(settings, project.record(), args.version)
        write_documentation(lifecycle().name(settings), number, text, args.output)

    def status(project: Project, args: argparse.Namespace, settings: Any) -> None:
        rows = lifecycle().status(settings, project.record())
        if not args.json:
            print(f"{label}{lifecycle().name(settings)} in {settings.mlflow_tracking_uri}")
        if live is not None and not args.json:
            for line in live(settings):
                print(line)
        report_status(rows, project.package, as_json=args.json)

    def export_audit(project: Project, args: argparse.Namespace, settings: Any) -> None:
        written = lifecycle().export(settings, project.record(), args.to)
        print(f"wrote {written}: the audit chain and @{settings.serving_alias}'s version, "
              "to publish with governance.yml (scripts/publish-record.sh)")  # fmt: skip

    parsers = commands.add_parser("promote", help=f"move @champion to a {kind} version that passed")
    parsers.add_argument("--version", help=f"{kind} version (default: the @challenger)")
    parsers.set_defaults(handler=promote)
    parsers = commands.add_parser("rollback", help="move @champion back to the previous one")
    parsers.set_defaults(handler=rollback)
    parsers = commands.add_parser(
        "docs-pack", help="technical documentation of a version (EU AI Act Annex IV headings)"
    )
    parsers.add_argument("--version", help=f"{kind} version (default: the @champion)")
    parsers.add_argument("--output", type=Path, help="default outputs/<name>-v<n>-technical-...md")
    parsers.set_defaults(handler=docs_pack)
    parsers = commands.add_parser(
        "status", help=f"which {kind} versions hold @champion and @challenger"
    )
    parsers.add_argument("--json", action="store_true")
    parsers.set_defaults(handler=status)
    parsers = commands.add_parser(
        "export-audit", help="the audit chain and the champion, for the inventory to verify"
    )
    parsers.add_argument("--to", type=Path, default=Path("outputs") / "governance-record")
    parsers.set_defaults(handler=export_audit)
