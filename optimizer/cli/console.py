"""Where the command line writes, and how it ends: consoles, logging, errors -> exit codes.

Results go to stdout; errors, warnings (through `logging`) and progress go to
stderr. Every command is wrapped in `handle_errors`: a user error prints its
message and exits with its code (`optimizer.common.errors.failure`, the one
mapping), a bug prints one line (the traceback with `--debug`) and exits 1,
a closed pipe ends quietly with 0, a signal stops everything we started.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from optimizer.app.signals import Interrupted, signal_guard, signal_within
from optimizer.common.errors import UserError, failure
from optimizer.common.processes import kill_descendants
from optimizer.common.safe_text import escape


class _Console(Console):
    """rich's console, except that a closed pipe ends the command quietly (exit 0): rich
    itself exits 1, the code this tool keeps for bugs."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


err_console = _Console(stderr=True, highlight=False, soft_wrap=True)
# Pipes and files get wide tables rather than the 80 columns rich assumes without a terminal.
out_console = _Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)

F = TypeVar("F", bound=Callable[..., Any])

_DEBUG = [os.environ.get("SOURCING_DEBUG", "") not in ("", "0")]


def set_debug(on: bool) -> None:
    """`--debug`: tracebacks for internal errors, debug messages on stderr."""
    _DEBUG[0] = _DEBUG[0] or on
    logging.getLogger("optimizer").setLevel(logging.DEBUG if _DEBUG[0] else logging.INFO)


def debug() -> bool:
    """Whether tracebacks are shown (`--debug` or SOURCING_DEBUG=1)."""
    return _DEBUG[0]


class _StderrHandler(logging.Handler):
    """Log records as `warning: message` lines on stderr (through the error console)."""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        level = record.levelname.lower()
        line = text if text.startswith(f"{level}:") else f"{level}: {text}"
        err_console.print(escape(line, keep_newlines=True), markup=False)


def setup_logging() -> None:
    """Warnings of the library (`logging.getLogger("optimizer...")`) go to stderr."""
    root = logging.getLogger("optimizer")
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        root.addHandler(_StderrHandler())
    root.setLevel(logging.DEBUG if debug() else logging.INFO)
    root.propagate = False


log = logging.getLogger("optimizer.cli")


def warn(message: str) -> None:
    """A warning for the user, on stderr (`warning: ...`)."""
    log.warning("%s", message.removeprefix("warning: "))


def handle_errors(func: F) -> F:
    """Turn user errors into a message and their exit code; bugs into exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows here, not in click's exit handling
            return result
        except typer.Exit:
            with contextlib.suppress(BrokenPipeError):
                sys.stdout.flush()
            raise
        except BrokenPipeError:
            # The reader of stdout went away (`sourcing run ... | head`): nothing more to
            # say, and not an error. Later writes (and the final flush) go nowhere.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except (KeyboardInterrupt, Interrupted) as exc:
            raise typer.Exit(stopped(exc)) from None
        except Exception as exc:
            signal = signal_within(exc)
            if signal is not None:  # e.g. a Ctrl-C during an import, wrapped by Python
                raise typer.Exit(stopped(signal)) from None
            code, message = failure(exc)
            if not isinstance(exc, UserError):
                if debug():
                    traceback.print_exc()
                message += "\nThis is a bug in sourcing; rerun with --debug for the traceback."
            err_console.print(escape(message, keep_newlines=True), markup=False)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def forget_resource_tracker() -> None:
    """multiprocessing's resource tracker was killed with the rest: from now on nothing is
    reported to it. Semaphores still unlink themselves when collected; reporting that
    would start a new tracker, which prints KeyError tracebacks about semaphores it never
    saw (and a warning that the old one died)."""
    from multiprocessing import resource_tracker

    def nothing(*_args: object) -> None:
        return None

    for name in ("register", "unregister"):
        setattr(resource_tracker, name, nothing)


def stopped(exc: BaseException) -> int:
    """Stop everything we started after SIGINT, SIGTERM or SIGHUP; one line; the exit code."""
    from optimizer.common import reaper

    with signal_guard():  # a second Ctrl-C now must not interrupt the clean-up
        reaper.shutdown()  # everything it watched was cleaned while unwinding
        kill_descendants()
        forget_resource_tracker()
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
        name = str(exc) if isinstance(exc, Interrupted) else "SIGINT"
        err_console.print(
            f"stopped by {name}: the solver was stopped and nothing was written", markup=False
        )
    return code
