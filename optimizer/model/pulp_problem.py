"""The model as a PuLP `LpProblem`, and a PuLP problem read back as a matrix.

`to_pulp` turns the recorded matrix into PuLP variables, rows and objective
with PuLP's fast patterns (`LpAffineExpression` from pairs, `add_variable`,
`extend`): the problem a user extends from Python, writes as LP or MPS, or
solves with any solver PuLP knows. `read_back` is the way back, so that what
the fast HiGHS and CBC paths solve is exactly that problem, changes included.
"""

from __future__ import annotations

import numpy as np
from pulp import (
    LpAffineExpression,
    LpBinary,
    LpConstraint,
    LpConstraintEQ,
    LpConstraintGE,
    LpConstraintLE,
    LpContinuous,
    LpInteger,
    LpMinimize,
    LpProblem,
    LpVariable,
)

from optimizer.model.builder import INF, BuiltModel, MatrixForm


class PulpForm:
    """A built model as a PuLP problem: made from its matrix, read back after changes."""

    def __init__(self, built: BuiltModel) -> None:
        self.row_names = built.row_names
        self.problem, self.variables = to_pulp(
            built.name, built.matrix, built.col_names, built.row_names
        )

    def read_back(self) -> MatrixForm:
        """The problem as it stands, as arrays (the model's columns and rows first)."""
        return read_back(self.problem, self.variables, self.row_names)


def to_pulp(
    name: str, form: MatrixForm, col_names: list[str], row_names: list[str]
) -> tuple[LpProblem, list[LpVariable]]:
    """A PuLP problem equal to `form`, its variables in column order."""
    prob = LpProblem(name, LpMinimize)
    cols = [
        prob.add_variable(
            col_name,
            None if low == -INF else low,
            None if up == INF else up,
            (LpBinary if low == 0.0 and up == 1.0 else LpInteger) if integer else LpContinuous,
        )
        for col_name, low, up, integer in zip(
            col_names,
            form.col_lower.tolist(),
            form.col_upper.tolist(),
            form.integer.tolist(),
            strict=True,
        )
    ]
    pick = cols.__getitem__
    index, value, start = form.index.tolist(), form.value.tolist(), form.start.tolist()
    rows: dict[str, LpConstraint] = {}
    for r, (row_name, low, up) in enumerate(
        zip(row_names, form.row_lower.tolist(), form.row_upper.tolist(), strict=True)
    ):
        a, b = start[r], start[r + 1]
        expr = LpAffineExpression(zip(map(pick, index[a:b]), value[a:b], strict=True))
        if low == up:
            rows[row_name] = LpConstraint(expr, LpConstraintEQ, row_name, low)
        elif up < INF:
            rows[row_name] = LpConstraint(expr, LpConstraintLE, row_name, up)
            if low > -INF:  # a ranged row: two PuLP rows
                rows[f"{row_name}_low"] = LpConstraint(expr, LpConstraintGE, f"{row_name}_low", low)
        else:
            rows[row_name] = LpConstraint(expr, LpConstraintGE, row_name, low)
    prob.extend(rows)
    cost = form.cost.tolist()
    prob.setObjective(
        LpAffineExpression(
            [(cols[j], c) for j, c in enumerate(cost) if c != 0.0], constant=form.offset
        )
    )
    return prob, cols


def rows_by_name(prob: LpProblem) -> dict[str, LpConstraint]:
    """The problem's rows by name (`prob.constraints()`, the call PuLP 4 keeps)."""
    return {c.name: c for c in prob.constraints()}


def every_variable(prob: LpProblem, cols: list[LpVariable]) -> list[LpVariable]:
    """The model's variables `cols`, then any other variable of `prob` (added by a user)."""
    ours = {v.name for v in cols}
    return cols + [v for v in prob.variables() if v.name not in ours]


def every_row(prob: LpProblem, row_names: list[str]) -> list[str]:
    """The model's rows `row_names`, then any other row of `prob` (added by a user)."""
    ours = set(row_names)
    return row_names + [c.name for c in prob.constraints() if c.name not in ours]


def read_back(prob: LpProblem, cols: list[LpVariable], row_names: list[str]) -> MatrixForm:
    """`prob` as arrays: the columns `cols` and rows `row_names` first, in their order,
    then any other variables and rows of the problem, in PuLP's order."""
    every = every_variable(prob, cols)
    col_of = {v.name: i for i, v in enumerate(every)}
    constraints = rows_by_name(prob)
    names = every_row(prob, row_names)
    cost = np.zeros(len(every))
    for v, c in prob.objective.items():
        cost[col_of[v.name]] += c
    start = np.zeros(len(names) + 1, dtype=np.int64)
    index: list[int] = []
    value: list[float] = []
    row_lower = np.empty(len(names))
    row_upper = np.empty(len(names))
    for r, row_name in enumerate(names):
        c = constraints[row_name]
        for v, a in c.items():
            index.append(col_of[v.name])
            value.append(a)
        start[r + 1] = len(index)
        rhs = -c.constant
        row_lower[r] = rhs if c.sense in (LpConstraintGE, LpConstraintEQ) else -INF
        row_upper[r] = rhs if c.sense in (LpConstraintLE, LpConstraintEQ) else INF
    sign = 1.0 if prob.sense == LpMinimize else -1.0
    return MatrixForm(
        cost=sign * cost,
        offset=sign * float(prob.objective.constant),
        col_lower=np.array([-INF if v.lowBound is None else v.lowBound for v in every]),
        col_upper=np.array([INF if v.upBound is None else v.upBound for v in every]),
        integer=np.array([v.cat == LpInteger for v in every], dtype=bool),
        row_lower=row_lower,
        row_upper=row_upper,
        start=start,
        index=np.asarray(index, dtype=np.int32),
        value=np.asarray(value, dtype=float),
    )
