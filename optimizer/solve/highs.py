"""HiGHS in-process through highspy: one numpy `passModel`, interruptible, quiet.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import numpy as np

from optimizer.common.native import quiet_stdout
from optimizer.model.builder import MatrixForm
from optimizer.solve.ranging import HighsRanging
from optimizer.solve.status import Ranging, SolveResult, SolverOptions, Status, mip_gap_of

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


def solve_highs(form: MatrixForm, options: SolverOptions, ipm: bool = False) -> SolveResult:
    """Solve with HiGHS in-process, handing the model over in one `passModel`."""
    import highspy

    t0 = time.perf_counter()
    is_mip = bool(form.integer.any())
    with quiet_stdout(options.verbose):
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(options.verbose))
        h.setOptionValue("log_to_console", bool(options.verbose))
        if options.time_limit is not None:
            h.setOptionValue("time_limit", float(options.time_limit))
        h.setOptionValue("mip_rel_gap", mip_gap_of(options))
        if options.threads is not None:
            h.setOptionValue("threads", int(options.threads))
        if ipm and not is_mip:
            h.setOptionValue("solver", "ipm")
        pass_model(h, form)
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
    result.extract_seconds = time.perf_counter() - t2
    result.message = h.modelStatusToString(h.getModelStatus())
    return result


def fixed_lp_duals(
    form: MatrixForm, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Ranging | None] | None:
    """Row duals, reduced costs and ranging of a MILP's LP with the integers fixed at
    `values`.

    The usual way to price constraints of a mixed-integer plan: the duals of
    the LP that remains once the yes/no decisions are taken. Uses HiGHS;
    None when it is not available or the fixed LP does not solve.
    """
    h = _solved_fixed_lp(form, values)
    if h is None:
        return None
    sol = h.getSolution()  # type: ignore[attr-defined]
    duals, reduced = np.asarray(sol.row_dual, dtype=float), np.asarray(sol.col_dual, dtype=float)
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
        return HighsRanging(h, form)
    except Exception:
        return None


def fixed_lp(form: MatrixForm, values: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Column values and objective of the LP with the integers fixed at `values`, rounded."""
    h = _solved_fixed_lp(form, values)
    if h is None:
        return None
    sol = h.getSolution()  # type: ignore[attr-defined]
    objective = float(h.getInfo().objective_function_value)  # type: ignore[attr-defined]
    return np.asarray(sol.col_value, dtype=float), objective


def _solved_fixed_lp(form: MatrixForm, values: np.ndarray) -> object | None:
    """HiGHS after solving the LP with the integers fixed; None if unavailable or not optimal."""
    if highs_problem() is not None:
        return None
    import highspy

    fixed = np.where(form.integer, np.round(values), np.nan)
    lower = np.where(form.integer, fixed, form.col_lower)
    upper = np.where(form.integer, fixed, form.col_upper)
    lp = dataclasses.replace(
        form, col_lower=lower, col_upper=upper, integer=np.zeros_like(form.integer)
    )
    with quiet_stdout(False):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        pass_model(h, lp)
        _run_interruptibly(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return h


def quiet_highs() -> Any:
    """A HiGHS instance that prints nothing (solves kept across rounds log their own)."""
    import highspy

    with quiet_stdout(False):
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
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


def pass_model(h: object, form: MatrixForm) -> None:
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
        float(form.offset),
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
