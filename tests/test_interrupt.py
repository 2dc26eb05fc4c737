"""Interrupted runs (issue 8): signals during a solve, kill -9 while writing.

- SIGINT or SIGTERM during a solve (HiGHS in-process, CBC as a subprocess,
  and `--jobs 2` on two files): the solver and every worker stop, the run
  prints one clean line, exits 130 or 143 within seconds, and leaves no
  process, no temporary file and no output folder behind.
- SIGKILL while the run folder is written: the previous folder stays intact
  (or there is none), never a partial one; the stale temporary folder is
  swept by the next run that writes beside it (`report.sweep_stale`).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.generate import generate
from optimizer.common.processes import descendants
from optimizer.reports.folder import TMP_PREFIX, sweep_stale
from tests.conftest import ROOT, SCENARIOS_2025, run_cli
from tests.proc_tools import alive, leftovers, processes_mentioning, sourcing

HARD_MILP: dict[str, Any] = {
    "materials": 12,
    "suppliers": 100,
    "periods": 12,
    "seed": 2,
    "milp": True,
}


@pytest.fixture(scope="module")
def hard_milp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MILP that takes HiGHS ~40 s and CBC minutes: a solve to interrupt."""
    path = tmp_path_factory.mktemp("interrupt") / "hard_milp.yaml"
    path.write_text(yaml.safe_dump(generate(**HARD_MILP), sort_keys=False))
    return path


def cbc_processes(tmp: Path) -> list[tuple[int, str]]:
    """CBC processes working in the run's TMPDIR."""
    return [(pid, cmd) for pid, cmd in processes_mentioning(str(tmp / "tmp")) if "cbc" in cmd]


def wait_until_solving(proc: subprocess.Popen[str], solver: str, tmp: Path, count: int = 1) -> None:
    """Block until the solver runs: HiGHS' log on stderr (-v), or `count` CBC processes."""
    deadline = time.monotonic() + 120
    if solver == "highs":
        assert proc.stderr is not None
        for line in proc.stderr:
            if "HiGHS" in line:
                return
            assert time.monotonic() < deadline
        raise AssertionError(f"the run ended before solving (exit {proc.wait()})")
    while len(cbc_processes(tmp)) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def interrupt(proc: subprocess.Popen[str], sig: int) -> tuple[float, str, list[int]]:
    """Send `sig`; return (seconds to exit, rest of stderr, the pids that were below it)."""
    tree = descendants(proc.pid)
    t0 = time.perf_counter()
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    return time.perf_counter() - t0, err, tree


def assert_clean_stop(
    proc: subprocess.Popen[str], sig: int, seconds: float, err: str, tree: list[int], tmp: Path
) -> None:
    assert proc.returncode == 128 + sig, err
    assert f"stopped by {signal.Signals(sig).name}" in err
    assert "Traceback" not in err
    assert seconds < 10, seconds
    assert [pid for pid in tree if alive(pid)] == []
    assert processes_mentioning(str(tmp)) == []
    assert leftovers(tmp / "tmp") == []  # CBC's model and solution files are gone
    assert not (tmp / "out").exists()
    assert not list(tmp.glob(f"{TMP_PREFIX}*"))


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_a_solve(tmp_path: Path, hard_milp: Path, solver: str, sig: int) -> None:
    proc = sourcing(
        "run", str(hard_milp), "--solver", solver, "--decompose", "off", "-v",
        "--out", str(tmp_path / "out"), tmpdir=tmp_path / "tmp",
    )  # fmt: skip
    wait_until_solving(proc, solver, tmp_path)
    time.sleep(0.5)  # well inside the solve
    seconds, err, tree = interrupt(proc, sig)
    assert_clean_stop(proc, sig, seconds, err, tree, tmp_path)
    print(f"{solver} {signal.Signals(sig).name}: stopped in {seconds:.2f} s")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_parallel_jobs(
    tmp_path: Path, hard_milp: Path, solver: str, sig: int
) -> None:
    second = tmp_path / "hard_milp_2.yaml"
    second.write_bytes(hard_milp.read_bytes())
    proc = sourcing(
        "run", str(hard_milp), str(second), "--jobs", "2", "--solver", solver,
        "--decompose", "off", "-v", "--out", str(tmp_path / "out"), tmpdir=tmp_path / "tmp",
    )  # fmt: skip
    wait_until_solving(proc, solver, tmp_path, count=2)
    time.sleep(1.0)  # both workers are solving by now
    seconds, err, tree = interrupt(proc, sig)
    assert len(tree) >= 2  # the workers (and CBC under them) were there
    assert_clean_stop(proc, sig, seconds, err, tree, tmp_path)
    print(f"--jobs 2 {solver} {signal.Signals(sig).name}: stopped in {seconds:.2f} s")


# --- kill -9 while writing --------------------------------------------------------------------

DIE_AFTER = """
import os, signal, sys
import optimizer.reports.folder as report
name = sys.argv[1]

def dying_after(real):
    def dying(*args, **kwargs):
        out = real(*args, **kwargs)
        if name == "exchange" or args[1].name == name:
            os.kill(os.getpid(), signal.SIGKILL)
        return out
    return dying

# every file is written by one of these (tables made from frames, or already as bytes)
for hook in ["_exchange"] if name == "exchange" else ["write_table", "write_bytes"]:
    setattr(report, hook, dying_after(getattr(report, hook)))
sys.argv = ["sourcing", *sys.argv[2:]]
from optimizer.cli import main
main()
"""


def killed_while_writing(moment: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`sourcing ARGS`, killed with SIGKILL right after writing `moment` (a file, or the swap)."""
    return subprocess.run(
        [sys.executable, "-c", DIE_AFTER, moment, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def stale(parent: Path) -> list[Path]:
    return sorted(parent.glob(f"{TMP_PREFIX}*"))


@pytest.mark.parametrize("moment", ["plan.csv", "inventory.csv", "scenarios.csv"])
def test_kill_while_writing_a_new_folder_leaves_nothing(tmp_path: Path, moment: str) -> None:
    out = tmp_path / "run"
    res = killed_while_writing(
        moment, "run", str(SCENARIOS_2025 / "robust-2025.yaml"), "-o", str(out)
    )
    assert res.returncode == -signal.SIGKILL
    assert not out.exists()
    (left,) = stale(tmp_path)  # the partial folder, under its temporary name only
    assert (left / moment).exists() and not (left / "summary.json").exists()
    # the next run beside it sweeps it (its writer is dead) and writes completely
    res2 = run_cli(["run", str(SCENARIOS_2025 / "robust-2025.yaml"), "-o", str(out)])
    assert res2.exit_code == 0, res2.stderr
    assert stale(tmp_path) == []
    assert (out / "summary.json").exists() and (out / "report.html").exists()


@pytest.mark.parametrize("moment", ["plan.csv", "spot.csv", "exchange"])
def test_kill_while_replacing_keeps_a_complete_folder(tmp_path: Path, moment: str) -> None:
    out = tmp_path / "run"
    before = run_cli(["run", str(SCENARIOS_2025 / "licensing-2025.yaml"), "-o", str(out)]
    )
    assert before.exit_code == 0
    old = snapshot(out)
    res = killed_while_writing(
        moment, "run", str(SCENARIOS_2025 / "robust-2025.yaml"), "-o", str(out), "--force"
    )
    assert res.returncode == -signal.SIGKILL
    now = snapshot(out)
    if moment == "exchange":  # killed right after the swap: the new folder, complete
        assert set(now) == set(old) and now["plan.csv"] != old["plan.csv"]
        assert b"robust-2025" in now["summary.json"]
    else:
        assert now == old  # the previous folder, byte for byte
    assert len(stale(tmp_path)) == 1
    beside = tmp_path / "b"
    res2 = run_cli(["run", str(SCENARIOS_2025 / "robust-2025.yaml"), "-o", str(beside)])
    assert res2.exit_code == 0
    assert stale(tmp_path) == []


@pytest.mark.slow
def test_kill_9_at_random_moments(tmp_path: Path) -> None:
    """A real kill -9 at moments spread over a run: the folder is the old one or the new one."""
    out = tmp_path / "run"
    first = run_cli(["run", str(SCENARIOS_2025 / "licensing-2025.yaml"), "-o", str(out)])
    assert first.exit_code == 0
    old = snapshot(out)
    new_path = SCENARIOS_2025 / "robust-2025.yaml"
    outcomes = []
    for k, delay in enumerate([0.8, 1.2, 1.5, 1.8, 2.1, 2.4, 2.8, 3.5]):
        proc = sourcing(
            "run", str(new_path), "-o", str(out), "--force", "--excel", tmpdir=tmp_path / "tmp"
        )
        time.sleep(delay)
        proc.kill()
        proc.wait()
        now = snapshot(out)
        if now == old:
            outcomes.append("old")
        else:
            assert set(now) == set(old) | {"plan.xlsx"}, (k, sorted(now))
            assert b"robust-2025" in now["summary.json"]
            outcomes.append("new")
            old = now
    sweep_stale(tmp_path)
    assert stale(tmp_path) == []
    print("kill -9 outcomes:", outcomes)


# --- sweep_stale ------------------------------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_sweep_stale_removes_only_dead_writers_folders(tmp_path: Path) -> None:
    dead = tmp_path / f"{TMP_PREFIX}{dead_pid()}-abc"
    dead_old = tmp_path / f"{TMP_PREFIX}{dead_pid()}-old-def"
    mine = tmp_path / f"{TMP_PREFIX}{os.getpid()}-ghi"
    mine_ancient = tmp_path / f"{TMP_PREFIX}{os.getpid()}-jkl"
    nameless = tmp_path / f"{TMP_PREFIX}nopid"
    for d in (dead, dead_old, mine, mine_ancient, nameless):
        d.mkdir()
        (d / "plan.csv").write_text("x\n")
    long_ago = time.time() - 2 * 3600
    os.utime(mine_ancient, (long_ago, long_ago))
    a_file = tmp_path / f"{TMP_PREFIX}{dead_pid()}-file"
    a_file.write_text("not a folder")
    other = tmp_path / "run"
    other.mkdir()
    sweep_stale(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, a_file.name, "run"])


# --- writes that fail -------------------------------------------------------------------------


@pytest.mark.parametrize("force", [False, True])
def test_full_disk_is_a_clear_error_and_leaves_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, force: bool
) -> None:
    """RELIABILITY #40 (seen on a 64 KB tmpfs: "internal error: OSError", exit 1)."""
    import optimizer.reports.folder as report

    out = tmp_path / "run"
    if force:
        first = run_cli(["run", str(SCENARIOS_2025 / "licensing-2025.yaml"), "-o", str(out)]
        )
        assert first.exit_code == 0
    old = snapshot(out) if force else None
    def filling(real):  # type: ignore[no-untyped-def]
        def full(*args: object, **kwargs: object) -> None:
            if Path(str(args[1])).name == "inventory.csv":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real(*args, **kwargs)

        return full

    for hook in ("write_table", "write_bytes"):  # tables from frames, or already as bytes
        monkeypatch.setattr(report, hook, filling(getattr(report, hook)))
    args = ["run", str(SCENARIOS_2025 / "robust-2025.yaml"), "-o", str(out)]
    res = run_cli([*args, "--force"] if force else args)
    assert res.exit_code == 2
    assert res.stderr == (
        f"{out}: cannot write the run folder: No space left on device; nothing was written\n"
    )
    assert stale(tmp_path) == []
    if force:
        assert snapshot(out) == old
    else:
        assert not out.exists()


def test_unwritable_location_is_a_clear_error() -> None:
    res = run_cli(["run", str(SCENARIOS_2025 / "licensing-2025.yaml"), "-o", "/proc/run"]
    )
    assert res.exit_code == 2
    assert res.stderr.startswith("/proc/run: cannot write the run folder: ")
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr


# --- kill -9 and hang-up mid-solve (issue 13) -------------------------------------------------


def wait_gone(
    pids: list[int], tmp: Path, seconds: float = 5.0
) -> tuple[float, list[int], list[str]]:
    """Wait until none of `pids` runs and TMPDIR is empty: (seconds taken, alive, files)."""
    t0 = time.perf_counter()
    while True:
        left = [pid for pid in pids if alive(pid)]
        files = leftovers(tmp / "tmp")
        if (not left and not files) or time.perf_counter() - t0 > seconds:
            return time.perf_counter() - t0, left, files
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGHUP])
def test_kill_or_hangup_mid_solve_leaves_no_process_and_no_file(
    tmp_path: Path, hard_milp: Path, sig: int, jobs: int
) -> None:
    """CBC ran in its own session and kept solving after a hang-up or kill -9, its model
    file left behind; with --jobs 2 the workers and the resource tracker stayed for good."""
    files = [str(hard_milp)]
    if jobs == 2:
        second = tmp_path / "hard_milp_2.yaml"
        second.write_bytes(hard_milp.read_bytes())
        files.append(str(second))
    proc = sourcing(
        "run", *files, "--jobs", str(jobs), "--solver", "cbc", "--decompose", "off",
        "--out", str(tmp_path / "out"), tmpdir=tmp_path / "tmp",
    )  # fmt: skip
    wait_until_solving(proc, "cbc", tmp_path, count=jobs)
    time.sleep(0.5)
    tree = descendants(proc.pid)
    assert len(tree) >= 2 * jobs  # CBC (and the workers) were there
    t0 = time.perf_counter()
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)  # the caller's pipes close: nothing holds them
    _, left, files_left = wait_gone(tree, tmp_path)
    seconds = time.perf_counter() - t0
    assert left == [] and files_left == [], (left, files_left)
    assert seconds < 5
    assert processes_mentioning(str(tmp_path)) == []
    assert not (tmp_path / "out").exists()
    if sig == signal.SIGHUP:
        assert proc.returncode == 129
        assert err == "stopped by SIGHUP: the solver was stopped and nothing was written\n"
    else:
        assert proc.returncode == -signal.SIGKILL
    name = signal.Signals(sig).name
    print(f"{name} --jobs {jobs}: nothing left {seconds:.2f} s after the signal")


def guarded(pid: int) -> bool:
    """True once the process catches SIGHUP: `optimizer.entry` has installed its handlers."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGHUP - 1)))
    except OSError:
        pass
    return False


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.02, 0.1, 0.3, 0.6, 1.0, 1.5, 2.5])
def test_ctrl_c_at_any_moment_is_one_line_and_130(
    tmp_path: Path, hard_milp: Path, delay: float
) -> None:
    """From the first line of sourcing's code on (imports included, which took a second or
    two and printed a KeyboardInterrupt traceback), and with workers starting: Ctrl-C
    reaches the whole process group, as from a terminal."""
    second = tmp_path / "hard_milp_2.yaml"
    second.write_bytes(hard_milp.read_bytes())
    proc = sourcing(
        "run", str(hard_milp), str(second), "--jobs", "2", "--solver", "cbc",
        "--decompose", "off", "--out", str(tmp_path / "out"), tmpdir=tmp_path / "tmp",
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not guarded(proc.pid):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.001)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert len(err.splitlines()) == 1 and err.startswith("stopped by SIGINT"), err
    assert wait_gone([], tmp_path)[2] == []  # no file left in TMPDIR
    assert processes_mentioning(str(tmp_path)) == []


REAPED = """
import os, subprocess, sys, time
from optimizer.common import reaper
sleeper = subprocess.Popen(
    ["sleep", "300"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
)
os.makedirs(sys.argv[1] + "/model")
reaper.watch_group(sleeper.pid)
reaper.watch_path(sys.argv[1] + "/model")
print(sleeper.pid, reaper.pid(), flush=True)
time.sleep(300)
"""


def test_the_reaper_cleans_up_after_a_kill_9(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", REAPED, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    sleeper, reaper_pid = map(int, proc.stdout.readline().split())
    assert alive(sleeper) and alive(reaper_pid) and (tmp_path / "model").is_dir()
    proc.kill()
    proc.wait()
    seconds, left, _ = wait_gone([sleeper, reaper_pid], tmp_path)
    assert left == []
    assert not (tmp_path / "model").exists()
    assert seconds < 5


def test_the_reaper_does_nothing_after_a_normal_exit(tmp_path: Path) -> None:
    code = REAPED.replace("time.sleep(300)", "reaper.forget_path(sys.argv[1] + '/model')")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True
    )
    sleeper = int(proc.stdout.split()[0])
    assert (tmp_path / "model").is_dir()  # forgotten: kept
    assert alive(sleeper)  # still watched, but we said goodbye: left alone
    os.killpg(sleeper, signal.SIGKILL)


def test_cbc_folders_of_dead_owners_are_swept_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CBC folder whose lock no process holds is swept by the next run, whatever its age
    or pid; one whose lock is held (a live solve, here ours) is kept."""
    import fcntl
    import tempfile

    from optimizer.solve.cbc import CBC_LOCK, CBC_TMP_PREFIX, sweep_cbc_files

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead, live = tmp_path / f"{CBC_TMP_PREFIX}1-dead", tmp_path / f"{CBC_TMP_PREFIX}1-live"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "model.mps").write_text("NAME\n")
        (folder / CBC_LOCK).write_text("")
    fd = os.open(live / CBC_LOCK, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        sweep_cbc_files()
        assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]
    finally:
        os.close(fd)
    sweep_cbc_files()
    assert list(tmp_path.iterdir()) == []
