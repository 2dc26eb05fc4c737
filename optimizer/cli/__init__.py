"""Command line (DESIGN §5): parse, call the library, print, exit with the right code.

Exit codes: 0 plan found / all valid, 1 unexpected error, 2 bad usage or
invalid scenario, 3 infeasible policy, 4 no solution within the time limit.
"""

from __future__ import annotations

from optimizer.cli import analyses, files, running  # noqa: F401  (they add the commands)
from optimizer.cli.main import app, main

__all__ = ["app", "main"]
