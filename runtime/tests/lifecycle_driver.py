"""A decision in a process of its own, as a project's `make promote` runs it, for the
tests that kill it half-way or run many at once:

    python lifecycle_driver.py URI ARTIFACTS KIND NAME RECORD promote|rollback [before|after]
    python lifecycle_driver.py URI ARTIFACTS KIND NAME RECORD append WRITER COUNT

With `before` or `after` the process SIGKILLs itself at the alias move; APPROVER, REASON
and VALIDATOR come from the environment, as they do for `make promote`.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from goldpath_runtime.governance import Approval, AuditTrail
from goldpath_runtime.lifecycle import ModelVersions, PromptVersions, promote, rollback
from goldpath_runtime.store import StoreConfig, connect, ensure_experiment


def main(argv: list[str]) -> int:
    uri, artifacts, kind, name, record, action, *rest = argv
    store = StoreConfig(uri, artifacts, "rfq_model")
    client = connect(store)
    adapter = ModelVersions if kind == "model" else PromptVersions
    versions = adapter(client, name)
    trail = AuditTrail(client, ensure_experiment(client, store), name, Path(record))
    if action == "append":
        writer, count = rest
        for n in range(int(count)):
            decision = Approval("promoted", writer, f"{writer}-{n}", None,
                                "2026-01-01T00:00:00+00:00", "local", None)  # fmt: skip
            trail.append("1", decision, step="approved")
        return 0
    if rest:
        when, original = rest[0], adapter.set_alias

        def killed(self: Any, alias: str, number: str) -> None:
            if when == "after":
                original(self, alias, number)
            os.kill(os.getpid(), signal.SIGKILL)

        adapter.set_alias = killed  # type: ignore[method-assign]
    move = (promote if action == "promote" else rollback)(versions, trail)
    print(f"{move.previous} -> {move.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
