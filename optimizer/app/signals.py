"""Stopping cleanly on SIGINT, SIGTERM and SIGHUP: solvers and worker processes go with us.

The command line turns these signals into `Interrupted`, which unwinds like
any error (temporary folders are removed, nothing half-written stays) and
ends with exit code 130, 143 or 129 (a closed terminal). Before that, every
process this one started, directly or through a worker (CBC runs in a
session of its own, so a signal to our process group would not reach it), is
killed (`optimizer.common.processes`). Before the command line is imported,
and once it has finished, `optimizer.entry`'s handler does the same in one line
without unwinding. A `kill -9` cannot be caught: `optimizer.common.reaper` and
the workers' watchdog (`optimizer.app.executor`) see to what is left then.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived; unwinds like KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP."""
        return 128 + self.signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into `Interrupted` in this process."""
    for sig in SIGNALS:
        signal.signal(sig, _raise)


@contextlib.contextmanager
def signal_guard() -> Iterator[None]:
    """Ignore further signals while stopping (a second Ctrl-C must not cut the clean-up)."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        end_quietly()


def end_quietly() -> None:
    """From now on a signal ends the process at once, with one line (no traceback)."""
    from optimizer.common.early_signals import guard

    guard("stopped by {name}")


def signal_within(exc: BaseException) -> BaseException | None:
    """The Ctrl-C (or SIGTERM, SIGHUP) behind an error, if it is one: a signal that arrives
    while a class is created or a module imported reaches us wrapped (RuntimeError:
    "Error calling __set_name__", ImportError), with the signal as its cause."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (KeyboardInterrupt, Interrupted)):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
