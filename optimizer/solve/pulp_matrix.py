"""A PuLP problem read back as arrays (for a problem changed through the Python API).
"""

from __future__ import annotations

import numpy as np
from pulp import LpConstraintEQ, LpConstraintGE, LpConstraintLE, LpInteger

from optimizer.model.builder import BuiltModel, MatrixForm
from optimizer.solve.status import INF, SolveResult


def matrix_form(built: BuiltModel) -> MatrixForm:
    """Read the PuLP problem (objective, bounds, rows) into arrays, in the model's order."""
    prob = built.prob
    cols = built.columns
    col_of = {v.hash: i for i, v in enumerate(cols)}
    n = len(cols)
    cost = np.zeros(n)
    for v, c in prob.objective.items():
        cost[col_of[v.hash]] += c
    lower = np.array([-INF if v.lowBound is None else v.lowBound for v in cols], dtype=float)
    upper = np.array([INF if v.upBound is None else v.upBound for v in cols], dtype=float)
    integer = np.array([v.cat == LpInteger for v in cols], dtype=bool)

    rows = prob._constraints  # PuLP's own dict: name -> LpConstraint
    n_rows = len(built.row_names)
    start = np.zeros(n_rows + 1, dtype=np.int64)
    index: list[int] = []
    value: list[float] = []
    row_lower = np.empty(n_rows)
    row_upper = np.empty(n_rows)
    append_i, append_v = index.append, value.append
    for r, name in enumerate(built.row_names):
        c = rows[name]
        for v, a in c.expr.items():
            append_i(col_of[v.hash])
            append_v(a)
        start[r + 1] = len(index)
        rhs = -c.constant
        row_lower[r] = rhs if c.sense in (LpConstraintGE, LpConstraintEQ) else -INF
        row_upper[r] = rhs if c.sense in (LpConstraintLE, LpConstraintEQ) else INF
    return MatrixForm(
        cost=cost,
        offset=float(prob.objective.constant),
        col_lower=lower,
        col_upper=upper,
        integer=integer,
        row_lower=row_lower,
        row_upper=row_upper,
        start=start,
        index=np.asarray(index, dtype=np.int32),
        value=np.asarray(value, dtype=float),
    )


def _assign(built: BuiltModel, result: SolveResult) -> None:
    """Write the values back into the PuLP variables (and duals into the rows)."""
    assert result.values is not None
    for v, x in zip(built.columns, result.values.tolist(), strict=True):
        v.varValue = x
    if result.duals is not None:
        rows = built.prob._constraints
        for name, pi in zip(built.row_names, result.duals.tolist(), strict=True):
            rows[name].pi = pi
