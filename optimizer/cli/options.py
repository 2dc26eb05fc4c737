"""Options shared by the commands, checked at parse time (a bad value is exit 2 before
any file is read), and the small helpers that turn them into library objects.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from optimizer.common.errors import UserError

if TYPE_CHECKING:
    from optimizer.app.executor import Executor
    from optimizer.app.runner import PipelineRunner

SOLVERS = ("auto", "highs", "highs-ipm", "cbc")


def check_solver(value: str) -> str:
    """auto, highs, highs-ipm, cbc, or pulp:NAME for a solver PuLP knows."""
    if value in SOLVERS:
        return value
    if value.startswith("pulp:"):
        from optimizer.solve.pulp_solvers import pulp_solver_names

        known = pulp_solver_names()
        if value[len("pulp:") :] in known:
            return value
        raise typer.BadParameter(
            f"{value!r}: PuLP knows no such solver; it knows {', '.join(known)}"
        )
    raise typer.BadParameter(
        f"{value!r} is not one of {', '.join(SOLVERS)} or pulp:NAME (any solver PuLP knows)"
    )


class Decomposition(enum.StrEnum):
    """How a model is split before solving (`--decompose`)."""

    auto = "auto"
    material = "material"
    benders = "benders"
    off = "off"
    on = "on"  # material, its name before the scenario decomposition


SolverName = Annotated[
    str,
    typer.Option(
        "--solver",
        callback=check_solver,
        metavar="[auto|highs|highs-ipm|cbc|pulp:NAME]",
        help="auto (the measured default per model class), highs, highs-ipm, cbc, or "
        "pulp:NAME to solve the PuLP problem with any solver PuLP finds (e.g. pulp:SCIP_PY).",
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
    Decomposition,
    typer.Option(
        "--decompose",
        help="material: solve independent groups of materials (and merged identical "
        "scenarios) apart (on: the same); benders: also decompose each group over its "
        "scenarios (L-shaped, exact); auto: pick by model class and size; off: one "
        "monolithic model.",
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
        help="Run the files (one file: its parts and subproblems) on a Dask distributed "
        "cluster at this address (tcp://host:port).",
    ),
]
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


def runner_of(solver: str, time_limit: float | None, mip_gap: float | None) -> PipelineRunner:
    """The pipeline, with the user's solver options, as the analyses take it."""
    from optimizer.app.runner import PipelineRunner
    from optimizer.solve.status import SolverOptions

    return PipelineRunner(SolverOptions(solver=solver, time_limit=time_limit, mip_gap=mip_gap))


def executor_of(jobs: int, scheduler: str | None) -> Executor:
    """Serial, worker processes (--jobs) or a Dask cluster (--scheduler)."""
    from optimizer.app.executor import make_executor

    return make_executor(jobs, scheduler)


def check_threads(threads: int | None) -> None:
    """--threads at most the number of CPUs (100,000 once started 26,000 threads)."""
    cpus = os.cpu_count() or 1
    if threads is not None and threads > cpus:
        raise UserError(
            f"--threads {threads}: this machine has {cpus} CPU{'s' * (cpus > 1)}; "
            f"give at most {cpus}"
        )


def inputs_of(paths: list[Path]) -> list[Path]:
    """Every file the scenarios read (their `extends` chains), for the --out checks."""
    from optimizer.io.load import input_files

    return [f for p in paths for f in ([p] if p.is_dir() else input_files(p))]
