"""Rendering the template with copier's Python API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import copier
from plumbum.commands.processes import ProcessExecutionError

from ._errors import GoldpathError
from ._location import REPO_ROOT, locate
from ._vcs import check_ref, hardened_copier

__all__ = ["REPO_ROOT", "GoldpathError", "render"]


def render(
    destination: Path,
    *,
    template: str | None = None,
    data: Mapping[str, Any] | None = None,
    vcs_ref: str | None = None,
    defaults: bool = True,
    overwrite: bool = False,
    quiet: bool = True,
) -> Path:
    """Render the template into `destination` and return it.

    Copier validators raise ValueError with the question's message; that becomes a
    GoldpathError so callers print one line instead of a traceback.
    """
    try:
        with hardened_copier():
            copier.run_copy(
                locate(template).source,
                str(destination),
                data=dict(data or {}),
                vcs_ref=check_ref(vcs_ref, "--vcs-ref") if vcs_ref else None,
                defaults=defaults,
                overwrite=overwrite,
                unsafe=True,
                quiet=quiet,
            )
    except ValueError as exc:
        raise GoldpathError(str(exc).splitlines()[0]) from None
    except ProcessExecutionError as exc:
        raise GoldpathError(_git_problem(exc, template)) from None
    return destination


def _git_problem(exc: ProcessExecutionError, template: str | None) -> str:
    """copier's git failure as one line; a nested repository in the template checkout
    (a project made inside it) is named, with the fix."""
    stderr = str(exc.stderr or "").strip()
    nested = re.search(r"No url found for submodule path '([^']+)'", stderr)
    source = locate(template).source
    if nested:
        return (
            f"the template checkout {source} holds another git repository at {nested.group(1)}/ "
            "(a project made inside it?): move it out, or add it to .gitignore there"
        )
    last = stderr.splitlines()[-1] if stderr else f"exit code {exc.retcode}"
    return f"git failed while copier read the template {source}: {last}"
