"""A tutorial of the documentation site, run as written: its `bash` blocks in order, in one
shell, from a fresh folder. A block titled "Second terminal" runs beside the rest (a server
the later blocks call) and is stopped when the tutorial ends; blocks of any other language
are shown, not run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from generator._process import project_env
from generator._template import REPO_ROOT

DOCS = REPO_ROOT / "docs"
_FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
BESIDE = 'title="Second terminal"'


@dataclass(frozen=True)
class Block:
    language: str
    attributes: str
    body: str

    @property
    def runs(self) -> bool:
        return self.language == "bash"

    @property
    def beside(self) -> bool:
        return BESIDE in self.attributes


def blocks(page: Path) -> list[Block]:
    return [Block(m[1], m[2].strip(), m[3]) for m in _FENCE.finditer(page.read_text())]


STEP = "::tutorial-step"


def script(page: Path, *, marked: bool = False) -> str:
    """The shell script a reader types: foreground blocks as they are, each block titled
    "Second terminal" in the background. `marked`: each block first prints its number and
    the time (`::tutorial-step N SECONDS`), for timing a reader's path."""
    lines = ["set -euo pipefail"]
    for number, block in enumerate(b for b in blocks(page) if b.runs):
        if marked:
            lines.append(f'printf "\\n{STEP} {number} %s\\n" "$(date +%s.%N)"')
        # Its output goes to a file: the tutorial's own output ends when the tutorial does.
        lines.append(
            f'( {block.body.strip()}\n) > "$TUTORIAL_LOGS/second-terminal.log" 2>&1 &'
            if block.beside
            else block.body.rstrip()
        )
    return "\n".join(lines) + "\n"


def _stop_group(group: int, grace: float = 30) -> None:
    """SIGTERM to every process the tutorial left (a server drains), SIGKILL after `grace`;
    returns once none is left."""
    deadline = time.monotonic() + grace
    sent = signal.SIGTERM
    while True:
        try:
            os.killpg(group, sent if sent else 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            sent = signal.SIGKILL
        elif sent == signal.SIGTERM:
            sent = 0
        time.sleep(0.2)


def run_tutorial(page: Path, workspace: Path, env: dict[str, str] | None = None,
                 timeout: float = 900, *, marked: bool = False,
                 ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run the page in `workspace` with goldpath on PATH (this checkout's CLI, as
    `uv tool install` from it gives); every process it started is stopped after."""
    bin_dir = workspace / ".bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    goldpath = bin_dir / "goldpath"
    goldpath.write_text(f'#!/bin/sh\nexec "{REPO_ROOT}/.venv/bin/goldpath" "$@"\n')
    goldpath.chmod(0o755)
    environment = {**project_env(), **(env or {})}
    environment["TUTORIAL_LOGS"] = str(bin_dir)
    environment["PATH"] = f"{bin_dir}{os.pathsep}{environment['PATH']}"
    process = subprocess.Popen(
        ["bash", "-c", script(page, marked=marked)], cwd=workspace, env=environment, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = process.communicate(timeout=timeout)
    finally:
        _stop_group(process.pid)
    return subprocess.CompletedProcess(process.args, process.returncode, out, "")
