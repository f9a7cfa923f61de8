"""What every project hands the platform, whatever its kind: its package, where it is (its
governance record is found from there, provenance read above it), its version and its
settings class; and how its command line and its jobs run a command (one `error:` line
and exit code 1 for anything the user can fix, never a traceback)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import ProjectError
from .governance import find_record
from .logs import configure_logging
from .settings import ProjectSettings, load


@dataclass(frozen=True)
class Project:
    package: str
    package_dir: Path
    version: str
    settings: type[ProjectSettings]

    def load_settings(self, **overrides: object) -> Any:
        """Settings from the environment; a bad variable is one line (ProjectError)."""
        return load(self.settings, **overrides)

    def record(self) -> Path:
        """The project's governance record: its checkout's, or the copy a wheel carries
        (Databricks jobs have no checkout); never a working directory's."""
        return find_record(self.package_dir)

    @property
    def root(self) -> Path:
        """The project's checkout (above src/), for provenance; absent in a wheel."""
        return self.package_dir.parents[1]


AnyProject = TypeVar("AnyProject", bound=Project)


def run_command(
    project: AnyProject, parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> int:
    """Parse `argv` and call the chosen command's handler(project, args, settings)."""
    args = parser.parse_args(argv)
    handler: Callable[[AnyProject, argparse.Namespace, Any], None] = args.handler
    try:
        settings = project.load_settings()
        configure_logging(settings.log_level, stream="stderr")
        logging.getLogger(__name__).debug("command %s", args.command)
        handler(project, args, settings)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def run_job(
    job: Callable[[AnyProject, list[str]], None], project: AnyProject, argv: list[str]
) -> None:
    """A Databricks job's body, with its own arguments: a ProjectError ends it with one
    line and exit code 1."""
    try:
        job(project, argv)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
