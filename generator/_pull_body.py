"""A rollout pull request's title and body, in Markdown both forges render.

Everything in it that a repository controls (file names, test output) or that a release
carries (its notes) is data: control characters dropped, HTML and Markdown punctuation
escaped, `@` kept from mentioning anyone, output in a fence longer than any backtick run
inside it. The body is bounded to what the forge accepts (GitHub 65,536 characters, Azure
DevOps 4,000), and built only from what the update branch records, so a rerun composes
the same text and changes nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ._report import printable

MARKER = "<!-- goldpath-update -->"
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
STATES = {
    "clean": "applies cleanly",
    "conflicts": "has conflicts: both sides are kept in the files below; resolve them",
    "tests-failed": "applies, but the tests fail: fix them on this branch",
    "lock-failed": "applies, but `uv lock` cannot resolve the new dependencies",
}


def md_text(text: str) -> str:
    """`text` as literal Markdown text on one line."""
    escaped = html.escape(printable(text), quote=False)
    return _MARKDOWN.sub(r"\\\1", escaped).replace("@", "@&#8203;")


def fenced(text: str, max_lines: int, max_chars: int) -> str:
    lines = ["".join(c for c in line if c == "\t" or printable(c)) for line in text.splitlines()]
    kept = lines[-max_lines:]
    body = "\n".join(kept)[-max_chars:]
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


@dataclass
class UpdateText:
    from_version: str
    to_version: str
    state: str  # a key of STATES
    kind: str = "render"  # render (copier update) or bump (versions and lock file only)
    projects: Sequence[str] = (".",)
    files: Sequence[str] = ()
    tests: str = "not run"  # passed, failed, not run
    output: str = ""  # the failing tests' (or uv lock's) last lines
    lock: str = ""  # what happened to uv.lock
    notes: Sequence[str] = field(default_factory=list)


def title(text: UpdateText) -> str:
    suffix = "" if text.state == "clean" else f" ({text.state})"
    return f"Update goldpath template to {text.to_version}{suffix}"


def body(text: UpdateText, limit: int) -> str:
    """The body, at most `limit` characters: shorter lists and output when it must."""
    for scale in (1.0, 0.5, 0.25, 0.1, 0.0):
        composed = _compose(text, scale)
        if len(composed) <= limit:
            return composed
    return composed[:limit]


def _listed(items: Sequence[str], most: int) -> list[str]:
    lines = [f"- {md_text(item)}" for item in items[:most]]
    if len(items) > most:
        lines.append(f"- and {len(items) - most} more")
    return lines


def _compose(text: UpdateText, scale: float) -> str:
    how = ("a version bump: pinned versions and the lock file, nothing rendered"
           if text.kind == "bump" else "`copier update` with the platform's template")  # fmt: skip
    lines = [
        MARKER,
        f"## goldpath template {md_text(text.from_version)} → {md_text(text.to_version)}",
        "",
        f"**This update {STATES[text.state]}.**",
        "",
        f"- How: {how}",
        f"- Projects: {', '.join(md_text(p) for p in text.projects)}",
        f"- Tests: {text.tests}"
        + (" (this repository's CI tests the branch)" if text.tests == "not run" else ""),
    ]
    if text.lock:
        lines.append(f"- Lock file: {md_text(text.lock)}")
    if text.files:
        lines += ["", "### Files to resolve", "", *_listed(text.files, max(1, int(200 * scale)))]
    if text.output and scale > 0:
        lines += ["", "### Output", "", fenced(text.output, int(60 * scale) or 1,
                                               int(6000 * scale) or 1)]  # fmt: skip
    if text.notes and scale > 0:
        lines += ["", "### What changed in the template", "",
                  *_listed(text.notes, max(1, int(100 * scale)))]  # fmt: skip
    lines += ["", "Opened by `goldpath fleet update --open-pr`; a rerun updates this pull "
              "request in place."]  # fmt: skip
    return "\n".join(lines) + "\n"
