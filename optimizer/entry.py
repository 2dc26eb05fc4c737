"""Entry point of `sourcing` and `python -m optimizer`: safe from the first moment.

Importing the command line takes a second or two (pandas, pydantic, PuLP...);
a Ctrl-C then used to print a KeyboardInterrupt traceback. This module needs
only the standard library: it first installs a handler that writes one line
and ends the process with 128 + the signal number (130 for Ctrl-C), and only
then imports the command line, which installs its own handlers (they stop the
solvers and workers it starts). Nothing needs cleaning up before that.
"""

from __future__ import annotations

from optimizer.common.early_signals import guard


def main() -> None:
    """Guard, then run the command line."""
    guard()
    from optimizer.cli import main as cli_main

    cli_main()
