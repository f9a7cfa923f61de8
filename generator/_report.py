"""What goldpath prints about other teams' repositories: text they control never reaches
a terminal as an escape sequence, nor a spreadsheet as a formula."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# A spreadsheet runs a cell that starts with one of these (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """`text` without control and format characters (terminal escapes, bidirectional
    overrides); a line break becomes a space, so one row stays one line."""
    text = re.sub(r"[\r\n\u0085\u2028\u2029]+", " ", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: printable, and a leading formula character
    escaped with a quote as spreadsheets expect."""
    cell = printable(text)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [[printable(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)
