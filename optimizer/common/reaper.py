"""A helper process that cleans up after us when we are killed with SIGKILL.

SIGKILL cannot be caught: a `sourcing` killed with `kill -9` during a CBC
solve used to leave CBC running (in a session of its own) and its model
file, up to 75 MB, in the temporary folder. CBC now dies with its parent (a
parent-death signal, set in `optimizer.solving`); the files need a process
that outlives us. The reaper is that process: a small Python started the first
time something is put in its care, in a session of its own (a Ctrl-C to the
terminal does not reach it), with our end of a pipe as its standard input.
We tell it what to clean (CBC process groups, temporary folders) and what is
done with; when the pipe reaches its end without a goodbye, we are gone, and
it kills those process groups and removes those folders, then exits. On a
normal exit we say goodbye and it exits doing nothing.

The pipe's write end is not inherited by any other process (CBC, workers), so
it closes exactly when this process ends, however it ends.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

# Runs in `python -I -S -c`: standard library only, nothing imported from here.
REAPER_CODE = r"""
import os, shutil, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
groups, paths = set(), set()
for raw in sys.stdin.buffer:
    op, _, arg = raw.rstrip(b"\n").partition(b" ")
    if op == b"bye":
        sys.exit(0)
    if op in (b"+g", b"-g"):
        (groups.add if op == b"+g" else groups.discard)(int(arg))
    elif op in (b"+p", b"-p"):
        (paths.add if op == b"+p" else paths.discard)(bytes.fromhex(arg.decode()))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
for path in paths:
    shutil.rmtree(path, ignore_errors=True)
"""


class _State:
    """The reaper of this process (a spawned worker starts its own)."""

    proc: subprocess.Popen[bytes] | None = None
    owner: int = 0  # pid of the process that started it

_LOCK = threading.Lock()

_STATE = _State()


def _mine() -> subprocess.Popen[bytes] | None:
    proc = _STATE.proc
    return proc if proc is not None and _STATE.owner == os.getpid() else None


def _reaper() -> subprocess.Popen[bytes] | None:
    """The reaper of this process, started on first use; None if it cannot be started."""
    proc = _mine()
    if proc is not None and proc.poll() is None:
        return proc
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", REAPER_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        return None
    _STATE.proc, _STATE.owner = proc, os.getpid()
    return proc


def _tell(line: str) -> None:
    with _LOCK:
        proc = _reaper()
        if proc is None or proc.stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()


def watch_group(pgid: int) -> None:
    """Kill this process group if we die before `forget_group`."""
    _tell(f"+g {pgid}")


def forget_group(pgid: int) -> None:
    """The process group is gone: nothing to kill."""
    if _mine() is not None:
        _tell(f"-g {pgid}")


def watch_path(path: Path | str) -> None:
    """Remove this folder if we die before `forget_path`."""
    _tell(f"+p {os.fsencode(os.fspath(path)).hex()}")


def forget_path(path: Path | str) -> None:
    """The folder is removed (or kept on purpose): nothing to do."""
    if _mine() is not None:
        _tell(f"-p {os.fsencode(os.fspath(path)).hex()}")


def shutdown() -> None:
    """Say goodbye: the reaper exits without doing anything; reap it."""
    with _LOCK:
        proc = _mine()
        if proc is None:
            return
        _STATE.proc = None
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.write(b"bye\n")
                proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            proc.wait(timeout=2)


def pid() -> int | None:
    """The reaper's pid, if one runs for this process."""
    proc = _mine()
    return None if proc is None else proc.pid


atexit.register(shutdown)
