"""Rendering the template with copier's Python API."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import copier

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
    return destination
