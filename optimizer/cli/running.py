"""`sourcing run` (solve scenario files, write run folders) and `sourcing report`
(regenerate a run folder's report from its files).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from optimizer.cli.console import err_console, handle_errors, out_console, warn
from optimizer.cli.main import app
from optimizer.cli.options import (
    Decompose,
    Decomposition,
    Jobs,
    MipGap,
    Scheduler,
    SolverName,
    TimeLimit,
    check_threads,
)
from optimizer.common.errors import UserError
from optimizer.common.safe_text import escape


def _targets(out: Path | None, files: list[Path], force: bool) -> list[Path | None]:
    """Output folder of each file (out itself, or out/<stem> for several), checked early."""
    from optimizer.app.jobs import out_folder
    from optimizer.reports.folder import ensure_writable

    if out is None:
        return [None] * len(files)
    several = len(files) > 1
    targets: list[Path | None] = [out_folder(out, str(f), several) for f in files]
    stems = [t.name for t in targets if t is not None]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if several and clash:
        raise UserError(f"several files would write to the same folder: {', '.join(clash)}")
    for target in targets:
        assert target is not None
        ensure_writable(target, force, files)
    return targets


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
    decompose: Decompose = Decomposition.auto,
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
    evaluate: Annotated[
        int | None,
        typer.Option(
            "--evaluate",
            min=1,
            help="Price the plan on N fresh outcomes of the file's risks (exact for "
            "disruptions): expected cost and CVaR with 95% intervals, and the sampling gap.",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", min=0, help="Seed of the --evaluate draws (default: sampling seed + 1000)."
        ),
    ] = None,
    write_lp: Annotated[
        Path | None,
        typer.Option(
            "--write-lp",
            help="Also write the model, as first built, as a PuLP LP file (one scenario).",
        ),
    ] = None,
    write_mps: Annotated[
        Path | None,
        typer.Option(
            "--write-mps",
            help="Also write the model, as first built, as an MPS file (one scenario).",
        ),
    ] = None,
) -> None:
    """Solve scenarios: print each plan's summary and write the plans with --out.

    The --out folder holds plan.csv, orders.csv (the order schedule),
    inventory.csv, spot.csv, scenarios.csv, summary.json,
    scenario.resolved.yaml, report.html and, with --excel, plan.xlsx.
    Several files are solved as a batch (in parallel with --jobs or --scheduler).
    """
    from optimizer.app.executor import Dask, Serial, make_executor
    from optimizer.app.jobs import Job, run_batch
    from optimizer.reports.folder import run_files, write_folder
    from optimizer.solve.status import SolverOptions

    if excel and out is None:
        raise UserError("--excel needs --out DIR: the workbook is written into the run folder")
    if survive and out is None:
        raise UserError("--survive needs --out DIR: its table goes into the run folder")
    check_threads(threads)
    if (write_lp or write_mps) and len(scenarios) > 1:
        raise UserError("--write-lp and --write-mps take one scenario file")
    targets = _targets(out, scenarios, force)
    if write_lp or write_mps:
        from optimizer.app.model_files import write_model_files

        write_model_files(scenarios[0], lp=write_lp, mps=write_mps)
    options = SolverOptions(
        solver=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads, verbose=verbose
    )
    several = len(scenarios) > 1
    if several:
        executor, part_jobs, part_scheduler = make_executor(jobs, scheduler), 1, None
    else:  # one file: its parts and subproblems go to the workers or the cluster
        executor, part_jobs, part_scheduler = Serial(), jobs, scheduler
        if scheduler:  # refused at once (exit 2), even when the model is solved whole
            Dask(scheduler).check_reachable()
    replays = make_executor(jobs, scheduler) if several or scheduler else Serial()
    batch = [
        Job(str(f), options, decompose.value, part_jobs, part_scheduler, evaluate, seed)
        for f in scenarios
    ]
    results = run_batch(batch, executor)
    for result in results:
        for warning in result.warnings:
            warn(warning)
    for result, target in zip(results, targets, strict=True):
        if result.ok and target is not None:
            assert result.run is not None and result.summary is not None
            nodes = _survive_of(result.run.plan, options, replays) if survive else None
            files = run_files(
                result.run.plan,
                result.summary,
                result.resolved_yaml or "",
                excel=excel,
                survive=nodes,
            )
            inputs = [*scenarios, *map(Path, result.inputs)]
            write_folder(target, files, force, kind="run", inputs=inputs)
    _print_results(results, as_json, out)


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
    from optimizer.reports.folder import write_file
    from optimizer.reports.html import rewrite_report

    written = [rewrite_report(run_dir)]
    if excel:
        data = read_run(run_dir)
        written.append(write_file(run_dir / "plan.xlsx", lambda p: write_workbook(data, p)))
    for path in written:
        out_console.print(str(path), markup=False)


def _survive_of(plan: Any, options: Any, executor: Any) -> Any:
    """The survive report of a solved run's plan (`run --survive`)."""
    from optimizer.analysis.fixed_plan import quantities_of
    from optimizer.analysis.survive import survive_plan
    from optimizer.app.runner import PipelineRunner

    reserved = quantities_of(plan.reservations) if not plan.reservations.empty else {}
    return survive_plan(
        plan.scenario, quantities_of(plan.orders), reserved, PipelineRunner(options), executor
    )


def _print_results(results: list[Any], as_json: bool, out: Path | None) -> None:
    """Each file's summary (a table, or JSON), failures on stderr; the exit code of the
    first failure."""
    from optimizer.reports.console import print_batch, print_summary

    several = len(results) > 1
    failed = [r for r in results if not r.ok]
    if not several and failed:
        failed[0].raise_if_failed()
    for r in failed:
        err_console.print(escape(r.message, keep_newlines=True), markup=False)
    if as_json:
        docs = [
            r.summary.document()
            if r.ok
            else {"file": r.path, "error": r.message, "exit_code": r.exit_code}
            for r in results
        ]
        sys.stdout.write(json.dumps(docs if several else docs[0], indent=2) + "\n")
    elif several:
        print_batch(results, out_console)
    else:
        assert results[0].summary is not None
        print_summary(results[0].summary, out_console, written=out is not None)
    if out is not None and not as_json:
        out_console.print(f"Plans written to {out}/", markup=False)
    if failed:
        raise typer.Exit(failed[0].exit_code)
