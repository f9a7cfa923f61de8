"""The `goldpath` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from ._template import GoldpathError


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    run_demo(args.destination.resolve(), template=args.template)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="goldpath", description="The golden path for ML engineering."
    )
    parser.add_argument("--version", action="version", version=f"goldpath {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="scaffold a project with default answers and show it working end to end",
    )
    demo.add_argument("destination", nargs="?", type=Path, default=Path("demo"))
    demo.add_argument("--template", help="template path or git URL (default: this checkout)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except GoldpathError as exc:
        print(f"goldpath: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("goldpath: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
