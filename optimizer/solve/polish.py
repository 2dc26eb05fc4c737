"""A MILP plan whose yes/no decisions hold when rounded to exact 0 and 1.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.builder import BuiltModel, MatrixForm
from optimizer.solve.highs import fixed_lp
from optimizer.solve.status import DEFAULT_MIP_GAP, SolveResult, Status

ROUNDING_TOLERANCE = 1e-9  # relative row violation allowed once the integers are rounded


def integral(built: BuiltModel, form: MatrixForm, result: SolveResult) -> SolveResult:
    """A MILP plan whose yes/no decisions hold when rounded to exact 0 and 1.

    Solvers accept an integer within 1e-6 or so of 0 or 1; with a big-M
    coefficient that is not enough: `x <= 1e9 * z` with z = 4e-9 lets x = 4
    through a min order of 10 (issue 8, found by fuzzing). When rounding the
    integers breaks a row, the LP that remains with them fixed is solved
    (HiGHS) and its plan replaces the solver's; if it costs more than the
    solver's objective, the plan is "feasible" and the gap says by how much.
    """
    if result.values is None or not result.status.has_plan:
        return result
    if not form.integer.any():
        return result
    _drop_idle_fixed_costs(built, form, result)
    rounded = np.where(form.integer, np.round(result.values), result.values)
    if _row_violation(form, rounded) <= ROUNDING_TOLERANCE:
        return result
    fixed = fixed_lp(form, rounded)
    if fixed is None:  # no HiGHS, or the fixed LP does not solve: the plan's check decides
        return result
    values, objective = fixed
    before = result.objective if result.objective is not None else objective
    worse = (objective - before) / max(abs(objective), 1.0)
    result.values, result.objective = values, objective
    if worse > _gap_tolerance(result):
        result.status = Status.FEASIBLE
        result.gap = (result.gap or 0.0) + worse
    result.message += "; integer decisions rounded to 0/1 and the remaining LP re-solved"
    return result


def _drop_idle_fixed_costs(built: BuiltModel, form: MatrixForm, result: SolveResult) -> None:
    """Close suppliers whose fixed cost a plan pays without buying anything from them.

    An incumbent found at a time limit may have `u[s] = 1` and no volume from s
    (feasible, not optimal); the plan's cost, as the check recomputes it, has no
    fixed cost for an unused supplier (issue 8: exit 1 on every time-limited plan
    of such a MILP). Setting u[s] = 0 keeps every row and lowers the objective.
    """
    assert result.values is not None
    values = result.values
    dropped = 0.0
    for si in np.flatnonzero(built.u >= 0):
        j = int(built.u[si])
        cols = built.x[built.params.offer_supplier == si]
        cols = cols[cols >= 0]
        if values[j] > 0.0 and np.all(np.abs(values[cols]) < 1e-9):  # plan.ZERO
            dropped += float(form.cost[j]) * float(values[j])
            values[j] = 0.0
    if dropped:
        if result.objective is not None:
            result.objective -= dropped
        result.message += "; idle suppliers' fixed costs dropped"


def _gap_tolerance(result: SolveResult) -> float:
    return max(result.gap or 0.0, DEFAULT_MIP_GAP)


def _row_violation(form: MatrixForm, x: np.ndarray) -> float:
    """Largest violation of a row bound by `x`, relative to max(1, |bound|)."""
    rows = np.repeat(np.arange(len(form.row_lower)), np.diff(form.start))
    activity = np.zeros(len(form.row_lower))
    np.add.at(activity, rows, form.value * x[form.index])
    with np.errstate(invalid="ignore"):
        low = (form.row_lower - activity) / np.maximum(1.0, np.abs(form.row_lower))
        up = (activity - form.row_upper) / np.maximum(1.0, np.abs(form.row_upper))
    worst = np.nanmax(np.concatenate([low, up, [0.0]]))
    return float(worst)
