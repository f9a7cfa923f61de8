"""`python -m generator._guard PARENT_PID -- COMMAND...`: run COMMAND in a process group
that dies with PARENT_PID (see `_lifetime`); used for `make test` inside an update."""

from __future__ import annotations

import subprocess
import sys

from ._lifetime import guard_group


def main(argv: list[str]) -> int:
    if len(argv) < 3 or not argv[0].isdigit() or argv[1] != "--":
        print("usage: python -m generator._guard PARENT_PID -- COMMAND...", file=sys.stderr)
        return 2
    guard_group(int(argv[0]))
    return subprocess.call(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
