"""Reading the YAML files users write (presets, fleet files, governance records): a
mistake is one line naming the file, the line and the problem, never a parser dump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ._errors import GoldpathError


def read_yaml(path: Path, what: str) -> Any:
    """`path`'s document; GoldpathError starting with `what` when it cannot be read."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise GoldpathError(f"{what}{where}: not valid YAML ({problem})") from None
    except UnicodeDecodeError:
        raise GoldpathError(f"{what}: not UTF-8 text") from None
