"""Command line (DESIGN §5): parse, call the library, print, exit with the right code.

Results go to stdout; errors, warnings and progress go to stderr. Exit codes:
0 plan found / all valid, 1 unexpected error, 2 bad usage or invalid scenario,
3 infeasible policy, 4 no solution within the time limit.
"""

from __future__ import annotations

import contextlib
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
from optimizer.common.processes import kill_descendants
from optimizer.app.signals import Interrupted, end_quietly, signal_guard
from optimizer.app.signals import install as install_signal_handlers
from optimizer.common.errors import ScenarioError, UserError
from optimizer.common.safe_text import escape
from optimizer.io.load import load_scenario
from optimizer.schema.scenario import json_schema

app = typer.Typer(
    name="sourcing",
    help="Supplier diversification optimizer: cheapest sourcing plans for critical materials "
    "under a risk policy, licence delays and disruptions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

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


def _debug() -> bool:
    return os.environ.get("SOURCING_DEBUG", "") not in ("", "0")


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
        except UserError as exc:
            err_console.print(escape(str(exc), keep_newlines=True), markup=False)
            raise typer.Exit(exc.exit_code) from None
        except (KeyboardInterrupt, Interrupted) as exc:
            raise typer.Exit(stopped(exc)) from None
        except Exception as exc:
            if _debug():
                traceback.print_exc()
            err_console.print(
                escape(f"internal error: {type(exc).__name__}: {exc}", keep_newlines=True)
                + "\nThis is a bug in sourcing; rerun with SOURCING_DEBUG=1 for the traceback.",
                markup=False,
            )
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None

    return wrapper  # type: ignore[return-value]


def stopped(exc: BaseException) -> int:
    """Stop everything we started after SIGINT, SIGTERM or SIGHUP; one line; the exit code."""
    from optimizer.common import reaper

    with signal_guard():  # a second Ctrl-C now must not interrupt the clean-up
        reaper.shutdown()  # everything it watched was cleaned while unwinding
        kill_descendants()
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
        name = str(exc) if isinstance(exc, Interrupted) else "SIGINT"
        err_console.print(
            f"stopped by {name}: the solver was stopped and nothing was written", markup=False
        )
    return code


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
            for p in exc.shown
        ]
        doc: dict[str, Any] = {"file": str(path), "ok": False, "problems": problems}
        if exc.not_shown:
            doc["more_problems"] = exc.not_shown  # counted, not listed (like the message)
        return doc
    sc = loaded.scenario
    for warning in loaded.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not as_json:
        typer.echo(
            escape(
                f"OK {path} ({sc.name}: {len(sc.materials)} materials, "
                f"{len(sc.suppliers)} suppliers, {sc.horizon.periods} periods)"
            )
        )
        return {"file": str(path), "ok": True}
    return {
        "file": str(path),
        "ok": True,
        "problems": [],
        "warnings": [
            {"file": w.file, "line": w.line, "path": w.path, "message": w.message}
            for w in loaded.warnings
        ],
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


Decompose = Annotated[
    str,
    typer.Option(
        "--decompose",
        help="auto: solve independent groups of materials and merged identical scenarios "
        "separately when that is exact and pays; on: always; off: one monolithic model.",
    ),
]
Jobs = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        min=0,
        help="Worker processes: for several files, files in parallel; for one file, its "
        "parts. 0 = one per core.",
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run the files on a Dask distributed cluster at this address (tcp://host:port).",
    ),
]


def _targets(out: Path | None, files: list[Path], force: bool) -> list[Path | None]:
    """Output folder of each file (out itself, or out/<stem> for several), checked early."""
    from optimizer.app.jobs import out_folder
    from optimizer.reports.folder import ensure_writable

    if out is None:
        return [None] * len(files)
    several = len(files) > 1
    targets = [out_folder(out, str(f), several) for f in files]
    stems = [t.name for t in targets]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if several and clash:
        raise UserError(f"several files would write to the same folder: {', '.join(clash)}")
    for target in targets:
        ensure_writable(target, force, files)
    return targets


def _check_threads(threads: int | None) -> None:
    """--threads at most the number of CPUs (100,000 once started 26,000 threads)."""
    cpus = os.cpu_count() or 1
    if threads is not None and threads > cpus:
        raise UserError(
            f"--threads {threads}: this machine has {cpus} CPU{'s' * (cpus > 1)}; "
            f"give at most {cpus}"
        )


def _inputs(paths: list[Path]) -> list[Path]:
    """Every file the scenarios read (their `extends` chains), for the --out checks."""
    from optimizer.io.extends import input_files

    return [f for p in paths for f in ([p] if p.is_dir() else input_files(p))]


@app.command()
@handle_errors
def run(
    scenarios: Annotated[
        list[Path], typer.Argument(help="Scenario file(s) to solve.", metavar="SCENARIO...")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the run folder here (one sub-folder per file when several).",
        ),
    ] = None,
    solver: SolverName = "auto",
    time_limit: TimeLimit = None,
    mip_gap: MipGap = None,
    decompose: Decompose = "auto",
    jobs: Jobs = 1,
    scheduler: Scheduler = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print summary.json on stdout instead of tables.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an --out folder that sourcing wrote before (never any other folder).",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the solver log on stderr.")
    ] = False,
    excel: Annotated[
        bool, typer.Option("--excel", help="Also write the Excel workbook plan.xlsx (with --out).")
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads", min=1, help="Solver threads (the plan is the same for any count)."
        ),
    ] = None,
    survive: Annotated[
        bool,
        typer.Option(
            "--survive",
            help="Also replay the plan with each supplier and country stopped (time to "
            "survive): survive.csv and a section of report.html (with --out).",
        ),
    ] = False,
) -> None:
    """Solve scenarios: print each plan's summary and write the plans with --out.

    The --out folder holds plan.csv, orders.csv (the order schedule),
    inventory.csv, spot.csv, scenarios.csv, summary.json,
    scenario.resolved.yaml, report.html and, with --excel, plan.xlsx.
    Several files are solved as a batch (in parallel with --jobs or --scheduler).
    """
    from optimizer.app.executor import Serial, make_executor
    from optimizer.app.jobs import Job, run_batch
    from optimizer.app.pipeline import DECOMPOSE_CHOICES
    from optimizer.reports.console import print_batch, print_summary
    from optimizer.reports.folder import run_files, write_folder
    from optimizer.solve.status import SolverOptions

    if excel and out is None:
        raise UserError("--excel needs --out DIR: the workbook is written into the run folder")
    if survive and out is None:
        raise UserError("--survive needs --out DIR: its table goes into the run folder")
    _check_threads(threads)
    if decompose not in DECOMPOSE_CHOICES:
        raise UserError(f"--decompose must be one of {', '.join(DECOMPOSE_CHOICES)}")
    targets = _targets(out, scenarios, force)
    options = SolverOptions(
        solver=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads, verbose=verbose
    )
    several = len(scenarios) > 1
    if several or scheduler:
        executor, part_jobs = make_executor(jobs, scheduler), 1
    else:
        executor, part_jobs = Serial(), jobs
    results = run_batch([Job(str(f), options, decompose, part_jobs) for f in scenarios], executor)
    for result in results:
        for warning in result.warnings:
            err_console.print(warning, markup=False)
    for result, target in zip(results, targets, strict=True):
        if result.ok and target is not None:
            assert result.run is not None and result.doc is not None
            nodes = _survive_of(result.run, options, executor) if survive else None
            files = run_files(
                result.run, result.doc, result.resolved_yaml or "", excel=excel, survive=nodes
            )
            inputs = [*scenarios, *map(Path, result.inputs)]
            write_folder(target, files, force, kind="run", inputs=inputs)
    failed = [r for r in results if not r.ok]
    if not several and failed:
        failed[0].raise_if_failed()
    for r in failed:
        err_console.print(escape(r.message, keep_newlines=True), markup=False)
    if as_json:
        docs = [
            r.doc if r.ok else {"file": r.path, "error": r.message, "exit_code": r.exit_code}
            for r in results
        ]
        sys.stdout.write(json.dumps(docs if several else docs[0], indent=2) + "\n")
    elif several:
        print_batch(results, out_console)
    else:
        assert results[0].doc is not None
        print_summary(results[0].doc, out_console, written=out is not None)
    if out is not None and not as_json:
        out_console.print(f"Plans written to {out}/", markup=False)
    if failed:
        raise typer.Exit(failed[0].exit_code)


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
    from optimizer.io.run_folder import read_run
    from optimizer.reports.excel import write_workbook
    from optimizer.reports.html import write_report

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


Out = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write the tables (CSV) and charts into this folder."),
]
Force = Annotated[
    bool,
    typer.Option(
        "--force", help="Replace an --out folder that sourcing wrote before (never any other)."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
BatchJobs = Annotated[
    int,
    typer.Option("--jobs", "-j", min=0, help="Worker processes for the solves. 0 = one per core."),
]
BatchScheduler = Annotated[
    str | None,
    typer.Option("--scheduler", help="Run the solves on a Dask cluster at this address."),
]
Country = Annotated[str, typer.Option("--country", help="Country code whose share is shown.")]


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@app.command()
@handle_errors
def compare(
    scenarios: Annotated[
        list[Path], typer.Argument(help="Scenario files to compare.", metavar="SCENARIO...")
    ],
    country: Country = "CN",
    out: Out = None,
    force: Force = False,
    solver: SolverName = "auto",
    time_limit: TimeLimit = None,
    mip_gap: MipGap = None,
    jobs: BatchJobs = 1,
    scheduler: BatchScheduler = None,
    as_json: AsJson = False,
) -> None:
    """Solve each scenario and print their key figures and planned volumes side by side.

    The volume table gives, for every plan after the first, its difference
    against the first. With --out: kpis.csv, volumes.csv and report.html.
    """
    from optimizer.analysis.compare import as_json as comparison_json
    from optimizer.analysis.compare import compare as compare_plans
    from optimizer.app.executor import make_executor
    from optimizer.reports.compare_html import write_compare_report
    from optimizer.reports.console_analysis import print_comparison
    from optimizer.reports.folder import ensure_writable, write_folder
    from optimizer.solve.status import SolverOptions

    if out is not None:
        ensure_writable(out, force, scenarios)
    options = SolverOptions(solver=solver, time_limit=time_limit, mip_gap=mip_gap)
    c = compare_plans(scenarios, options, make_executor(jobs, scheduler), country=country)
    if out is not None:
        numbers = c.kpis.assign(**{k: c.kpis[k].astype(float) for k in c.labels})
        write_folder(
            out,
            {
                "kpis.csv": lambda p: _write_csv(numbers, p),
                "volumes.csv": lambda p: _write_csv(c.volumes, p),
                "report.html": lambda p: write_compare_report(c, p),
            },
            force,
            kind="compare",
            inputs=_inputs(scenarios),
        )
    if as_json:
        _print_json(comparison_json(c))
        return
    print_comparison(c, out_console)
    if out is not None:
        out_console.print(f"Comparison written to {out}/", markup=False)


def _write_csv(df: Any, path: Path) -> None:
    from optimizer.reports.csv_files import write_csv

    write_csv(df, path)


@app.command()
@handle_errors
def stress(
    plan: Annotated[
        Path,
        typer.Argument(
            help="A run folder (written by `run --out`) or a scenario file (solved first).",
            metavar="RUN_DIR|SCENARIO",
        ),
    ],
    under: Annotated[
        list[Path],
        typer.Option("--under", help="Scenario file to replay the plan under (repeatable)."),
    ],
    out: Out = None,
    force: Force = False,
    solver: SolverName = "auto",
    time_limit: TimeLimit = None,
    mip_gap: MipGap = None,
    jobs: BatchJobs = 1,
    scheduler: BatchScheduler = None,
    as_json: AsJson = False,
    allow_edited: Annotated[
        bool,
        typer.Option(
            "--allow-edited",
            help="Replay a run folder's plan.csv even if it is not the one `run` wrote "
            "(rows that cannot be replayed are dropped, and listed).",
        ),
    ] = False,
) -> None:
    """Hold a plan fixed and replay it under other scenarios: cost, spot buys, shortage.

    Planned volume arrives from the other file's earliest arrival period on, at
    most its capacity, at its prices; what is missing is bought spot (in every
    scenario) or goes short. Regret = the replayed cost minus the cost of the
    other file's own optimal plan. With --out: stress.csv and regret.csv.
    A run folder's tables must be those `run` wrote (summary.json records
    their hashes); --allow-edited replays an edited plan and says what it dropped.
    """
    from optimizer.analysis.stress import as_json as stress_json
    from optimizer.analysis.stress import figures_table, regret_table
    from optimizer.analysis.stress import stress as stress_plan
    from optimizer.app.executor import make_executor
    from optimizer.reports.console_analysis import print_stress
    from optimizer.reports.folder import ensure_writable, write_folder
    from optimizer.solve.status import SolverOptions

    if out is not None:
        ensure_writable(out, force, [plan, *under])
    options = SolverOptions(solver=solver, time_limit=time_limit, mip_gap=mip_gap)
    report = stress_plan(
        plan, under, options, make_executor(jobs, scheduler), allow_edited=allow_edited
    )
    for note in report.plan.warnings:
        err_console.print(escape(f"warning: {note}", keep_newlines=True), markup=False)
    if out is not None:
        figures, regrets = figures_table(report), regret_table(report)
        write_folder(
            out,
            {
                "stress.csv": lambda p: _write_csv(figures, p),
                "regret.csv": lambda p: _write_csv(regrets, p),
            },
            force,
            kind="stress",
            inputs=_inputs([plan, *under]),
        )
    if as_json:
        _print_json(stress_json(report))
        return
    print_stress(report, report.plan.currency, out_console)
    if out is not None:
        out_console.print(f"Stress test written to {out}/", markup=False)


@app.command()
@handle_errors
def frontier(
    scenario: Annotated[Path, typer.Argument(help="Scenario file.", metavar="SCENARIO")],
    country: Country = "CN",
    shares: Annotated[
        str,
        typer.Option("--shares", help="Caps on the country's share, comma-separated fractions."),
    ] = "1,0.8,0.6,0.4,0.2",
    out: Out = None,
    force: Force = False,
    solver: SolverName = "auto",
    time_limit: TimeLimit = None,
    mip_gap: MipGap = None,
    jobs: BatchJobs = 1,
    scheduler: BatchScheduler = None,
    as_json: AsJson = False,
) -> None:
    """The cost of diversification: re-solve with a cap on one country's share, per cap.

    Prints cost, expected shortage, average risk and the country's actual share
    per cap (infeasible caps are reported as such). With --out: frontier.csv and
    frontier.png. Exit 1 if a point failed unexpectedly, 3 if no cap has a plan.
    """
    from optimizer.analysis.frontier import frontier as solve_frontier
    from optimizer.analysis.frontier import parse_shares
    from optimizer.app.executor import make_executor
    from optimizer.reports.console_analysis import print_frontier
    from optimizer.reports.folder import ensure_writable, write_folder
    from optimizer.reports.frontier_files import frontier_files, frontier_table
    from optimizer.solve.status import SolverOptions

    caps = parse_shares(shares)
    if out is not None:
        ensure_writable(out, force, [scenario])
    loaded = load_scenario(scenario)
    sc = loaded.scenario
    options = SolverOptions(solver=solver, time_limit=time_limit, mip_gap=mip_gap)
    points = solve_frontier(sc, country, caps, options, make_executor(jobs, scheduler))
    if out is not None:
        write_folder(
            out,
            frontier_files(points, country, sc.currency, sc.quantity_unit),
            force,
            kind="frontier",
            inputs=[scenario, *loaded.input_files],
        )
    if as_json:
        table = frontier_table(points)
        _print_json(table.astype(object).where(table.notna(), None).to_dict(orient="records"))
    else:
        print_frontier(points, country, sc.currency, sc.quantity_unit, out_console)
        if out is not None:
            out_console.print(f"Frontier written to {out}/", markup=False)
    if any(p.status == "error" for p in points):
        raise typer.Exit(1)
    if not any(p.has_plan for p in points):
        raise typer.Exit(3 if any(p.status == "infeasible" for p in points) else 4)


def _survive_of(run: Any, options: Any, executor: Any) -> Any:
    """The survive report of a solved run's plan (`run --survive`)."""
    from optimizer.analysis.stress import quantities_of
    from optimizer.analysis.survive import survive_plan

    plan = run.plan
    reserved = quantities_of(plan.reservations) if not plan.reservations.empty else {}
    return survive_plan(
        plan.scenario, quantities_of(plan.orders), reserved, "", options, executor
    )


@app.command()
@handle_errors
def survive(
    plan: Annotated[
        Path,
        typer.Argument(
            help="A run folder (written by `run --out`) or a scenario file (solved first).",
            metavar="RUN_DIR|SCENARIO",
        ),
    ],
    out: Out = None,
    force: Force = False,
    solver: SolverName = "auto",
    time_limit: TimeLimit = None,
    mip_gap: MipGap = None,
    jobs: BatchJobs = 1,
    scheduler: BatchScheduler = None,
    as_json: AsJson = False,
) -> None:
    """Time to survive per supplier and country: the plan replayed with that node stopped.

    Each supplier, then each country (with the suppliers it controls), is stopped
    from day 0 in the plan's own world; the plan's orders and reservations stand
    elsewhere, the rest is bought spot, called or goes short. Prints per node and
    material the days until the first shortage (time to survive) next to the
    node's recovery_days (time to recover); a node that runs dry before it is
    back is at risk (red). With --out: survive.csv and survive.html.
    """
    from optimizer.analysis.survive import as_json as survive_json
    from optimizer.analysis.survive import survive as survive_plan
    from optimizer.app.executor import make_executor
    from optimizer.reports.console_analysis import print_survive
    from optimizer.reports.folder import ensure_writable, write_folder
    from optimizer.solve.status import SolverOptions
    from optimizer.survive import survive_files

    if out is not None:
        ensure_writable(out, force)
    options = SolverOptions(solver=solver, time_limit=time_limit, mip_gap=mip_gap)
    report = survive_plan(plan, options, make_executor(jobs, scheduler))
    if out is not None:
        write_folder(out, survive_files(report), force)
    if as_json:
        _print_json(survive_json(report))
        return
    print_survive(report, out_console)
    if out is not None:
        out_console.print(f"Time to survive written to {out}/", markup=False)


def main() -> None:
    """Entry point of the `sourcing` console script (after `optimizer.entry`'s early guard)."""
    install_signal_handlers()
    try:
        app(prog_name="sourcing")
    except (KeyboardInterrupt, Interrupted) as exc:  # outside a command (parsing, printing)
        sys.exit(stopped(exc))
    finally:
        end_quietly()
