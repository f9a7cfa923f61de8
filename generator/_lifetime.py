"""Processes that do not outlive goldpath.

Linux's parent-death signal reaches only a direct child, while an update starts a tree
(copier's tasks and migrations, `make test`, uv, pytest, a served app). So each worker
leads a process group of its own, asks for SIGTERM when its parent dies, and answers it
by killing its whole group: `kill -9` of goldpath leaves nothing of it running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from types import FrameType

_PR_SET_PDEATHSIG = 1


def _kill_group(_signum: int, _frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGKILL)


def guard_group(parent: int) -> None:
    """Make this process the leader of a group that dies with `parent`; exit at once if
    `parent` is already gone (it may die before the kernel is asked)."""
    if not sys.platform.startswith("linux"):
        return
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, _kill_group)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        _kill_group(signal.SIGTERM, None)


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """Worker processes (spawned: copier changes the working directory) that each lead a
    process group dying with this process."""
    return ProcessPoolExecutor(
        max_workers=max(1, jobs),
        mp_context=get_context("spawn"),
        initializer=guard_group,
        initargs=(os.getpid(),),
    )
