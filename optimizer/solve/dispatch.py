"""Which solver solves a model, and its answer mapped once onto `Status`.
"""

from __future__ import annotations

import logging

from optimizer.model.builder import BuiltModel
from optimizer.solve.cbc import solve_cbc
from optimizer.solve.highs import highs_problem, solve_highs
from optimizer.solve.polish import integral
from optimizer.solve.pulp_solvers import PULP_PREFIX, solve_with_pulp
from optimizer.solve.status import SolveResult, SolverOptions

log = logging.getLogger(__name__)

DEFAULTS = {"lp": "highs", "two-stage": "highs", "milp": "highs"}

_WARNED: set[str] = set()


def choose_solver(built: BuiltModel, requested: str) -> str:
    """The solver to use: the user's choice, or the default for the model class.

    Defaults are set from the measurements in `benchmarks/` (see README
    "Performance"): HiGHS for every class until measured otherwise.
    """
    if requested != "auto":
        return requested
    return DEFAULTS.get(built.kind, "highs")


def solve(built: BuiltModel, options: SolverOptions) -> SolveResult:
    """Solve a built model with the chosen solver and map its answer to `Status`.

    HiGHS and CBC are handed `built.solver_form()`: the recorded matrix, or the
    PuLP problem read back once a user has asked for (and perhaps changed) it.
    `pulp:NAME` solves `built.problem` through PuLP's own adapter for NAME.
    """
    name = choose_solver(built, options.solver)
    if name.startswith(PULP_PREFIX):
        return solve_with_pulp(built, name[len(PULP_PREFIX) :], options)
    form = built.solver_form()
    if name in ("highs", "highs-ipm"):
        problem = highs_problem()
        if problem is None:
            result = solve_highs(form, options, ipm=name == "highs-ipm")
        else:  # highspy missing or broken: fall back to CBC
            if problem not in _WARNED:  # once, not once per part of a decomposed model
                _WARNED.add(problem)
                log.warning("HiGHS is not usable (%s); solving with CBC instead", problem)
            result = solve_cbc(built, form, options)
    else:  # "cbc": the command line accepts no other name
        result = solve_cbc(built, form, options)
    result = integral(built, form, result)
    if built.materialized and result.values is not None:
        _write_back(built, result)
    return result


def _write_back(built: BuiltModel, result: SolveResult) -> None:
    """Values (and duals of an LP) into the PuLP problem the user holds."""
    assert result.values is not None
    for v, x in zip(built.variables, result.values.tolist(), strict=False):
        v.varValue = x
    if result.duals is not None:
        from optimizer.model.pulp_problem import rows_by_name

        rows = rows_by_name(built.problem)
        for name, pi in zip(built.row_names, result.duals.tolist(), strict=False):
            rows[name].pi = pi
