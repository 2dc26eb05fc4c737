"""Reading input files safely: regular files only (no FIFO blocks us), within a size.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class FileRefused(Exception):
    """The path cannot be read as an input file; the message says why."""


class TooLarge(FileRefused):
    """The file is larger than the cap; `size` is how much was seen."""

    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(f"file is too large ({size:,} bytes; the limit is {max_bytes:,})")
        self.size = size
        self.max_bytes = max_bytes

_KINDS = (
    (stat.S_ISDIR, "it is a directory, not a file"),
    (stat.S_ISFIFO, "it is a named pipe (FIFO), not a regular file"),
    (stat.S_ISCHR, "it is a character device, not a regular file"),
    (stat.S_ISBLK, "it is a block device, not a regular file"),
    (stat.S_ISSOCK, "it is a socket, not a regular file"),
)


def kind_problem(mode: int) -> str | None:
    """Why a file of this mode is not read (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    for test, reason in _KINDS:
        if test(mode):
            return reason
    return "it is not a regular file"


def os_reason(exc: OSError) -> str:
    """An OSError as a short reason (a symbolic link loop named as such)."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (a link that points back to itself)"
    if exc.errno == errno.ENOENT:
        return "no such file"
    return str(exc.strerror or exc)


def check_regular(path: Path | str) -> os.stat_result:
    """`os.stat` of a path that must be a regular file; `FileRefused` otherwise."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FileRefused(os_reason(exc)) from None
    except ValueError as exc:  # an embedded NUL byte
        raise FileRefused(str(exc)) from None
    problem = kind_problem(st.st_mode)
    if problem:
        raise FileRefused(problem)
    return st


def read_regular(path: Path | str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; `FileRefused` (or `TooLarge`)."""
    st = check_regular(path)
    if st.st_size > max_bytes:
        raise TooLarge(st.st_size, max_bytes)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileRefused(os_reason(exc)) from None
    try:
        problem = kind_problem(os.fstat(fd).st_mode)  # swapped since the stat above
        if problem:
            raise FileRefused(problem)
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileRefused(os_reason(exc)) from None
    finally:
        os.close(fd)
    if size > max_bytes:  # grew while it was read
        raise TooLarge(size, max_bytes)
    return b"".join(chunks)
