"""Native libraries that print on stdout (HiGHS' banner): their output kept off it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_stdout(verbose: bool) -> Iterator[None]:
    """Send whatever native code prints on fd 1 (HiGHS' banner) to stderr or nowhere."""
    sys.stdout.flush()
    saved = os.dup(1)
    target = os.dup(2) if verbose else os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(target, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(target)
