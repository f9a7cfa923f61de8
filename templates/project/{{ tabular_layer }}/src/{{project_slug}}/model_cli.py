"""Command line of the project: `python -m <package> train|promote|rollback|batch|...`
(goldpath_runtime.tabular.cli, with this project's parts)."""

from __future__ import annotations

from collections.abc import Sequence

from goldpath_runtime.tabular import cli

from .project import PROJECT


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(PROJECT, argv)
