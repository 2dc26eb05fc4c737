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
from optimizer.errors import Located, ScenarioError, UserError
from optimizer.interrupt import Interrupted, kill_descendants
from optimizer.interrupt import install as install_signal_handlers
from optimizer.loading import LoadedScenario, dump_yaml, load_scenario
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
        except (KeyboardInterrupt, Interrupted) as exc:
            kill_descendants()
            code = exc.exit_code if isinstance(exc, Interrupted) else 130
            name = str(exc) if isinstance(exc, Interrupted) else "SIGINT"
            err_console.print(
                f"stopped by {name}: the solver was stopped and nothing was written",
                markup=False,
            )
            raise typer.Exit(code) from None
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
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.", metavar="FILE")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
) -> None:
    """Load and check scenario files without solving; exit 2 if any is invalid.

    Prints `OK FILE (...)` on stdout for each valid file and every problem of
    an invalid one on stderr, as `FILE:LINE: field.path: message (got VALUE)`.
    """
    results = [_validate_one(path, as_json) for path in files]
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
    bad = sum(not r["ok"] for r in results)
    if bad:
        if len(results) > 1 and not as_json:
            typer.echo(f"{bad} of {len(results)} files are invalid", err=True)
        raise typer.Exit(2)


def _validate_one(path: Path, as_json: bool) -> dict[str, Any]:
    """Load one file; print its verdict unless the result goes out as JSON."""
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        if not as_json:
            typer.echo(str(exc), err=True)
        problems = [
            {"file": p.file, "line": p.line, "path": p.path, "message": p.message, "got": p.got}
            for p in exc.problems
        ]
        return {"file": str(path), "ok": False, "problems": problems}
    sc = loaded.scenario
    if not as_json:
        typer.echo(
            f"OK {path} ({sc.name}: {len(sc.materials)} materials, "
            f"{len(sc.suppliers)} suppliers, {sc.horizon.periods} periods)"
        )
        return {"file": str(path), "ok": True}
    return {
        "file": str(path),
        "ok": True,
        "problems": [],
        "scenario": sc.name,
        "content_hash": loaded.content_hash(),
    }


@app.command()
@handle_errors
def schema() -> None:
    """Print the JSON Schema of scenario files (draft-07, for editors) on stdout.

    The committed copy is made with `sourcing schema > scenario.schema.json`;
    point editors at it with `# yaml-language-server: $schema=scenario.schema.json`.
    """
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


SolverName = Annotated[
    str,
    typer.Option(
        "--solver",
        help="auto (the measured default per model class), highs, highs-ipm or cbc.",
    ),
]
TimeLimit = Annotated[
    float | None,
    typer.Option("--time-limit", min=0.0, help="Stop the solver after this many seconds."),
]
MipGap = Annotated[
    float | None,
    typer.Option("--mip-gap", min=0.0, max=1.0, help="Relative MIP gap at which to stop."),
]


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    from optimizer.solving import cbc_version, highs_version

    out = {"sourcing": __version__, "python": sys.version.split()[0]}
    try:
        out["pulp"] = version("pulp")
    except Exception:
        out["pulp"] = ""
    out["highspy"] = highs_version()
    out["cbc"] = cbc_version()
    return out


def _infeasible(loaded: LoadedScenario, exc: Exception) -> UserError:
    """Name the file and line of each policy that makes the scenario infeasible."""
    from optimizer.errors import InfeasiblePolicy
    from optimizer.loading import _dotted
    from optimizer.pipeline import PolicyInfeasible

    if not isinstance(exc, PolicyInfeasible) or not exc.conflicts:
        return exc if isinstance(exc, UserError) else InfeasiblePolicy(str(exc))
    lines = []
    for c in exc.conflicts:
        path = c.paths[0]
        file, line = loaded.locate(path)
        message = f"infeasible policy for {c.material}: {c.message}"
        lines.append(str(Located(file, line, _dotted(path), message)))
    return InfeasiblePolicy("\n".join(lines))


@app.command()
@handle_errors
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file to solve.", metavar="SCENARIO")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write plan.csv, inventory.csv, summary.json, ... here."),
    ] = None,
    solver: SolverName = "auto",
    time_limit: TimeLimit = None,
    mip_gap: MipGap = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print summary.json on stdout instead of tables.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing, non-empty --out folder.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the solver log on stderr.")
    ] = False,
    excel: Annotated[
        bool, typer.Option("--excel", help="Also write the Excel workbook plan.xlsx (with --out).")
    ] = False,
) -> None:
    """Solve a scenario: print the plan's summary and write the plan with --out.

    The --out folder holds plan.csv, orders.csv (the order schedule),
    inventory.csv, spot.csv, scenarios.csv, summary.json,
    scenario.resolved.yaml, report.html and, with --excel, plan.xlsx.
    """
    from optimizer.pipeline import run_scenario
    from optimizer.report import ensure_writable, print_summary, run_files, summary, write_folder
    from optimizer.solving import SolverOptions

    if excel and out is None:
        raise UserError("--excel needs --out DIR: the workbook is written into the run folder")
    if out is not None:
        ensure_writable(out, force)
    loaded = load_scenario(scenario)
    options = SolverOptions(
        solver=solver, time_limit=time_limit, mip_gap=mip_gap, verbose=verbose
    )
    try:
        result = run_scenario(loaded.scenario, options)
    except UserError as exc:
        raise _infeasible(loaded, exc) from None
    doc = summary(
        result,
        file=str(scenario),
        content_hash=loaded.content_hash(),
        versions=_versions(),
    )
    if out is not None:
        files = run_files(result, doc, dump_yaml(loaded.resolved_data()), excel=excel)
        write_folder(out, files, force)
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        print_summary(doc, out_console)
        if out is not None:
            out_console.print(f"Plan written to {out}/", markup=False)


@app.command()
@handle_errors
def report(
    run_dir: Annotated[
        Path, typer.Argument(help="Run folder written by `sourcing run --out`.", metavar="RUN_DIR")
    ],
    excel: Annotated[
        bool, typer.Option("--excel", help="Also rewrite the Excel workbook plan.xlsx.")
    ] = False,
) -> None:
    """Regenerate RUN_DIR/report.html (and plan.xlsx with --excel) from the folder's files.

    Reads summary.json, plan.csv, orders.csv, inventory.csv and
    scenario.resolved.yaml; solves nothing. Prints the path of each file written.
    """
    from optimizer.excel import write_workbook
    from optimizer.html_report import write_report
    from optimizer.run_folder import read_run

    written = [write_report(run_dir)]
    if excel:
        target = run_dir / "plan.xlsx"
        tmp = run_dir / ".plan.xlsx.tmp"
        try:
            write_workbook(read_run(run_dir), tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(target)
    for path in written:
        out_console.print(str(path), markup=False)


def main() -> None:
    """Entry point of the `sourcing` console script."""
    install_signal_handlers()
    app(prog_name="sourcing")
