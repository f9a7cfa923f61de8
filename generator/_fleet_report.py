"""A rollout's report: each shard writes what it did (`--report-json`), and `fleet report`
merges the shards into one Markdown summary (a CI run's summary page) and one static HTML
page: a table per state, a link to every pull request, the fleet's template versions as
a chart.

Shard reports are CI artifacts, read back as data: bounded in size, checked field by field,
and every text in them escaped for the page it lands on (links only to https pull requests).
A repository listed by two shard reports is listed once, from the report given last.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import GoldpathError
from ._pull_body import md_text
from ._report import printable

if TYPE_CHECKING:
    from ._fleet import UpdateResult

FORMAT = "goldpath-fleet-report/1"
MAX_REPORT = 64 << 20
# The states a reader acts on, in the order the page shows them.
STATES = {
    "conflicts": "Conflicts to resolve",
    "tests-failed": "Tests failing on the update",
    "lock-failed": "Lock file does not resolve",
    "failed": "Not updated (errors)",
    "clean": "Ready to merge",
    "declined": "Declined by the team (pull request closed)",
    "up-to-date": "Already at the release",
}
_FAILED = {"error", "pr-failed", "interrupted", "foreign-template"}


@dataclass(frozen=True)
class Row:
    repo: str
    state: str
    from_version: str
    to_version: str
    kind: str
    pull_request: str
    detail: str
    shard: str


def state_of(result: dict[str, Any]) -> str:
    status = str(result.get("status"))
    if status in _FAILED:
        return "failed"
    if result.get("pull_request_action") == "declined":
        return "declined"
    if status == "current" and not result.get("branch"):
        return "up-to-date"
    outcome = str(
        result.get("outcome") or ("clean" if status in ("updated", "current") else status)
    )
    return outcome if outcome in STATES else "failed"


def write_report(path: Path, results: Sequence[UpdateResult], shard: str, template: str) -> None:
    document = {"format": FORMAT, "shard": shard, "template": template,
                "results": [asdict(result) for result in results]}  # fmt: skip
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(document, indent=1), encoding="utf-8")
    partial.replace(path)  # a reader sees the whole report or none


def _text(value: Any, where: str, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise GoldpathError(f"{where}: {field} is not text; is this a goldpath fleet report?")
    return value[:2000]


def read_report(path: Path) -> list[Row]:
    where = f"report {path}"
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_REPORT + 1)
    except OSError as exc:
        raise GoldpathError(f"{where}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_REPORT:
        raise GoldpathError(f"{where}: larger than {MAX_REPORT >> 20} MiB; refused")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        raise GoldpathError(f"{where}: not JSON; give the files --report-json wrote") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise GoldpathError(f"{where}: not a goldpath fleet report ({FORMAT}); give the files "
                            "--report-json wrote")  # fmt: skip
    results = document.get("results")
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise GoldpathError(f"{where}: results is not a list of repositories")
    shard = _text(document.get("shard"), where, "shard")
    rows = []
    for index, result in enumerate(results):
        at = f"{where}: results[{index}]"
        repo = _text(result.get("repo"), at, "repo")
        if not repo:
            raise GoldpathError(f"{at}: names no repository")
        rows.append(Row(
            repo=repo, state=state_of(result),
            from_version=_text(result.get("from_version"), at, "from_version"),
            to_version=_text(result.get("to_version"), at, "to_version"),
            kind=_text(result.get("kind"), at, "kind") if result.get("branch") else "",
            pull_request=_text(result.get("pull_request"), at, "pull_request"),
            detail=_text(result.get("detail"), at, "detail").split("\n", 1)[0],
            shard=shard,
        ))  # fmt: skip
    return rows


def merge(paths: Iterable[Path]) -> list[Row]:
    merged: dict[str, Row] = {}
    for path in paths:
        for row in read_report(path):
            merged.pop(row.repo, None)
            merged[row.repo] = row
    return sorted(merged.values(), key=lambda r: (list(STATES).index(r.state), r.repo))


def versions(rows: Sequence[Row]) -> list[tuple[str, int]]:
    """Where each repository stands now: its release before the update merges."""
    counted = Counter(
        (r.to_version if r.state == "up-to-date" else r.from_version) or "unknown" for r in rows
    )
    return sorted(counted.items(), key=lambda item: _release_key(item[0]))


def _release_key(tag: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", tag)[:4]) or (-1,)


def _link(url: str) -> str | None:
    return url if re.fullmatch(r"https://[^\s\"'<>`]+", url) else None


def markdown(rows: Sequence[Row]) -> str:
    counts = Counter(r.state for r in rows)
    lines = ["# goldpath rollout", "",
             f"{len(rows)} repositories: " + ", ".join(
                 f"{counts[s]} {s}" for s in STATES if counts[s]), ""]  # fmt: skip
    lines += ["## Template versions across the fleet", "", "| release | repositories | |",
              "|---|---:|---|"]  # fmt: skip
    most = max((n for _, n in versions(rows)), default=1)
    for tag, count in versions(rows):
        lines.append(f"| {md_text(tag)} | {count} | {'█' * max(1, round(20 * count / most))} |")
    for state, heading in STATES.items():
        listed = [r for r in rows if r.state == state]
        if not listed:
            continue
        lines += ["", f"## {heading} ({len(listed)})", "",
                  "| repository | from | to | how | pull request | detail |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for row in listed:
            url = _link(row.pull_request)
            pull = f"[\\#{md_text(url.rsplit('/', 1)[-1])}]({url})" if url else ""
            cells = [md_text(row.repo), md_text(row.from_version), md_text(row.to_version),
                     md_text(row.kind), pull, md_text(row.detail[:200])]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _chart(rows: Sequence[Row]) -> str:
    counted = versions(rows)
    most = max((n for _, n in counted), default=1)
    bar_height, width = 28, 420
    height = bar_height * len(counted) + 10
    label = ", ".join(f"{tag}: {count}" for tag, count in counted)
    title = f"Template versions: {html.escape(printable(label))}"
    parts = [f'<svg role="img" aria-labelledby="chart-title" width="{width + 160}" '
             f'height="{height}" viewBox="0 0 {width + 160} {height}">',
             f'<title id="chart-title">{title}</title>']  # fmt: skip
    for index, (tag, count) in enumerate(counted):
        y = 5 + index * bar_height
        length = max(2, round(width * count / most))
        parts += [
            f'<text x="0" y="{y + 18}" font-size="14">{html.escape(printable(tag))}</text>',
            f'<rect x="100" y="{y}" width="{length}" height="{bar_height - 8}" fill="#1f6feb"/>',
            f'<text x="{106 + length}" y="{y + 16}" font-size="13">{count}</text>',
        ]
    return "\n".join([*parts, "</svg>"])


COLUMNS = ["repository", "from", "to", "how", "pull request", "detail"]


def _row_html(row: Row) -> str:
    def cell(text: str) -> str:
        return f"<td>{html.escape(printable(text))}</td>"

    url = _link(row.pull_request)
    anchor = "#" + html.escape(url.rsplit("/", 1)[-1]) if url else ""
    pull = f'<td><a href="{html.escape(url)}">{anchor}</a></td>' if url else "<td></td>"
    cells = [cell(row.repo), cell(row.from_version), cell(row.to_version), cell(row.kind), pull,
             cell(row.detail[:300])]  # fmt: skip
    return "<tr>" + "".join(cells) + "</tr>"


def page(rows: Sequence[Row]) -> str:
    """A static page: no script, no external resource; readable by a screen reader."""
    counts = Counter(r.state for r in rows)
    summary = ", ".join(f"{counts[s]} {s}" for s in STATES if counts[s])
    body = ["<h1>goldpath rollout</h1>",
            f"<p>{len(rows)} repositories: {html.escape(summary)}</p>",
            "<h2>Template versions across the fleet</h2>", _chart(rows)]  # fmt: skip
    header = "".join(f'<th scope="col">{name}</th>' for name in COLUMNS)
    for state, heading in STATES.items():
        listed = [r for r in rows if r.state == state]
        if listed:
            ident = f"state-{state}"
            body += [f'<h2 id="{ident}">{html.escape(heading)} ({len(listed)})</h2>',
                     f'<table aria-labelledby="{ident}"><thead><tr>{header}</tr></thead><tbody>',
                     *map(_row_html, listed), "</tbody></table>"]  # fmt: skip
    style = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328}"
             "table{border-collapse:collapse;margin-bottom:1.5rem}"
             "td,th{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}"
             "a{color:#0550ae}")  # fmt: skip
    policy = "default-src 'none'; style-src 'unsafe-inline'"
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
            f"<title>goldpath rollout</title><style>{style}</style></head><body><main>\n"
            + "\n".join(body) + "\n</main></body></html>\n")  # fmt: skip
