"""The master of the scenario decomposition in a HiGHS instance kept across its rounds
(`MasterSolver`, or CBC for it): it gets cuts as rows and loses those that stayed slack
for CUT_AGE rounds. The tree over its binaries solves nodes in copies of it, one per
lane (`lanes`), each in its own thread: HiGHS releases the GIL while it solves. The
recourse LPs are in `optimizer.solve.benders_chunks`.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from typing import Any

import numpy as np

from optimizer.model.benders_blocks import Cut, Master, MaterialBlocks, cut_rows
from optimizer.solve.highs import _run_interruptibly, pass_model, quiet_highs
from optimizer.solve.status import SolverOptions, Status

CUT_AGE = 5  # rounds a cut may stay slack before it leaves the master
# a node's LP that the dual simplex leaves unsettled from its basis and from scratch is
# solved once more by the primal simplex, then by the interior point method
FALLBACKS = (("simplex_strategy", 4), ("solver", "ipm"))


def _limit(h: Any, seconds: float | None) -> None:
    """Limit the next solve of a HiGHS instance kept across solves to `seconds`. HiGHS
    holds its `time_limit` against the run time of all the instance's solves so far, so
    the limit is that time plus the seconds left."""
    if seconds is None:
        h.setOptionValue("time_limit", math.inf)
    else:
        h.setOptionValue("time_limit", float(h.getRunTime()) + max(seconds, 0.01))


def _run_node(h: Any) -> None:
    """Solve in this thread when it is a lane of the tree (its main thread takes the
    signals and stops the lanes by `MasterSolver.cancel`), else interruptibly."""
    if threading.current_thread() is threading.main_thread():
        _run_interruptibly(h)
    else:
        h.run()


class MasterSolver:
    """The master in one HiGHS instance, kept across rounds: cuts are added as rows, and
    cuts that stayed slack for CUT_AGE rounds are dropped (the bounds stay valid with
    any subset of valid cuts). With `--solver cbc` CBC solves it (from the matrix with
    the cut rows); the subproblems stay HiGHS."""

    def __init__(self, master: Master, mats: list[MaterialBlocks], options: SolverOptions):
        self.master = master
        self.mats = mats
        form = master.built.matrix
        self.form = form
        h = quiet_highs()  # --verbose logs the rounds instead
        if options.threads is not None:
            h.setOptionValue("threads", int(options.threads))
        pass_model(h, form)
        self.h = h
        self.threads = options.threads
        self.hs = [h]  # the master, then its copies for the tree's lanes
        self.synced = [0]  # cut rows each copy holds (the first of self.rows)
        self.note = ""
        self.base_rows = len(form.row_lower)
        self.integer = np.flatnonzero(form.integer).astype(np.int32)
        # every yes/no decision between 0 and 1 (what the tree over them branches on)
        self.binary = bool(
            np.all(form.col_lower[self.integer] >= 0) and np.all(form.col_upper[self.integer] <= 1)
        )
        self.relaxed = False
        self.cuts: list[Cut] = []  # in the order of their rows, after the base rows
        self.age: list[int] = []
        self.message = ""
        self.cbc = options.solver == "cbc"
        self.fixed: np.ndarray | None = None  # values the yes/no decisions are fixed at
        self.rows: list[tuple[np.ndarray, np.ndarray, float]] = []  # the cuts as rows

    def relax(self, relaxed: bool) -> None:
        """Solve the master as an LP (binaries relaxed) or as the MILP."""
        if self.integer.size and relaxed != self.relaxed:
            kind = np.zeros if relaxed else np.ones
            self.h.changeColsIntegrality(
                self.integer.size, self.integer, kind(self.integer.size, dtype=np.uint8)
            )
            self.relaxed = relaxed

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.size) and not self.relaxed

    def fix(self, values: np.ndarray | None) -> None:
        """Fix the yes/no decisions at their (rounded) values and solve the LP that
        remains; None: free them again (the MILP)."""
        n = self.integer.size
        if not n:
            return
        if values is None:
            low, up = self.form.col_lower[self.integer], self.form.col_upper[self.integer]
            self.relaxed = True
            self.relax(False)
        else:
            low = up = np.round(values[self.integer])
            self.relax(True)
        self.fixed = None if values is None else low
        self.h.changeColsBounds(
            n,
            self.integer,
            np.ascontiguousarray(low, dtype=np.float64),
            np.ascontiguousarray(up, dtype=np.float64),
        )

    def node(
        self,
        low: np.ndarray,
        up: np.ndarray,
        basis: Any | None,
        time_limit: float | None,
        lane: int = 0,
        bound: float = math.inf,
    ) -> tuple[str, float, np.ndarray | None, Any | None, np.ndarray | None]:
        """The master as an LP with its yes/no decisions between `low` and `up` (a node of
        the tree over them), from `basis` (a node's; rows added since are basic), in the
        copy `lane`: status ("optimal", "infeasible", "limit", "error", or "bound" when
        the dual simplex proved the LP's value above `bound` and stopped there: value
        `bound`), value, values, basis, and the reduced costs of the yes/no decisions."""
        import highspy

        if lane == 0:
            self.relax(True)
        h = self._sync(lane)
        n = self.integer.size
        h.changeColsBounds(
            n,
            self.integer,
            np.ascontiguousarray(low, dtype=np.float64),
            np.ascontiguousarray(up, dtype=np.float64),
        )
        whole = None if basis is None else self._extended(basis, h)
        if whole is not None:
            h.setBasis(whole)
        _limit(h, time_limit)
        # the dual simplex stops once its objective, recomputed with the costs it did not
        # perturb, is above `bound` (what HiGHS's own MIP does with its node LPs)
        h.setOptionValue("objective_bound", bound)
        k = highspy.HighsModelStatus
        settled = (
            k.kOptimal,
            k.kInfeasible,
            k.kUnboundedOrInfeasible,
            k.kTimeLimit,
            k.kInterrupt,
            k.kObjectiveBound,
        )
        _run_node(h)
        if h.getModelStatus() not in settled:  # numerical trouble: once more from scratch
            h.clearSolver()
            _run_node(h)
        method = "simplex"
        for option, setting in FALLBACKS:  # and then by other methods
            if h.getModelStatus() in settled:
                break
            method = str(setting) if option == "solver" else method
            h.clearSolver()
            h.setOptionValue(option, setting)
            _limit(h, time_limit)
            try:
                _run_node(h)
            finally:
                h.resetOptions()
                h.setOptionValue("output_flag", False)
                if self.threads is not None:
                    h.setOptionValue("threads", int(self.threads))
        status = h.getModelStatus()
        if status == k.kObjectiveBound:
            return "bound", bound, None, None, None
        if status == k.kOptimal:
            sol = h.getSolution()
            values = np.asarray(sol.col_value, dtype=float)
            reduced = np.asarray(sol.col_dual, dtype=float)[self.integer]
            value = float(h.getInfo().objective_function_value)
            return "optimal", value, values, h.getBasis(), reduced
        if status in (k.kInfeasible, k.kUnboundedOrInfeasible) and method != "ipm":
            return "infeasible", math.inf, None, None, None
        if status in (k.kTimeLimit, k.kInterrupt):
            return "limit", -math.inf, None, None, None
        # HiGHS' interior point method has called a feasible node LP of these masters
        # infeasible: pruning on its word alone could drop the optimum
        unconfirmed = " by the interior point method alone" if method == "ipm" else ""
        self.message = h.modelStatusToString(status) + unconfirmed
        return "error", -math.inf, None, None, None

    def _extended(self, basis: Any, h: Any) -> Any | None:
        """A basis of fewer rows made whole for `h`: the cut rows added since are basic
        (None when rows were dropped since)."""
        import highspy

        rows = h.getNumRow()
        if len(basis.row_status) == rows:
            return basis
        if len(basis.row_status) > rows:
            return None
        whole = highspy.HighsBasis()
        whole.col_status = list(basis.col_status)
        extra = rows - len(basis.row_status)
        whole.row_status = list(basis.row_status) + [highspy.HighsBasisStatus.kBasic] * extra
        whole.valid = True
        return whole

    def add_cuts(self, cuts: list[Cut]) -> None:
        """Cuts as rows `theta - g'x - h'r >= const`: recorded here, and handed to each
        copy of the master before its next solve (a copy may be solving a node now)."""
        rows = cut_rows(self.master, self.mats, cuts)
        if not rows:
            return
        self.rows.extend(rows)
        self.cuts.extend(cuts)
        self.age.extend([0] * len(cuts))

    def _sync(self, lane: int) -> Any:
        """The copy `lane` of the master with every cut recorded so far."""
        h = self.hs[lane]
        rows = self.rows[self.synced[lane] :]
        if rows:
            starts = np.cumsum([0] + [len(c) for c, _, _ in rows[:-1]]).astype(np.int32)
            index = np.concatenate([c for c, _, _ in rows]).astype(np.int32)
            value = np.concatenate([v for _, v, _ in rows]).astype(np.float64)
            lower = np.array([lo for _, _, lo in rows], dtype=np.float64)
            upper = np.full(len(rows), math.inf)
            h.addRows(len(rows), lower, upper, index.size, starts, index, value)
            self.synced[lane] += len(rows)
        return h

    def lanes(self, n: int) -> int:
        """Copies of the master so that `n` nodes of the tree can be solved at once (each
        an LP: binaries relaxed); the number of lanes."""
        relaxed = dataclasses.replace(self.form, integer=np.zeros_like(self.form.integer))
        while len(self.hs) < n:
            h = quiet_highs()
            if self.threads is not None:
                h.setOptionValue("threads", int(self.threads))
            pass_model(h, relaxed)
            h.HandleUserInterrupt = True  # so that `cancel` stops it
            self.hs.append(h)
            self.synced.append(0)
        return len(self.hs)

    def cancel(self) -> None:
        """Stop every copy's solve at its next check."""
        for h in self.hs:
            h.cancelSolve()

    def prune(self) -> int:
        """Age the cuts by the last solution (slack: older) and drop the old ones."""
        if not self.cuts or self.cbc:
            return 0
        self._sync(0)
        sol = self.h.getSolution()
        activity = np.asarray(sol.row_value, dtype=float)[self.base_rows :]
        lower = np.array([lo for _, _, lo in self.rows])  # as the rows hold them (scaled)
        slack = activity - lower > 1e-6 * np.maximum(1.0, np.abs(lower))
        age = np.where(slack, np.asarray(self.age) + 1, 0)
        old = np.flatnonzero(age >= CUT_AGE)
        self.age = age.tolist()
        if old.size == 0:
            return 0
        rows = (old + self.base_rows).astype(np.int32)
        self.h.deleteRows(rows.size, rows)
        del self.hs[1:], self.synced[1:]  # copies are made again, from the rows kept
        self.synced[0] -= int(old.size)
        keep = np.ones(len(self.cuts), dtype=bool)
        keep[old] = False
        self.cuts = [c for c, k in zip(self.cuts, keep.tolist(), strict=True) if k]
        self.rows = [r for r, k in zip(self.rows, keep.tolist(), strict=True) if k]
        self.age = [a for a, k in zip(self.age, keep.tolist(), strict=True) if k]
        return int(old.size)

    def solve(
        self, time_limit: float | None, gap: float, start: np.ndarray | None
    ) -> tuple[str, float, np.ndarray | None]:
        """Status ("optimal", "limit", "infeasible", "error"), lower bound, values.

        A warm start that ends in a numerical failure is retried once from scratch.
        """
        import highspy

        if self.cbc:
            return self._solve_cbc(time_limit, gap)
        h = self._sync(0)
        _limit(h, time_limit)
        h.setOptionValue("objective_bound", math.inf)
        h.setOptionValue("mip_rel_gap", gap)
        if start is not None and self.is_mip:
            sol = highspy.HighsSolution()
            sol.col_value = start.tolist()
            sol.value_valid = True
            h.setSolution(sol)
        k = highspy.HighsModelStatus
        settled = (k.kOptimal, k.kInfeasible, k.kUnboundedOrInfeasible, k.kTimeLimit, k.kInterrupt)
        t0 = time.perf_counter()
        before = h.getBasis() if not self.is_mip else None
        _run_interruptibly(h)
        self.note = f"{h.getInfo().simplex_iteration_count} it {time.perf_counter() - t0:.1f}s"
        if h.getModelStatus() not in settled and before is not None and before.valid:
            # a numerical failure on the way from the last basis: the same start again with
            # a fresh factorisation and scaling (much cheaper than starting cold)
            h.clearSolver()
            h.setBasis(before)
            _run_interruptibly(h)
            self.note += f", again {h.getInfo().simplex_iteration_count} it"
        if h.getModelStatus() not in settled:
            h.clearSolver()
            _run_interruptibly(h)
            self.note += f", cold {h.getInfo().simplex_iteration_count} it"
        status = h.getModelStatus()
        info = h.getInfo()
        has_values = info.primal_solution_status == 2 or status == k.kOptimal
        values = np.asarray(h.getSolution().col_value, dtype=float) if has_values else None
        if status == k.kOptimal:
            bound = info.mip_dual_bound if self.is_mip else info.objective_function_value
            return "optimal", float(bound), values
        if status in (k.kInfeasible, k.kUnboundedOrInfeasible):
            return "infeasible", -math.inf, None
        if status in (k.kTimeLimit, k.kInterrupt):
            bound = info.mip_dual_bound if self.is_mip else -math.inf
            return "limit", float(bound), values
        self.message = h.modelStatusToString(status)
        return "error", -math.inf, values

    def _solve_cbc(
        self, time_limit: float | None, gap: float
    ) -> tuple[str, float, np.ndarray | None]:
        """The master with its cuts solved by CBC (`--solver cbc`): the recorded matrix
        plus the cut rows, written as MPS by HiGHS."""
        from optimizer.solve.cbc import solve_cbc

        form = self.form
        n = len(self.rows)
        lengths = np.array([len(c) for c, _, _ in self.rows], dtype=np.int64)
        low, up = form.col_lower.copy(), form.col_upper.copy()
        if self.fixed is not None:
            low[self.integer] = up[self.integer] = self.fixed
        full = dataclasses.replace(
            form,
            col_lower=low,
            col_upper=up,
            integer=form.integer & (not self.relaxed),
            row_lower=np.concatenate([form.row_lower, [lo for _, _, lo in self.rows]]),
            row_upper=np.concatenate([form.row_upper, np.full(n, math.inf)]),
            start=np.concatenate([form.start, form.start[-1] + np.cumsum(lengths)]),
            index=np.concatenate([form.index, *[c for c, _, _ in self.rows]]).astype(np.int32),
            value=np.concatenate([form.value, *[v for _, v, _ in self.rows]]),
        )
        options = SolverOptions(solver="cbc", time_limit=time_limit, mip_gap=gap)
        result = solve_cbc(self.master.built, full, options)
        if result.status is Status.INFEASIBLE:
            return "infeasible", -math.inf, None
        if not result.status.has_plan or result.values is None or result.objective is None:
            self.message = f"{result.solver}: {result.status.value} {result.message}"
            return ("limit" if result.status is Status.NO_SOLUTION else "error"), -math.inf, None
        obj = float(result.objective)
        if full.integer.any():  # CBC's objective is within its gap of its bound
            proven = result.gap if result.gap is not None else gap
            bound = obj - max(proven, 0.0) * max(1.0, abs(obj))
        else:
            bound = obj
        status = "optimal" if result.status is Status.OPTIMAL else "limit"
        return status, bound, result.values
