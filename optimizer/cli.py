"""Command line (DESIGN §5): parse, call the library, print, exit with the right code.

Results go to stdout; errors, warnings and progress go to stderr. Exit codes:
0 plan found / all valid, 1 unexpected error, 2 bad usage or invalid scenario,
3 infeasible policy, 4 no solution within the time limit.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from optimizer import __version__
from optimizer.errors import ScenarioError, UserError
from optimizer.loading import load_scenario
from optimizer.scenario import json_schema

app = typer.Typer(
    name="sourcing",
    help="Supplier diversification optimizer: cheapest sourcing plans for critical materials "
    "under a risk policy, licence delays and disruptions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def _debug() -> bool:
    return os.environ.get("SOURCING_DEBUG", "") not in ("", "0")


def handle_errors(func: F) -> F:
    """Turn user errors into a message and their exit code; bugs into exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except UserError as exc:
            err_console.print(str(exc), markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("interrupted", markup=False)
            raise typer.Exit(130) from None
        except Exception as exc:
            if _debug():
                traceback.print_exc()
            err_console.print(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in sourcing; rerun with SOURCING_DEBUG=1 for the traceback.",
                markup=False,
            )
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None

    return wrapper  # type: ignore[return-value]


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
) -> None:
    """Supplier diversification optimizer for critical materials."""


@app.command()
@handle_errors
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.", metavar="FILE...")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
) -> None:
    """Load and check scenario files without solving; exit 2 if any is invalid."""
    results = []
    for path in files:
        try:
            loaded = load_scenario(path)
        except ScenarioError as exc:
            results.append({"file": str(path), "ok": False, "problems": exc.problems})
            if not as_json:
                err_console.print(str(exc), markup=False)
            continue
        results.append({"file": str(path), "ok": True, "problems": [], "loaded": loaded})
        if not as_json:
            sc = loaded.scenario
            out_console.print(
                f"OK {path} ({sc.name}: {len(sc.materials)} materials, "
                f"{len(sc.suppliers)} suppliers, {sc.horizon.periods} periods)",
                markup=False,
            )
    if as_json:
        doc = [
            {
                "file": r["file"],
                "ok": r["ok"],
                "problems": [
                    {
                        "file": p.file,
                        "line": p.line,
                        "path": p.path,
                        "message": p.message,
                        "got": p.got,
                    }
                    for p in r["problems"]
                ],
            }
            for r in results
        ]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    if not all(r["ok"] for r in results):
        raise typer.Exit(2)


@app.command()
@handle_errors
def schema() -> None:
    """Print the JSON Schema of scenario files (draft-07, for editors) on stdout."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def main() -> None:
    """Entry point of the `sourcing` console script."""
    app(prog_name="sourcing")
