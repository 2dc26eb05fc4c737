"""Concurrent runs (issue 8): 16 `sourcing run` processes at once.

Same and different scenarios, HiGHS and CBC, each with its own --out folder
and its own TMPDIR: every run succeeds, its tables are byte-identical to a
sequential run's, no temporary file or folder is left, and no CBC process
outlives its run. Then several runs writing the *same* folder: without
--force exactly one wins and the others refuse (exit 2); with --force all
succeed and the folder is one complete run, never a mix.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import CASES, SCENARIOS_2025, run_cli
from tests.proc_tools import CSV_FILES, leftovers, processes_mentioning, sourcing

FILES = [
    SCENARIOS_2025 / "rare-earths-baseline.yaml",
    SCENARIOS_2025 / "robust-2025.yaml",
    CASES / "min_suppliers.yaml",  # a MILP
    CASES / "sampled_risks.yaml",
]


def reference(tmp: Path, path: Path, solver: str) -> Path:
    """The run folder of a sequential, in-process run."""
    out = tmp / "reference" / f"{path.stem}-{solver}"
    if not out.exists():
        res = run_cli(["run", str(path), "--solver", solver, "--out", str(out)])
        assert res.exit_code == 0, res.stderr
    return out


def same_tables(a: Path, b: Path) -> None:
    for name in CSV_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{a.name}/{name}"
    doc_a, doc_b = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    for doc in (doc_a, doc_b):
        del doc["solver"]["seconds"], doc["solver"]["timings"]
    assert doc_a == doc_b


@pytest.mark.slow
def test_sixteen_runs_at_once(tmp_path: Path) -> None:
    jobs = [(FILES[k % 4], ("highs", "cbc")[k // 8], k) for k in range(16)]
    t0 = time.perf_counter()
    procs = [
        (
            path,
            solver,
            k,
            sourcing(
                *("run", str(path), "--solver", solver, "--out", str(tmp_path / "out" / str(k))),
                tmpdir=tmp_path / "tmp" / str(k),
            ),
        )
        for path, solver, k in jobs
    ]
    for _, _, k, proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"run {k}: {err}"
        assert "Traceback" not in err
    wall = time.perf_counter() - t0
    for path, solver, k, _ in procs:
        same_tables(reference(tmp_path, path, solver), tmp_path / "out" / str(k))
    assert leftovers(tmp_path / "tmp") == sorted(str(k) for k in range(16))  # empty TMPDIRs
    assert not list((tmp_path / "out").glob(".sourcing-tmp-*"))
    assert processes_mentioning(str(tmp_path)) == []  # no CBC left running
    print(f"16 concurrent runs in {wall:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("force", [False, True])
def test_runs_writing_the_same_folder(tmp_path: Path, force: bool) -> None:
    path = FILES[1]
    out = tmp_path / "shared"
    extra = ["--force"] if force else []
    procs = [
        sourcing("run", str(path), "--out", str(out), *extra, tmpdir=tmp_path / "tmp" / str(k))
        for k in range(6)
    ]
    results = [(p.wait(timeout=600), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    if force:
        assert codes == [0] * 6, results
    else:
        assert codes == [0] + [2] * 5, results
        for code, err in results:
            if code == 2:
                assert str(out) in err
                assert "add --force to replace them" in err
    same_tables(reference(tmp_path, path, "highs"), out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in reference(tmp_path, path, "highs").iterdir()
    )
    assert not list(tmp_path.glob(".sourcing-tmp-*"))
    assert leftovers(tmp_path / "tmp") == sorted(str(k) for k in range(6))
