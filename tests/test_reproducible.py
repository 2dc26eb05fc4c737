"""Reproducible answers (issue 8, DESIGN §6): the same scenario gives the same bytes.

plan.csv, orders.csv and inventory.csv are byte-identical across runs, across
processes with different hash seeds, across a copy of the file with its
suppliers, offers, materials and countries in another order, and across
thread counts, on HiGHS and on CBC. summary.json records the content hash
(the same for the reordered copy) and the versions of the tool, Python,
PuLP, highspy and CBC; between two runs only the solver's timings change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from optimizer.io.load import load_scenario
from optimizer.io.yaml_reader import dump_yaml
from tests.conftest import CASES, ROOT, SCENARIOS_2025, run_cli
from tests.proc_tools import CSV_FILES

FILES = [
    SCENARIOS_2025 / "rare-earths-baseline.yaml",  # LP, decomposed into parts
    SCENARIOS_2025 / "robust-cvar.yaml",  # two-stage with CVaR
    CASES / "min_suppliers.yaml",  # MILP
    CASES / "fixed_cost.yaml",  # MILP with fixed costs
    CASES / "sampled_risks.yaml",  # sampled outcomes
]


def _reversed(mapping: dict[str, Any]) -> dict[str, Any]:
    return dict(reversed(list(mapping.items())))


def reordered_copy(path: Path, dest: Path) -> Path:
    """The same scenario, written with every id-keyed mapping (and the top level) reversed."""
    data = load_scenario(path).resolved_data()
    data["materials"] = _reversed(data["materials"])
    data["suppliers"] = _reversed(
        {sid: {**s, "offers": _reversed(s["offers"])} for sid, s in data["suppliers"].items()}
    )
    data["countries"] = _reversed(data.get("countries", {}))
    dest.write_text(dump_yaml(_reversed(data)))
    assert (
        list(load_scenario(dest).scenario.suppliers) != list(load_scenario(path).scenario.suppliers)
        or len(data["suppliers"]) == 1
    )
    return dest


def run(path: Path, out: Path, *args: str) -> dict[str, Any]:
    res = run_cli(["run", str(path), "--out", str(out), *args])
    assert res.exit_code == 0, res.stderr
    doc: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return doc


def tables(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in CSV_FILES}


def without_timings(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    del doc["solver"]["seconds"], doc["solver"]["timings"]
    return doc


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_same_bytes_across_runs_orders_and_threads(tmp_path: Path, solver: str, path: Path) -> None:
    first = run(path, tmp_path / "a", "--solver", solver)
    again = run(path, tmp_path / "b", "--solver", solver)
    expected = tables(tmp_path / "a")
    assert tables(tmp_path / "b") == expected
    # only the solver's timings differ between two runs
    assert without_timings(first) == without_timings(again)
    assert set(first["solver"]["timings"]) >= {"parameters", "solve", "check"}

    copy = reordered_copy(path, tmp_path / f"{path.stem}-reordered.yaml")
    moved = run(copy, tmp_path / "c", "--solver", solver)
    assert tables(tmp_path / "c") == expected
    assert moved["content_hash"] == first["content_hash"]
    assert without_timings(moved) == {**without_timings(first), "file": str(copy)}

    for threads in ("1", "2"):
        run(path, tmp_path / f"t{threads}", "--solver", solver, "--threads", threads)
        assert tables(tmp_path / f"t{threads}") == expected, f"--threads {threads}"


def test_summary_records_versions_and_hash(tmp_path: Path) -> None:
    doc = run(CASES / "country_cap.yaml", tmp_path / "a", "--solver", "cbc")
    versions = doc["versions"]
    assert set(versions) >= {"sourcing", "python", "pulp", "highspy", "cbc"}
    assert all(versions[k] for k in ("sourcing", "python", "pulp", "highspy", "cbc")), versions
    assert len(doc["content_hash"]) == 64
    assert doc["solver"]["name"].startswith("cbc ") and versions["cbc"] in doc["solver"]["name"]


@pytest.mark.slow
@pytest.mark.parametrize("path", [FILES[0], FILES[3]], ids=lambda p: p.stem)
def test_same_bytes_across_processes_and_hash_seeds(
    tmp_path: Path, solver: str, path: Path
) -> None:
    """Python's hash randomization changes set and dict-of-set orders between processes."""
    for seed in ("1", "2"):
        subprocess.run(
            [sys.executable, "-m", "optimizer", "run", str(path), "--solver", solver,
             "--out", str(tmp_path / seed)],
            cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}, check=True,
            capture_output=True, timeout=300,
        )  # fmt: skip
    assert tables(tmp_path / "1") == tables(tmp_path / "2")
