"""The `sourcing` command: the Typer application, its global options and `main`.

Commands live in the modules beside this one, one job each: `files`
(validate, schema, export-tables), `running` (run, report), `analyses`
(compare, stress, frontier, survive). Each parses, calls the library, prints, and exits with
the code of `optimizer.common.errors.failure`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from optimizer import __version__
from optimizer.app.signals import Interrupted, end_quietly
from optimizer.app.signals import install as install_signal_handlers
from optimizer.cli.console import out_console, set_debug, setup_logging, stopped

app = typer.Typer(
    name="sourcing",
    help="Supplier diversification optimizer: cheapest sourcing plans for critical materials "
    "under a risk policy, licence delays and disruptions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        out_console.print(f"sourcing {__version__}", markup=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show the traceback of an internal error (a bug)."),
    ] = False,
) -> None:
    """Supplier diversification optimizer for critical materials."""
    setup_logging()
    set_debug(debug)


SOLVING = frozenset({"run", "compare", "stress", "frontier", "survive"})
SOLVING_MODULES = (
    "pulp",
    "concurrent.futures.process",
    "multiprocessing.synchronize",
    "multiprocessing.queues",
    "optimizer.app.jobs",
    "optimizer.app.executor",
    "optimizer.app.runner",
    "optimizer.reports.folder",
    "optimizer.reports.console",
)


def _load_solver_libraries(argv: list[str]) -> None:
    """Import PuLP (and, through it, highspy) and the solving path now, for a command that
    solves.

    PuLP imports highspy inside `try: ... except:`, a bare except: a Ctrl-C
    that arrived during that import, once turned into an exception, was
    swallowed there and the run went on as if nothing had happened (seen: a
    `--jobs 2` run that ignored its SIGINT). Here `optimizer.entry`'s guard is
    still in place, so a signal ends the process at once with one line; other
    imports, like class creation, may wrap a signal in another error too.
    """
    command = next((a for a in argv[1:] if not a.startswith("-")), None)
    if command in SOLVING:
        import importlib

        for name in SOLVING_MODULES:  # what the command would import anyway, and sooner
            importlib.import_module(name)


def main() -> None:
    """Entry point of the `sourcing` console script (after `optimizer.entry`'s early guard)."""
    from optimizer.cli import analyses, files, running  # noqa: F401  (they add the commands)

    _load_solver_libraries(sys.argv)
    install_signal_handlers()
    setup_logging()
    try:
        app(prog_name="sourcing")
    except (KeyboardInterrupt, Interrupted) as exc:  # outside a command (parsing, printing)
        sys.exit(stopped(exc))
    finally:
        end_quietly()
