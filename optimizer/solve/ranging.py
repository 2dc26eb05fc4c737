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
        # value and bounds of each basic variable (a column, or a row as -1 - row)
        basic = self._basic
        self._is_col = is_col = basic >= 0
        col = np.where(is_col, basic, 0)
        row = np.where(is_col, 0, -1 - basic)
        self._value = np.where(is_col, self._col_value[col], self._row_value[row])
        self._low = np.where(is_col, form.col_lower[col], form.row_lower[row])
        self._up = np.where(is_col, form.col_upper[col], form.row_upper[row])
        self._by_col: tuple[np.ndarray, np.ndarray] | None = None

    def _column_entries(self, cols: np.ndarray) -> np.ndarray:
        """Positions in the row-wise matrix of the entries of `cols`, in matrix order."""
        if self._by_col is None:  # the matrix by column, once
            order = np.argsort(self._form.index, kind="stable")
            counts = np.bincount(self._form.index, minlength=len(self._form.col_lower))
            start = np.zeros(counts.size + 1, dtype=np.int64)
            np.cumsum(counts, out=start[1:])
            self._by_col = order, start
        order, start = self._by_col
        parts = [order[start[j] : start[j + 1]] for j in cols.tolist()]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def step(self, cols: dict[int, float], rows: dict[int, float]) -> float:
        """Largest t >= 0 along the direction (upper bounds of columns and rows); inf when
        nothing ends it."""
        return self.steps(cols, rows)[0]

    def steps(self, cols: dict[int, float], rows: dict[int, float]) -> tuple[float, float]:
        """`step` along the direction and along its opposite, from one basis solve (the
        basic variables move by the same amounts with the opposite sign)."""
        form = self._form
        dx = {j: d for j, d in cols.items() if self._col_status[j] == self._upper}
        rhs = np.zeros(len(form.row_lower))
        if dx:
            pos = self._column_entries(np.fromiter(dx, dtype=np.int64))
            weights = np.array([dx[int(j)] for j in form.index[pos]])
            np.add.at(rhs, self._rows[pos], -form.value[pos] * weights)
        for i, d in rows.items():
            if self._row_status[i] == self._upper:
                rhs[i] += d
        if not rhs.any():
            return INF, INF
        _, g = self._h.getBasisSolve(rhs)  # type: ignore[attr-defined]
        move = np.where(self._is_col, np.asarray(g, dtype=float), -np.asarray(g, dtype=float))
        value, low, up = self._value, self._low, self._up
        rising, falling = move > 1e-12, move < -1e-12
        has_up, has_low = np.isfinite(up), np.isfinite(low)
        with np.errstate(divide="ignore", invalid="ignore"):
            # basic variables rise by move * t going forward, by -move * t going back
            forward = min(
                np.where(rising & has_up, (up - value) / move, INF).min(initial=INF),
                np.where(falling & has_low, (low - value) / move, INF).min(initial=INF),
            )
            backward = min(
                np.where(falling & has_up, (up - value) / -move, INF).min(initial=INF),
                np.where(rising & has_low, (low - value) / -move, INF).min(initial=INF),
            )
        return float(max(0.0, forward)), float(max(0.0, backward))

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
