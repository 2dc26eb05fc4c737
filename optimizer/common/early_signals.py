"""Signal handlers that need only the standard library: one line, then exit 128 + N.

Installed by `optimizer.entry` before any heavy import, and again by the
command line once it has finished (`optimizer.app.signals.end_quietly`).
"""

from __future__ import annotations

import os
import signal
from types import FrameType

_MESSAGE = ["stopped by {name}: nothing was done"]


def _stop(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    try:
        os.write(2, (_MESSAGE[0].format(name=name) + "\n").encode())
    finally:
        os._exit(128 + signum)


def guard(message: str = "stopped by {name}: nothing was done") -> None:
    """SIGINT, SIGTERM and SIGHUP end the process at once with `message` (one line)."""
    _MESSAGE[0] = message
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
