"""The analyses on the command line: `compare`, `stress`, `frontier` and `survive`.

Each builds the pipeline runner from the solver options and an executor from
--jobs/--scheduler, hands both to the analysis (which returns data), prints it
and, with --out, writes its files all or nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from optimizer.cli.console import handle_errors, out_console, warn
from optimizer.cli.main import app
from optimizer.cli.options import (
    AsJson,
    BatchJobs,
    BatchScheduler,
    Country,
    Force,
    MipGap,
    Out,
    SolverName,
    TimeLimit,
    executor_of,
    inputs_of,
    runner_of,
)
from optimizer.io.load import load_scenario


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


def _write_csv(df: Any, path: Path) -> None:
    from optimizer.reports.csv_files import write_csv

    write_csv(df, path)


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
    from optimizer.reports.compare_html import write_compare_report
    from optimizer.reports.console_analysis import print_comparison
    from optimizer.reports.folder import ensure_writable, write_folder

    if out is not None:
        ensure_writable(out, force, scenarios)
    runner = runner_of(solver, time_limit, mip_gap)
    c = compare_plans(scenarios, runner, executor_of(jobs, scheduler), country=country)
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
            inputs=inputs_of(scenarios),
        )
    if as_json:
        _print_json(comparison_json(c))
        return
    print_comparison(c, out_console)
    if out is not None:
        out_console.print(f"Comparison written to {out}/", markup=False)


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
    from optimizer.reports.console_analysis import print_stress
    from optimizer.reports.folder import ensure_writable, write_folder

    if out is not None:
        ensure_writable(out, force, [plan, *under])
    runner = runner_of(solver, time_limit, mip_gap)
    report = stress_plan(
        plan, under, runner, executor_of(jobs, scheduler), allow_edited=allow_edited
    )
    for note in report.plan.warnings:
        warn(note)
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
            inputs=inputs_of([plan, *under]),
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
    from optimizer.reports.console_analysis import print_frontier
    from optimizer.reports.folder import ensure_writable, write_folder
    from optimizer.reports.frontier_files import frontier_files, frontier_table

    caps = parse_shares(shares)
    if out is not None:
        ensure_writable(out, force, [scenario])
    loaded = load_scenario(scenario)
    sc = loaded.scenario
    runner = runner_of(solver, time_limit, mip_gap)
    points = solve_frontier(sc, country, caps, runner, executor_of(jobs, scheduler))
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
    from optimizer.reports.console_analysis import print_survive
    from optimizer.reports.folder import ensure_writable, write_folder
    from optimizer.reports.survive_html import survive_files

    if out is not None:
        ensure_writable(out, force)
    runner = runner_of(solver, time_limit, mip_gap)
    report = survive_plan(plan, runner, executor_of(jobs, scheduler))
    if out is not None:
        write_folder(out, survive_files(report), force)
    if as_json:
        _print_json(survive_json(report))
        return
    print_survive(report, out_console)
    if out is not None:
        out_console.print(f"Time to survive written to {out}/", markup=False)
