"""CBC as a subprocess: the model as MPS in a private folder, CBC in its own process
group that dies with us, the solution read back by position.

Longer than 400 lines because supervising a subprocess is one job with many ways
to fail (no executable, a hang at the time limit, a kill -9 of ours, files left
behind, a solution file that disagrees with the log); each is handled here, next
to the others.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import numpy as np

from optimizer.common.errors import UserError
from optimizer.common.native import quiet_stdout
from optimizer.model.builder import BuiltModel, MatrixForm
from optimizer.solve.highs import highs_problem, pass_model
from optimizer.solve.status import SolveResult, SolverOptions, Status, mip_gap_of


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
    from optimizer.common.processes import pid_alive

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
    from optimizer.common import reaper

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


def solve_cbc(built: BuiltModel, form: MatrixForm, options: SolverOptions) -> SolveResult:
    """Solve with CBC: MPS file in a private temporary folder, CBC in its own process group."""
    from optimizer.common import reaper

    exe = cbc_path()
    if not os.access(exe, os.X_OK):
        raise UserError(f"CBC at {exe} is not executable; use --solver highs")
    is_mip = bool(form.integer.any())
    sweep_cbc_files()
    with cbc_folder() as tmp:
        mps, sol, log = (str(Path(tmp) / n) for n in ("model.mps", "model.sol", "cbc.log"))
        t0 = time.perf_counter()
        pulp_names = _write_mps(built, form, mps)
        args = [exe, mps]
        if options.time_limit is not None:
            args += ["-sec", f"{options.time_limit:g}", "-timeMode", "elapsed"]
        if is_mip:
            args += ["-ratio", f"{mip_gap_of(options):g}"]
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
                sol, len(form.cost), len(form.row_lower)
            )
        else:
            col_values, col_dj, row_duals = _read_pulp_solution(exe, sol, built, pulp_names)
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
        result.objective = float(result.values @ form.cost) + float(form.offset)
        result.gap = _cbc_gap(log_text) if result.status is Status.FEASIBLE else 0.0
        stated = _stated_objective(result.message)
        if stated is not None and abs(stated - result.objective) > 1e-6 * max(1.0, abs(stated)):
            # The values read back do not give the objective CBC reports: never use them.
            result.status = Status.ERROR
            result.message += f" (values read back cost {result.objective:.10g})"
            result.values = result.duals = result.reduced_costs = None
            result.objective = None
            return result
    result.extract_seconds = time.perf_counter() - t3
    return result


def _write_mps(built: BuiltModel, form: MatrixForm, path: str) -> tuple[object, ...] | None:
    """Write the model as MPS for CBC.

    HiGHS' writer (from the recorded matrix, rows r<i> and columns c<i> in the
    model's order) is several times faster than PuLP's `writeMPS`; PuLP's is
    the fallback when highspy is not usable. Returns PuLP's name maps when PuLP
    wrote the file (the solution is then read by name), None otherwise.
    """
    if highs_problem() is None:
        import highspy

        with quiet_stdout(False):
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            try:
                pass_model(h, form)
                status = h.writeModel(path)
            except RuntimeError:  # HiGHS refused the model: PuLP writes it
                status = None
        # kWarning: HiGHS names the rows r<i> and columns c<i> itself (it always warns so)
        if status in (highspy.HighsStatus.kOk, highspy.HighsStatus.kWarning):
            return None
    vs, var_names, row_names, _ = built.problem.writeMPS(path, rename=1)
    return vs, var_names, row_names


def _read_pulp_solution(
    exe: str, sol: str, built: BuiltModel, pulp_names: tuple[object, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column values, reduced costs and row duals of a CBC solution of PuLP's MPS file,
    by name, in the order of `BuiltModel.solver_form` (the model's, then any added)."""
    from pulp import COIN_CMD

    from optimizer.model.pulp_problem import every_row, every_variable

    prob = built.problem
    reader = COIN_CMD(path=exe, msg=False)
    _st, values, dj, duals, _sl, _sol_st = reader.readsol_MPS(sol, prob, *pulp_names)
    cols = every_variable(prob, built.variables)
    rows = every_row(prob, built.row_names)
    return (
        np.array([float(values.get(v.name) or 0.0) for v in cols]),
        np.array([float(dj.get(v.name) or 0.0) for v in cols]),
        np.array([float(duals.get(r, 0.0)) for r in rows]),
    )


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
