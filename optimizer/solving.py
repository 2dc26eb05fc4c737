"""Solver choice, limits and the project's own status (DESIGN §4 "Solver").

Two paths, both reading the PuLP problem the model built:

- **HiGHS** in-process through highspy: the rows of the PuLP problem are read
  once, in the model's own column order, into one sparse matrix and handed
  over with a single `Highs.passModel` (PuLP's stock interface adds one row
  and one column at a time and rescans the problem; see PERFORMANCE.md).
- **CBC** as a subprocess (the cbcbox build when installed, else PuLP's
  bundled one): PuLP writes the MPS file into a private temporary folder,
  CBC runs in its own process group (killed with us, never orphaned), PuLP
  reads the solution back.

The solvers' answers are mapped once into `Status`. Only a proven optimum is
`OPTIMAL`; a solution found when a limit stopped the solver is `FEASIBLE`;
PuLP's own status is not trusted (it says "Optimal" after a time limit).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import enum
import fcntl
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pulp import LpConstraintEQ, LpConstraintGE, LpConstraintLE, LpInteger

from optimizer.errors import UserError
from optimizer.model import BuiltModel, MatrixForm

INF = float("inf")
DEFAULT_MIP_GAP = 1e-6  # relative; objectives are compared at 1e-6


class Status(enum.StrEnum):
    """What the solver's answer means for the user."""

    OPTIMAL = "optimal"  # proven optimal (MILP: within the MIP gap)
    FEASIBLE = "feasible"  # a plan, stopped by a limit before proving optimality
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"  # a limit stopped the solver before any plan
    ERROR = "error"

    @property
    def has_plan(self) -> bool:
        """True when there are values to report."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class SolverOptions:
    """What the user asked of the solver."""

    solver: str = "auto"  # auto, highs, highs-ipm, cbc
    time_limit: float | None = None  # seconds
    mip_gap: float | None = None  # relative
    threads: int | None = None
    verbose: bool = False  # solver log to stderr


class Ranging:
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


@dataclass
class SolveResult:
    """The solver's answer in the model's column and row order."""

    status: Status
    solver: str
    objective: float | None = None
    values: np.ndarray | None = None
    duals: np.ndarray | None = None  # per row: d objective / d rhs (LPs only)
    reduced_costs: np.ndarray | None = None  # per column (LPs only)
    ranging: Ranging | None = None  # LPs solved by HiGHS only
    gap: float | None = None
    seconds: float = 0.0  # the solve itself
    handoff_seconds: float = 0.0  # passing the model to the solver
    extract_seconds: float = 0.0  # reading the answer back
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)


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


HIGHS_API = ("Highs", "HighsModelStatus", "HighsStatus", "MatrixFormat", "ObjSense")
HIGHS_METHODS = ("passModel", "run", "cancelSolve", "getSolution", "getInfo", "setOptionValue")


def highs_problem() -> str | None:
    """Why highspy cannot be used here (missing, failing to import, another API), or None."""
    try:
        import highspy
    except Exception as exc:  # ImportError, or a broken build failing on import
        return f"{type(exc).__name__}: {exc}"
    missing = [n for n in HIGHS_API if not hasattr(highspy, n)]
    highs = getattr(highspy, "Highs", None)
    missing += [f"Highs.{n}" for n in HIGHS_METHODS if not hasattr(highs, n)]
    if missing:
        return f"highspy {highs_version() or '?'} lacks {', '.join(missing)}"
    return None


ROUNDING_TOLERANCE = 1e-9  # relative row violation allowed once the integers are rounded


def integral(built: BuiltModel, result: SolveResult) -> SolveResult:
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
    form = built.matrix if built.matrix is not None else matrix_form(built)
    if not form.integer.any():
        return result
    _drop_idle_fixed_costs(built, result)
    rounded = np.where(form.integer, np.round(result.values), result.values)
    if _row_violation(form, rounded) <= ROUNDING_TOLERANCE:
        return result
    fixed = _fixed_lp(built, rounded)
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
    _assign(built, result)
    return result


def _drop_idle_fixed_costs(built: BuiltModel, result: SolveResult) -> None:
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
            dropped += float(built.cost[j]) * float(values[j])
            values[j] = 0.0
    if dropped:
        if result.objective is not None:
            result.objective -= dropped
        result.message += "; idle suppliers' fixed costs dropped"
        _assign(built, result)


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


def _gap(options: SolverOptions) -> float:
    return DEFAULT_MIP_GAP if options.mip_gap is None else float(options.mip_gap)


# --- the model as arrays, read from the PuLP problem ---------------------------------


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


# --- HiGHS ---------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_stdout(verbose: bool) -> Iterator[None]:
    """Send whatever native code prints on fd 1 (HiGHS' banner) to stderr or nowhere."""
    sys.stdout.flush()
    saved = os.dup(1)
    target = os.dup(2) if verbose else os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(target, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(target)


def _highs_status(h: object, is_mip: bool) -> Status:
    import highspy

    ms = h.getModelStatus()  # type: ignore[attr-defined]
    info = h.getInfo()  # type: ignore[attr-defined]
    feasible = info.primal_solution_status == 2
    k = highspy.HighsModelStatus
    if ms == k.kOptimal:
        return Status.OPTIMAL
    if ms == k.kInfeasible:
        return Status.INFEASIBLE
    if ms == k.kUnboundedOrInfeasible:
        return Status.INFEASIBLE
    if ms == k.kUnbounded:
        return Status.UNBOUNDED
    limits = {
        k.kTimeLimit,
        k.kIterationLimit,
        k.kInterrupt,
        k.kSolutionLimit,
        k.kObjectiveBound,
        k.kObjectiveTarget,
    }
    if ms in limits:
        # An LP stopped early has no proven-feasible point worth reporting.
        return Status.FEASIBLE if (feasible and is_mip) else Status.NO_SOLUTION
    return Status.ERROR


def highs_version() -> str:
    """highspy's version, or "" when it is not installed."""
    try:
        from importlib.metadata import version

        return version("highspy")
    except Exception:
        return ""


def solve_highs(built: BuiltModel, options: SolverOptions, ipm: bool = False) -> SolveResult:
    """Solve with HiGHS in-process, handing the model over in one `passModel`."""
    import highspy

    t0 = time.perf_counter()
    form = built.matrix if built.matrix is not None else matrix_form(built)
    is_mip = bool(form.integer.any())
    with quiet_stdout(options.verbose):
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(options.verbose))
        h.setOptionValue("log_to_console", bool(options.verbose))
        if options.time_limit is not None:
            h.setOptionValue("time_limit", float(options.time_limit))
        h.setOptionValue("mip_rel_gap", _gap(options))
        if options.threads is not None:
            h.setOptionValue("threads", int(options.threads))
        if ipm and not is_mip:
            h.setOptionValue("solver", "ipm")
        _pass_model(h, form, float(built.prob.objective.constant))
        t1 = time.perf_counter()
        _run_interruptibly(h)
        t2 = time.perf_counter()
    status = _highs_status(h, is_mip)
    name = f"highs{'-ipm' if ipm else ''} {highs_version()}".strip()
    result = SolveResult(status, name, handoff_seconds=t1 - t0, seconds=t2 - t1)
    if status.has_plan:
        sol = h.getSolution()
        info = h.getInfo()
        result.values = np.asarray(sol.col_value, dtype=float)
        if not is_mip:
            result.duals = np.asarray(sol.row_dual, dtype=float)
            result.reduced_costs = np.asarray(sol.col_dual, dtype=float)
            if status is Status.OPTIMAL:
                result.ranging = _ranging(h, form)
        result.objective = float(info.objective_function_value)
        result.gap = float(info.mip_gap) if is_mip else 0.0
        _assign(built, result)
    result.extract_seconds = time.perf_counter() - t2
    result.message = h.modelStatusToString(h.getModelStatus())
    return result


def fixed_lp_duals(
    built: BuiltModel, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Ranging | None] | None:
    """Row duals, reduced costs and ranging of a MILP's LP with the integers fixed at
    `values`.

    The usual way to price constraints of a mixed-integer plan: the duals of
    the LP that remains once the yes/no decisions are taken. Uses HiGHS;
    None when it is not available or the fixed LP does not solve.
    """
    h = _solved_fixed_lp(built, values)
    if h is None:
        return None
    sol = h.getSolution()  # type: ignore[attr-defined]
    duals, reduced = np.asarray(sol.row_dual, dtype=float), np.asarray(sol.col_dual, dtype=float)
    form = built.matrix if built.matrix is not None else matrix_form(built)
    fixed = np.where(form.integer, np.round(values), np.nan)
    lp = dataclasses.replace(
        form,
        col_lower=np.where(form.integer, fixed, form.col_lower),
        col_upper=np.where(form.integer, fixed, form.col_upper),
    )
    return duals, reduced, _ranging(h, lp)


def _ranging(h: object, form: MatrixForm) -> Ranging | None:
    """Ranging of the LP HiGHS has just solved to optimality, or None when its basis
    cannot be read (an older highspy)."""
    try:
        return Ranging(h, form)
    except Exception:
        return None


def _fixed_lp(built: BuiltModel, values: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Column values and objective of the LP with the integers fixed at `values`, rounded."""
    h = _solved_fixed_lp(built, values)
    if h is None:
        return None
    sol = h.getSolution()  # type: ignore[attr-defined]
    objective = float(h.getInfo().objective_function_value)  # type: ignore[attr-defined]
    return np.asarray(sol.col_value, dtype=float), objective


def _solved_fixed_lp(built: BuiltModel, values: np.ndarray) -> object | None:
    """HiGHS after solving the LP with the integers fixed; None if unavailable or not optimal."""
    if highs_problem() is not None:
        return None
    import highspy

    form = built.matrix if built.matrix is not None else matrix_form(built)
    fixed = np.where(form.integer, np.round(values), np.nan)
    lower = np.where(form.integer, fixed, form.col_lower)
    upper = np.where(form.integer, fixed, form.col_upper)
    lp = dataclasses.replace(
        form, col_lower=lower, col_upper=upper, integer=np.zeros_like(form.integer)
    )
    with quiet_stdout(False):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        _pass_model(h, lp, float(built.prob.objective.constant))
        _run_interruptibly(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return h


def _run_interruptibly(h: object) -> None:
    """Run HiGHS in a thread and wait here, so that a signal can stop it.

    HiGHS releases the GIL while it solves, but a signal handler only runs in
    the main thread between Python instructions: waiting in short steps lets
    SIGINT/SIGTERM through, and `cancelSolve` then stops HiGHS at its next
    check.
    """
    h.HandleUserInterrupt = True  # type: ignore[attr-defined]
    done = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            h.run()  # type: ignore[attr-defined]
        except BaseException as exc:  # pragma: no cover - re-raised below
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=target, name="highs", daemon=True)
    thread.start()
    try:
        while not done.wait(0.05):
            pass
    except BaseException:
        h.cancelSolve()  # type: ignore[attr-defined]
        done.wait(10.0)
        raise
    if failure:
        raise failure[0]


def _pass_model(h: object, form: MatrixForm, offset: float) -> None:
    """Hand the arrays to HiGHS in one call, straight from numpy.

    The numpy overload of `passModel` copies each array at once; filling a
    `HighsLp` field by field converts element by element (about 0.25 s per
    million non-zeros). It needs an integrality entry for every column.
    """
    import highspy

    status = h.passModel(  # type: ignore[attr-defined]
        len(form.cost),
        len(form.row_lower),
        form.nnz,
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        offset,
        np.ascontiguousarray(form.cost, dtype=np.float64),
        np.ascontiguousarray(form.col_lower, dtype=np.float64),
        np.ascontiguousarray(form.col_upper, dtype=np.float64),
        np.ascontiguousarray(form.row_lower, dtype=np.float64),
        np.ascontiguousarray(form.row_upper, dtype=np.float64),
        np.ascontiguousarray(form.start, dtype=np.int32),
        np.ascontiguousarray(form.index, dtype=np.int32),
        np.ascontiguousarray(form.value, dtype=np.float64),
        np.ascontiguousarray(form.integer, dtype=np.int32),  # 0 continuous, 1 integer
    )
    # kWarning: entries below HiGHS' small_matrix_value (1e-9) were dropped, as zero;
    # the independent check of the plan still holds the solution to the scenario's numbers.
    if status not in (highspy.HighsStatus.kOk, highspy.HighsStatus.kWarning):
        raise RuntimeError(f"HiGHS refused the model: {status}")


def _assign(built: BuiltModel, result: SolveResult) -> None:
    """Write the values back into the PuLP variables (and duals into the rows)."""
    assert result.values is not None
    for v, x in zip(built.columns, result.values.tolist(), strict=True):
        v.varValue = x
    if result.duals is not None:
        rows = built.prob._constraints
        for name, pi in zip(built.row_names, result.duals.tolist(), strict=True):
            rows[name].pi = pi


# --- CBC -----------------------------------------------------------------------------


def cbc_path() -> str:
    """Path of the CBC executable: cbcbox's build, else PuLP's bundled one."""
    try:
        import cbcbox

        path = cbcbox.cbc_bin_path()
    except Exception:
        path = None
    if not path:
        from pulp import PULP_CBC_CMD

        with contextlib.suppress(Exception):
            path = PULP_CBC_CMD().path
    if not path:
        path = shutil.which("cbc")
    if not path:
        raise UserError("CBC is not installed (pip install cbcbox); use --solver highs")
    return str(path)


def cbc_version(path: str | None = None) -> str:
    """CBC's version string, or "" when it cannot be run."""
    try:
        exe = path or cbc_path()
        out = subprocess.run(
            [exe, "-quit"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
        ).stdout
    except Exception:
        return ""
    # Stock CBC prints "Version: 2.10.3"; cbcbox's build "CBC devel (git:146ce89) — ...".
    found = re.search(r"Version:\s*(\S+)", out) or re.search(
        r"^CBC (\S+(?: \(git:[0-9a-f]+\))?)", out, flags=re.MULTILINE
    )
    return found.group(1) if found else ""


_RUNNING: set[subprocess.Popen[bytes]] = set()


def kill_children() -> None:
    """Kill every solver process this process started (on SIGINT/SIGTERM)."""
    for proc in list(_RUNNING):
        with contextlib.suppress(Exception):
            os.killpg(proc.pid, signal.SIGKILL)


CBC_TMP_PREFIX = "sourcing-cbc-"  # + the pid of the process that runs CBC
CBC_LOCK = ".lock"  # held (flock) by the process using the folder, for as long as it does


def sweep_cbc_files(pids: Collection[int] | None = None, min_age: float = 60.0) -> None:
    """Remove CBC's temporary folders (model and solution files) left by killed processes.

    With `pids`: the folders of those processes (workers just killed); without:
    every folder whose lock no process holds any more (its owner is gone, however
    it died: the kernel releases the lock), and lock-less folders of processes
    that are gone once `min_age` seconds old.
    """
    from optimizer.interrupt import pid_alive

    now = time.time()
    with contextlib.suppress(OSError):
        for entry in Path(tempfile.gettempdir()).iterdir():
            head = entry.name[len(CBC_TMP_PREFIX) :].split("-")[0]
            if not entry.name.startswith(CBC_TMP_PREFIX) or not head.isdigit():
                continue
            pid = int(head)
            if pids is not None:
                gone = pid in pids
            elif (entry / CBC_LOCK).exists():
                gone = not _locked(entry / CBC_LOCK)
            else:
                gone = not pid_alive(pid) and now - entry.stat().st_mtime > min_age
            if gone:
                shutil.rmtree(entry, ignore_errors=True)


def _locked(path: Path) -> bool:
    """True while some process holds the lock file (its owner is alive)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return True  # gone or unreadable meanwhile: leave it alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the lock if we got it
    return False


@contextlib.contextmanager
def cbc_folder() -> Iterator[str]:
    """A private temporary folder for CBC's files, locked while in use, removed after.

    Removed by the reaper (`optimizer.reaper`) if this process is killed with
    SIGKILL, else by the next run's `sweep_cbc_files` (the lock tells it is free).
    """
    from optimizer import reaper

    with tempfile.TemporaryDirectory(prefix=f"{CBC_TMP_PREFIX}{os.getpid()}-") as tmp:
        fd = os.open(Path(tmp) / CBC_LOCK, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            reaper.watch_path(tmp)
            yield tmp
        finally:
            os.close(fd)
            reaper.forget_path(tmp)


_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child get SIGKILL when its parent dies (Linux).

    Resolved here, in the parent, so that the child only makes the call. The
    child also checks that its parent is still there (it may have died before
    the call), and exits if not.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.argtypes += [ctypes.c_ulong]
    parent = os.getpid()
    sigkill = int(signal.SIGKILL)

    def set_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, sigkill, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return set_signal


CBC_GRACE = 2.0  # seconds (plus a quarter of the limit) before CBC is stopped at a time limit


def _wait_cbc(proc: subprocess.Popen[bytes], time_limit: float | None) -> int | None:
    """CBC's exit code; None if it overran its time limit and was killed.

    CBC honours `-sec` in branch and bound, but not in an LP solve (seen: 5.4 s
    past a 0.01 s limit, and SIGINT ignored too), nor always in preprocessing.
    """
    if time_limit is None:
        return proc.wait()
    try:
        return proc.wait(timeout=1.25 * time_limit + CBC_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def solve_cbc(built: BuiltModel, options: SolverOptions) -> SolveResult:
    """Solve with CBC: MPS file in a private temporary folder, CBC in its own process group."""
    from pulp import COIN_CMD

    from optimizer import reaper

    exe = cbc_path()
    if not os.access(exe, os.X_OK):
        raise UserError(f"CBC at {exe} is not executable; use --solver highs")
    prob = built.prob
    is_mip = bool(built.is_mip)
    sweep_cbc_files()
    with cbc_folder() as tmp:
        mps, sol, log = (str(Path(tmp) / n) for n in ("model.mps", "model.sol", "cbc.log"))
        t0 = time.perf_counter()
        pulp_names = _write_mps(built, mps)
        args = [exe, mps]
        if options.time_limit is not None:
            args += ["-sec", f"{options.time_limit:g}", "-timeMode", "elapsed"]
        if is_mip:
            args += ["-ratio", f"{_gap(options):g}"]
        if options.threads is not None and is_mip:
            # Only branch and bound uses threads; with `-threads 2` CBC's LP solve returned
            # another optimal vertex (a different plan.csv), breaking DESIGN §6 (issue 8).
            args += ["-threads", str(options.threads)]
        # Bound propagation in this CBC build declares some feasible models infeasible
        # (a share cap that forces a column to 0: "FBBT divergence"); off, it does not.
        args += ["-boundPropLevel", "off"]
        args += ["-solve" if is_mip else "-initialSolve", "-printingOptions", "all"]
        args += ["-solution", sol]
        t1 = time.perf_counter()
        with open(log, "wb") as out:
            try:
                # Its own session (a Ctrl-C is ours to handle), and SIGKILL when we die,
                # even by kill -9 (issue 13: CBC kept solving after its parent was gone).
                proc = subprocess.Popen(
                    args,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    preexec_fn=_parent_death_signal(),
                )
            except (OSError, subprocess.SubprocessError) as exc:  # e.g. ENOEXEC: not a program
                reason = getattr(exc, "strerror", None) or exc
                raise UserError(f"cannot run CBC at {exe}: {reason}; use --solver highs") from None
            _RUNNING.add(proc)
            reaper.watch_group(proc.pid)
            try:
                code = _wait_cbc(proc, options.time_limit)
            finally:
                _RUNNING.discard(proc)
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=5)  # reaped: no zombie left behind
                reaper.forget_group(proc.pid)
        t2 = time.perf_counter()
        log_text = Path(log).read_text(errors="replace")
        if options.verbose:
            sys.stderr.write(log_text)
        if code is None:  # (no version query: a CBC that hangs would hang it too)
            return SolveResult(
                Status.NO_SOLUTION,
                "cbc",
                handoff_seconds=t1 - t0,
                seconds=t2 - t1,
                message=f"CBC did not stop at the time limit of {options.time_limit:g} s "
                f"and was stopped after {t2 - t1:.1f} s",
            )
        name = f"cbc {cbc_version(exe)}".strip()
        if code != 0 or not os.path.exists(sol):
            tail = " ".join(log_text.strip().splitlines()[-3:])
            return SolveResult(
                Status.ERROR,
                name,
                handoff_seconds=t1 - t0,
                seconds=t2 - t1,
                message=f"CBC failed (exit {code}): {tail}",
            )
        if pulp_names is None:
            col_values, col_dj, row_duals = _read_cbc_solution(
                sol, len(built.columns), len(built.row_names)
            )
        else:
            reader = COIN_CMD(path=exe, msg=False)
            _st, values, dj, duals, _sl, _sol_st = reader.readsol_MPS(sol, prob, *pulp_names)
            col_values = np.array([float(values.get(v.name) or 0.0) for v in built.columns])
            col_dj = np.array([float(dj.get(v.name) or 0.0) for v in built.columns])
            row_duals = np.array([float(duals.get(r, 0.0)) for r in built.row_names])
        first_line = Path(sol).read_text(errors="replace").splitlines()[:1]
    result = SolveResult(
        _cbc_status(first_line[0] if first_line else "", is_mip),
        name,
        handoff_seconds=t1 - t0,
        seconds=t2 - t1,
        message=first_line[0].strip() if first_line else "",
    )
    if result.status is Status.ERROR:  # e.g. "Status unknown": say what CBC's log said
        said = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
        said = [ln for ln in said if not ln.startswith("Total time")][-2:]
        result.message += f" (CBC log: {' '.join(said)})" if said else ""
    t3 = time.perf_counter()
    if result.status.has_plan:
        result.values = col_values
        if not is_mip:
            result.duals = row_duals
            result.reduced_costs = col_dj
        result.objective = float(result.values @ built.cost) + float(prob.objective.constant)
        result.gap = _cbc_gap(log_text) if result.status is Status.FEASIBLE else 0.0
        stated = _stated_objective(result.message)
        if stated is not None and abs(stated - result.objective) > 1e-6 * max(1.0, abs(stated)):
            # The values read back do not give the objective CBC reports: never use them.
            result.status = Status.ERROR
            result.message += f" (values read back cost {result.objective:.10g})"
            result.values = result.duals = result.reduced_costs = None
            result.objective = None
            return result
        _assign(built, result)
    result.extract_seconds = time.perf_counter() - t3
    return result


def _write_mps(built: BuiltModel, path: str) -> tuple[object, ...] | None:
    """Write the model as MPS for CBC.

    HiGHS' writer (from the recorded matrix, rows r<i> and columns c<i> in the
    model's order) is several times faster than PuLP's `writeMPS`; PuLP's is
    the fallback when highspy is not usable. Returns PuLP's name maps when PuLP
    wrote the file (the solution is then read by name), None otherwise.
    """
    if highs_problem() is None and built.matrix is not None:
        import highspy

        with quiet_stdout(False):
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            try:
                _pass_model(h, built.matrix, float(built.prob.objective.constant))
                status = h.writeModel(path)
            except RuntimeError:  # HiGHS refused the model: PuLP writes it
                status = None
        # kWarning: HiGHS names the rows r<i> and columns c<i> itself (it always warns so)
        if status in (highspy.HighsStatus.kOk, highspy.HighsStatus.kWarning):
            return None
    vs, var_names, row_names, _ = built.prob.writeMPS(path, rename=1)
    return vs, var_names, row_names


def _read_cbc_solution(
    path: str, n_cols: int, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column values, reduced costs and row duals from CBC's `-printingOptions all` file.

    After the status line CBC lists rows (index, name, activity, dual), then
    columns (index, name, value, reduced cost); a line may start with `**` when
    the value breaks a bound. Entries are placed by their names (`r<i>`, `c<i>`,
    as HiGHS wrote the file), not by their position: CBC leaves out rows it
    turned into bounds (a row with a single variable), so positions shift.
    """
    values, reduced, duals = np.zeros(n_cols), np.zeros(n_cols), np.zeros(n_rows)
    with open(path, errors="replace") as fh:
        fh.readline()
        for line in fh:
            parts = line.split()
            if parts and parts[0] == "**":
                parts = parts[1:]
            if len(parts) < 4 or len(parts[1]) < 2 or not parts[1][1:].isdigit():
                continue
            kind, k = parts[1][0], int(parts[1][1:])
            if kind == "r" and k < n_rows:
                duals[k] = float(parts[3])
            elif kind == "c" and k < n_cols:
                values[k] = float(parts[2])
                reduced[k] = float(parts[3])
    return values, reduced, duals


def _stated_objective(first_line: str) -> float | None:
    """The objective value on CBC's status line, when it states one."""
    found = re.search(r"objective value\s+([-+0-9.eE]+)", first_line)
    try:
        return float(found.group(1)) if found else None
    except ValueError:
        return None


def _cbc_status(first_line: str, is_mip: bool) -> Status:
    """The status line of CBC's solution file, e.g. "Stopped on time - objective value 7"."""
    words = first_line.split()
    head = words[:1]
    if head == ["Optimal"]:
        return Status.OPTIMAL
    if head == ["Infeasible"] or words[:2] == ["Integer", "infeasible"]:
        return Status.INFEASIBLE
    if head == ["Unbounded"]:
        return Status.UNBOUNDED
    if head == ["Stopped"]:
        # An LP stopped early has no proven-feasible point; a MIP has one only if
        # CBC reports a finite incumbent objective.
        # "Stopped on time (LP relaxation not completed - no integer solution) - objective
        # value 3774026" gives the relaxation's value, not an incumbent's (issue 8).
        found = re.search(r"objective value\s+([-+0-9.eE]+)", first_line)
        has_incumbent = (
            is_mip
            and found is not None
            and abs(float(found.group(1))) < 1e49
            and "no integer solution" not in first_line
        )
        return Status.FEASIBLE if has_incumbent else Status.NO_SOLUTION
    return Status.ERROR


def _cbc_gap(log_text: str) -> float | None:
    found = re.findall(r"^Gap:\s*([-+0-9.eE]+)", log_text, flags=re.MULTILINE)
    return float(found[-1]) if found else None
