"""Process trees: is a process alive, which processes are below ours, kill them all.

Read through psutil (one portable view of the process table), for the clean-up
after SIGINT/SIGTERM/SIGHUP, the sweeping of files left by killed processes,
and the executor's workers.
"""

from __future__ import annotations

import contextlib
import os
import time

import psutil


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists and is not a zombie (ours or another user's)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def descendants(pid: int | None = None) -> list[int]:
    """Every process below `pid` (default: this one), children before grandchildren."""
    try:
        children = psutil.Process(os.getpid() if pid is None else pid).children(recursive=True)
    except psutil.Error:
        return []
    return [c.pid for c in children]


def kill_descendants() -> None:
    """SIGKILL every process below this one (the tree is read first, then killed).

    Our own children are then reaped, so that none stays behind as a zombie
    (an init that does not reap would keep it for good).
    """
    for pid in descendants():
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no children left
            return
        if pid == 0:
            time.sleep(0.01)
