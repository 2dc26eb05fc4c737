"""Any solver PuLP knows (`--solver pulp:NAME`), through PuLP's own adapter and read-back.

The model's `problem` (the PuLP `LpProblem`, with whatever a user added) is
solved with `pulp.getSolver(NAME)`; PuLP's status pair is mapped once onto
`Status` and the values, duals and reduced costs are read from PuLP's
objects in the column and row order of `BuiltModel.solver_form`.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.common.errors import UserError
from optimizer.common.native import quiet_stdout
from optimizer.model.builder import BuiltModel
from optimizer.solve.status import SolveResult, SolverOptions, Status, mip_gap_of

PULP_PREFIX = "pulp:"


def pulp_solver_names(only_available: bool = False) -> list[str]:
    """The solver names PuLP knows (or finds usable here), as `pulp:NAME` takes them."""
    import pulp

    return [str(n) for n in pulp.listSolvers(onlyAvailable=only_available)]


def solve_with_pulp(built: BuiltModel, name: str, options: SolverOptions) -> SolveResult:
    """Solve `built.problem` with PuLP's solver NAME."""
    import pulp

    from optimizer.model.pulp_problem import every_row, every_variable, rows_by_name

    if name not in pulp_solver_names():
        raise UserError(f"PuLP knows no solver {name!r}; it knows {', '.join(pulp_solver_names())}")
    usable = pulp_solver_names(only_available=True)
    if name not in usable:
        raise UserError(
            f"PuLP cannot use {name} on this machine (not installed or no licence); "
            f"usable here: {', '.join(usable) or 'none'}"
        )
    t0 = time.perf_counter()
    prob = built.problem
    is_mip = any(v.cat != pulp.LpContinuous for v in built.variables)
    kwargs: dict[str, object] = {"msg": bool(options.verbose)}
    if options.time_limit is not None:
        kwargs["timeLimit"] = float(options.time_limit)
    if is_mip:
        kwargs["gapRel"] = mip_gap_of(options)
    if options.threads is not None:
        kwargs["threads"] = int(options.threads)
    solver = pulp.getSolver(name, **kwargs)
    t1 = time.perf_counter()
    with quiet_stdout(options.verbose):
        prob.solve(solver)
    t2 = time.perf_counter()
    status = _status(int(prob.status), int(prob.sol_status))
    result = SolveResult(
        status,
        f"pulp:{name}",
        handoff_seconds=t1 - t0,
        seconds=t2 - t1,
        message=f"{pulp.LpStatus.get(prob.status, '?')} "
        f"({pulp.LpSolution.get(prob.sol_status, '?')})",
    )
    if status.has_plan:
        cols = every_variable(prob, built.variables)
        result.values = np.array(
            [v.varValue if v.varValue is not None else (v.lowBound or 0.0) for v in cols],
            dtype=float,
        )
        result.objective = float(pulp.value(prob.objective) or 0.0)
        result.gap = 0.0 if status is Status.OPTIMAL else None
        by_name = rows_by_name(prob)
        rows = [by_name[n] for n in every_row(prob, built.row_names)]
        if not is_mip and all(c.pi is not None for c in rows):
            result.duals = np.array([float(c.pi) for c in rows])
            result.reduced_costs = np.array([float(v.dj or 0.0) for v in cols])
    result.extract_seconds = time.perf_counter() - t2
    return result


def _status(status: int, sol_status: int) -> Status:
    """PuLP's (status, sol_status) pair as the project's `Status`."""
    import pulp

    if sol_status == pulp.LpSolutionOptimal:
        return Status.OPTIMAL
    if sol_status == pulp.LpSolutionIntegerFeasible:
        return Status.FEASIBLE
    if sol_status == pulp.LpSolutionInfeasible or status == pulp.LpStatusInfeasible:
        return Status.INFEASIBLE
    if sol_status == pulp.LpSolutionUnbounded or status == pulp.LpStatusUnbounded:
        return Status.UNBOUNDED
    if status == pulp.LpStatusOptimal:
        return Status.OPTIMAL
    if status == pulp.LpStatusNotSolved:
        return Status.NO_SOLUTION
    return Status.ERROR
