"""Which solver solves a model, and its answer mapped once onto `Status`.
"""

from __future__ import annotations

import sys

from optimizer.common.errors import UserError
from optimizer.model.builder import BuiltModel
from optimizer.solve.cbc import solve_cbc
from optimizer.solve.highs import highs_problem, solve_highs
from optimizer.solve.polish import integral
from optimizer.solve.status import SolveResult, SolverOptions


def choose_solver(built: BuiltModel, requested: str) -> str:
    """The solver to use: the user's choice, or the default for the model class.

    Defaults are set from the measurements in `benchmarks/` (see README
    "Performance"): HiGHS for every class until measured otherwise.
    """
    if requested != "auto":
        return requested
    return DEFAULTS.get(built.kind, "highs")

DEFAULTS = {"lp": "highs", "two-stage": "highs", "milp": "highs"}

_WARNED: set[str] = set()


def solve(built: BuiltModel, options: SolverOptions) -> SolveResult:
    """Solve a built model with the chosen solver and map its answer to `Status`."""
    name = choose_solver(built, options.solver)
    if name in ("highs", "highs-ipm"):
        problem = highs_problem()
        if problem is not None:  # highspy missing or broken: fall back to CBC
            if problem not in _WARNED:  # once, not once per part of a decomposed model
                _WARNED.add(problem)
                print(
                    f"warning: HiGHS is not usable ({problem}); solving with CBC instead",
                    file=sys.stderr,
                )
            return integral(built, solve_cbc(built, options))
        return integral(built, solve_highs(built, options, ipm=name == "highs-ipm"))
    if name == "cbc":
        return integral(built, solve_cbc(built, options))
    raise UserError(f"unknown solver {name!r}; use highs, highs-ipm or cbc")
