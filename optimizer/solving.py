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
import dataclasses
import enum
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
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


@dataclass
class SolveResult:
    """The solver's answer in the model's column and row order."""

    status: Status
    solver: str
    objective: float | None = None
    values: np.ndarray | None = None
    duals: np.ndarray | None = None  # per row: d objective / d rhs (LPs only)
    reduced_costs: np.ndarray | None = None  # per column (LPs only)
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


def solve(built: BuiltModel, options: SolverOptions) -> SolveResult:
    """Solve a built model with the chosen solver and map its answer to `Status`."""
    name = choose_solver(built, options.solver)
    if name in ("highs", "highs-ipm"):
        try:
            import highspy  # noqa: F401
        except ImportError as exc:  # highspy missing or broken: fall back to CBC
            print(
                f"warning: HiGHS is not usable ({exc}); solving with CBC instead",
                file=sys.stderr,
            )
            return solve_cbc(built, options)
        return solve_highs(built, options, ipm=name == "highs-ipm")
    if name == "cbc":
        return solve_cbc(built, options)
    raise UserError(f"unknown solver {name!r}; use highs, highs-ipm or cbc")


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
        result.objective = float(info.objective_function_value)
        result.gap = float(info.mip_gap) if is_mip else 0.0
        _assign(built, result)
    result.extract_seconds = time.perf_counter() - t2
    result.message = h.modelStatusToString(h.getModelStatus())
    return result


def fixed_lp_duals(built: BuiltModel, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Row duals and reduced costs of a MILP's LP with the integers fixed at `values`.

    The usual way to price constraints of a mixed-integer plan: the duals of
    the LP that remains once the yes/no decisions are taken. Uses HiGHS;
    None when it is not available or the fixed LP does not solve.
    """
    try:
        import highspy
    except ImportError:
        return None
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
    sol = h.getSolution()
    return np.asarray(sol.row_dual, dtype=float), np.asarray(sol.col_dual, dtype=float)


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
    if status != highspy.HighsStatus.kOk:
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
    found = re.search(r"Version:\s*(\S+)", out)
    return found.group(1) if found else ""


_RUNNING: set[subprocess.Popen[bytes]] = set()


def kill_children() -> None:
    """Kill every solver process this process started (on SIGINT/SIGTERM)."""
    for proc in list(_RUNNING):
        with contextlib.suppress(Exception):
            os.killpg(proc.pid, signal.SIGKILL)


def solve_cbc(built: BuiltModel, options: SolverOptions) -> SolveResult:
    """Solve with CBC: MPS file in a private temporary folder, CBC in its own process group."""
    from pulp import COIN_CMD

    exe = cbc_path()
    if not os.access(exe, os.X_OK):
        raise UserError(f"CBC at {exe} is not executable; use --solver highs")
    prob = built.prob
    is_mip = bool(built.is_mip)
    with tempfile.TemporaryDirectory(prefix="sourcing-cbc-") as tmp:
        mps, sol, log = (str(Path(tmp) / n) for n in ("model.mps", "model.sol", "cbc.log"))
        t0 = time.perf_counter()
        pulp_names = _write_mps(built, mps)
        args = [exe, mps]
        if options.time_limit is not None:
            args += ["-sec", f"{options.time_limit:g}", "-timeMode", "elapsed"]
        if is_mip:
            args += ["-ratio", f"{_gap(options):g}"]
        if options.threads is not None:
            args += ["-threads", str(options.threads)]
        args += ["-solve" if is_mip else "-initialSolve", "-printingOptions", "all"]
        args += ["-solution", sol]
        t1 = time.perf_counter()
        with open(log, "wb") as out:
            try:
                proc = subprocess.Popen(
                    args,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                raise UserError(f"cannot run CBC at {exe}: {exc.strerror or exc}") from None
            _RUNNING.add(proc)
            try:
                code = proc.wait()
            finally:
                _RUNNING.discard(proc)
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
        t2 = time.perf_counter()
        log_text = Path(log).read_text(errors="replace")
        if options.verbose:
            sys.stderr.write(log_text)
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
    t3 = time.perf_counter()
    if result.status.has_plan:
        result.values = col_values
        if not is_mip:
            result.duals = row_duals
            result.reduced_costs = col_dj
        result.objective = float(result.values @ built.cost) + float(prob.objective.constant)
        result.gap = _cbc_gap(log_text) if result.status is Status.FEASIBLE else 0.0
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
    try:
        import highspy
    except ImportError:
        highspy = None
    if highspy is not None and built.matrix is not None:
        with quiet_stdout(False):
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            _pass_model(h, built.matrix, float(built.prob.objective.constant))
            status = h.writeModel(path)
        if status == highspy.HighsStatus.kOk:
            return None
    vs, var_names, row_names, _ = built.prob.writeMPS(path, rename=1)
    return vs, var_names, row_names


def _read_cbc_solution(
    path: str, n_cols: int, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column values, reduced costs and row duals from CBC's `-printingOptions all` file.

    After the status line CBC lists every row (index, name, activity, dual), then
    every column (index, name, value, reduced cost), in the file's order; a line
    may start with `**` when the value breaks a bound.
    """
    values, reduced, duals = np.zeros(n_cols), np.zeros(n_cols), np.zeros(n_rows)
    with open(path, errors="replace") as fh:
        fh.readline()
        for k, line in enumerate(fh):
            parts = line.split()
            if parts and parts[0] == "**":
                parts = parts[1:]
            if len(parts) < 4:
                continue
            if k < n_rows:
                duals[k] = float(parts[3])
            elif k - n_rows < n_cols:
                values[k - n_rows] = float(parts[2])
                reduced[k - n_rows] = float(parts[3])
    return values, reduced, duals


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
        found = re.search(r"objective value\s+([-+0-9.eE]+)", first_line)
        has_incumbent = is_mip and found is not None and abs(float(found.group(1))) < 1e49
        return Status.FEASIBLE if has_incumbent else Status.NO_SOLUTION
    return Status.ERROR


def _cbc_gap(log_text: str) -> float | None:
    found = re.findall(r"^Gap:\s*([-+0-9.eE]+)", log_text, flags=re.MULTILINE)
    return float(found[-1]) if found else None
