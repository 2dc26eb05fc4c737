"""Hostile input is bounded in time and memory (issue 13, point 4).

A 32 MB file (under the size cap) whose demand was a 16-million-item list
took 196 s and 4.4 GB before it was refused; `--threads 100000` started
26,000 threads; a FIFO given as the scenario blocked forever; 100,000 bad
suppliers printed 200,002 lines. Caps are now checked while the file is
parsed, only regular files are read, and errors beyond the first 100 are
counted (tests/test_large_input.py). `scripts/hostile_input.py` measures the
refusals in fresh processes (README "Reliability").
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import optimizer.io.yaml_reader as loading
from scripts.hostile_input import flow_list, measure
from tests.conftest import CASES, ROOT, run_cli

CASE = CASES / "country_cap.yaml"


def validate(path: Path) -> tuple[int, str]:
    res = run_cli(["validate", str(path)])
    return res.exit_code, res.stderr


@pytest.mark.slow
def test_a_32_mb_list_is_refused_fast_and_small(tmp_path: Path) -> None:
    """Measured by scripts/hostile_input.py; here with a margin for a busy CI machine."""
    path = tmp_path / "flow.yaml"
    path.write_bytes(flow_list())
    assert path.stat().st_size > 32_000_000
    code, wall, cpu, peak, message = measure(path)
    assert code == 2, message
    assert "materials.m.demand: a list of more than 1,000 items" in message
    assert peak < 300, peak  # MB
    assert cpu < 5, cpu
    print(f"32 MB list refused in {wall:.2f} s ({cpu:.2f} s CPU), peak {peak:.0f} MB")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("x: [" + "1," * 10_000 + "1]\n", 1, "x: a list of more than 10,000 items"),
        ("demand: [" + "1," * 1_000 + "1]\n", 1, "demand: a list of more than 1,000 items"),
        ("price:\n" + "  - 1\n" * 1_001, 1_002, "price: a list of more than 1,000 items"),
        ("x:\n" + "  - 1\n" * 10_001, 10_002, "x: a list of more than 10,000 items"),
        ("x:\n" + "  - [1]\n" * 10_001, 10_002, "x: a list of more than 10,000 items"),
        ("x: " + "9" * 101 + "\n", 1, "a number of 101 characters"),
        ("x: !!int " + "9" * 5000 + "\n", 1, "a number of 5,000 characters"),
        ("x: -" + "1" * 300 + ".5e3\n", 1, "a number of 305 characters"),
    ],
)
def test_caps_are_checked_while_parsing(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n" + text)
    code, err = validate(path)
    assert code == 2
    assert err.startswith(f"{path}:{line + 1}: "), err[:300]
    assert words in err


def test_mappings_and_values_have_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "MAX_KEYS", 50)
    monkeypatch.setattr(loading, "MAX_VALUES", 400)
    path = tmp_path / "keys.yaml"
    path.write_text("name: x\nsuppliers:\n" + "".join(f"  s{i}: 1\n" for i in range(60)))
    code, err = validate(path)
    assert code == 2
    assert err.startswith(f"{path}:53: suppliers: a mapping of more than 50 keys")
    path.write_text("name: x\n" + "".join(f"g{i}: [{'1, ' * 30}1]\n" for i in range(20)))
    code, err = validate(path)
    assert code == 2
    assert "more than 400 values in one file; stopped reading here" in err


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "optimizer", "validate", str(fifo)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert res.returncode == 2
    assert res.stderr == f"{fifo}: cannot read: it is a named pipe (FIFO), not a regular file\n"
    assert time.perf_counter() - t0 < 30


def test_a_fifo_as_parent_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "base.yaml")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\n")
    code, err = validate(child)
    assert code == 2
    assert "extends: parent file cannot be read (it is a named pipe (FIFO)" in err


def test_directories_and_sockets_are_refused(tmp_path: Path) -> None:
    code, err = validate(tmp_path)
    assert (code, err) == (2, f"{tmp_path}: cannot read: it is a directory, not a file\n")
    sock_path = tmp_path / "s.yaml"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        code, err = validate(sock_path)
    assert code == 2
    assert "it is a socket, not a regular file" in err


def test_threads_at_most_the_number_of_cpus(tmp_path: Path) -> None:
    cpus = os.cpu_count() or 1
    res = run_cli(["run", str(CASE), "--threads", "100000"])
    assert res.exit_code == 2
    assert res.stderr == (
        f"--threads 100000: this machine has {cpus} CPU{'s' if cpus > 1 else ''}; "
        f"give at most {cpus}\n"
    )
    assert run_cli(["run", str(CASE), "--threads", str(cpus)]).exit_code == 0


def test_a_hundred_thousand_bad_suppliers_print_101_lines(tmp_path: Path) -> None:
    body = "".join(f"  s{i}: {{country: X, offers: {{}}}}\n" for i in range(100_000))
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: x\nhorizon: {periods: 1}\nmaterials: {m: {demand: 1, shortage_cost: 1}}\n"
        "suppliers:\n" + body
    )
    code, err = validate(path)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 101
    assert lines[-1] == f"... and 99,900 more problems in {path} (not shown; 100,000 in all)"
