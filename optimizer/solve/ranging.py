"""How far bounds can move before an LP optimum's duals change (HiGHS' optimal basis).
"""

from __future__ import annotations

import math

import numpy as np

from optimizer.common.native import quiet_stdout
from optimizer.model.builder import MatrixForm
from optimizer.solve.status import INF


class HighsRanging:
    """How far bounds can move before an LP optimum's duals change (HiGHS, optimal basis).

    `step(cols, rows)` is the largest t >= 0 such that moving the upper bounds of the
    given columns and rows (right-hand sides of <= rows) by `t * delta` together keeps
    the optimal basis, hence every dual: the basic variables move by
    `B^-1 (-(A dx_N) + dr_N)` per unit, and the first to reach a bound ends the range.
    Exact for any direction (several bounds at once), unlike per-bound ranging.
    """

    def __init__(self, h: object, form: MatrixForm) -> None:
        import highspy

        self._h = h
        self._form = form
        self._upper = highspy.HighsBasisStatus.kUpper
        basis = h.getBasis()  # type: ignore[attr-defined]
        self._col_status = list(basis.col_status)
        self._row_status = list(basis.row_status)
        _, basic = h.getBasicVariables()  # type: ignore[attr-defined]
        self._basic = np.asarray(basic, dtype=np.int64)
        sol = h.getSolution()  # type: ignore[attr-defined]
        self._col_value = np.asarray(sol.col_value, dtype=float)
        self._row_value = np.asarray(sol.row_value, dtype=float)
        self._rows = np.repeat(np.arange(len(form.row_lower)), np.diff(form.start))

    def step(self, cols: dict[int, float], rows: dict[int, float]) -> float:
        """Largest t >= 0 along the direction (upper bounds of columns and rows); inf when
        nothing ends it."""
        form = self._form
        dx = {j: d for j, d in cols.items() if self._col_status[j] == self._upper}
        rhs = np.zeros(len(form.row_lower))
        if dx:
            mask = np.isin(form.index, np.fromiter(dx, dtype=np.int64))
            weights = np.array([dx[int(j)] for j in form.index[mask]])
            np.add.at(rhs, self._rows[mask], -form.value[mask] * weights)
        for i, d in rows.items():
            if self._row_status[i] == self._upper:
                rhs[i] += d
        if not rhs.any():
            return INF
        _, g = self._h.getBasisSolve(rhs)  # type: ignore[attr-defined]
        g = np.asarray(g, dtype=float)
        basic = self._basic
        is_col = basic >= 0
        idx = np.where(is_col, basic, -1 - basic)
        value = np.where(is_col, self._col_value[np.where(is_col, idx, 0)], 0.0)
        value = np.where(is_col, value, self._row_value[np.where(is_col, 0, idx)])
        low = np.where(is_col, form.col_lower[np.where(is_col, idx, 0)], 0.0)
        low = np.where(is_col, low, form.row_lower[np.where(is_col, 0, idx)])
        up = np.where(is_col, form.col_upper[np.where(is_col, idx, 0)], 0.0)
        up = np.where(is_col, up, form.row_upper[np.where(is_col, 0, idx)])
        move = np.where(is_col, g, -g)
        with np.errstate(divide="ignore", invalid="ignore"):
            rise = np.where((move > 1e-12) & np.isfinite(up), (up - value) / move, INF)
            fall = np.where((move < -1e-12) & np.isfinite(low), (low - value) / move, INF)
        return float(max(0.0, min(rise.min(initial=INF), fall.min(initial=INF))))

    def objective_at(self, cols: dict[int, float], rows: dict[int, float], t: float) -> float:
        """The optimum with the upper bounds of the given columns and rows moved by
        `t * delta` (a warm re-solve from the optimal basis); the model and its basis are
        restored afterwards. NaN when the re-solve is not optimal."""
        import highspy

        h, form = self._h, self._form
        basis = h.getBasis()  # type: ignore[attr-defined]
        for j, d in cols.items():
            h.changeColBounds(j, form.col_lower[j], form.col_upper[j] + t * d)  # type: ignore[attr-defined]
        for i, d in rows.items():
            h.changeRowBounds(i, form.row_lower[i], form.row_upper[i] + t * d)  # type: ignore[attr-defined]
        with quiet_stdout(False):
            h.run()  # type: ignore[attr-defined]
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal  # type: ignore[attr-defined]
        value = float(h.getInfo().objective_function_value) if ok else math.nan  # type: ignore[attr-defined]
        for j in cols:
            h.changeColBounds(j, form.col_lower[j], form.col_upper[j])  # type: ignore[attr-defined]
        for i in rows:
            h.changeRowBounds(i, form.row_lower[i], form.row_upper[i])  # type: ignore[attr-defined]
        h.setBasis(basis)  # type: ignore[attr-defined]
        return value
