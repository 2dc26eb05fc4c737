"""Shadow prices of a solved model: LP duals, or those of a MILP's LP with its
yes/no decisions fixed, with ranges where HiGHS gives its basis.
"""

from __future__ import annotations

import pandas as pd

from optimizer.model.builder import BuiltModel
from optimizer.results.shadow import refine_degenerate, shadow_prices
from optimizer.solve.highs import fixed_lp_duals
from optimizer.solve.status import SolveResult

MILP_NOTE = (
    "MILP: duals of the LP that remains with the yes/no decisions (min order, fixed "
    "cost, min suppliers) fixed at the plan's values"
)


def prices_of(
    built: BuiltModel, result: SolveResult, parts: int = 1
) -> tuple[pd.DataFrame | None, str]:
    """Shadow prices of a solved model (with their ranges), and how they were obtained.

    `parts`: the model is one of that many parts of the scenario's model; degenerate
    prices are re-measured only when the whole is small (`refine_degenerate`), estimated
    as this part's size times the number of parts."""
    if result.values is None:
        return None, ""
    if built.is_mip:
        fixed = fixed_lp_duals(built.solver_form(), result.values)
        if fixed is None:
            return None, "not available: the LP with fixed binaries did not solve"
        duals, reduced, ranging = fixed
        note = MILP_NOTE
    elif result.duals is None or result.reduced_costs is None:
        return None, f"not available from {result.solver}"
    else:
        duals, reduced, ranging, note = (
            result.duals,
            result.reduced_costs,
            result.ranging,
            "LP duals",
        )
    if ranging is None:
        note += "; ranges need HiGHS (--solver highs)"
    table = shadow_prices(built, result.values, duals, reduced, ranging)
    if ranging is not None and result.objective is not None:
        table = refine_degenerate(
            built, table, result.values, ranging, result.objective, scale=parts
        )
    return table, note


