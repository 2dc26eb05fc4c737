"""Solver faults (issue 8): a missing or broken solver is a clear message, never a raw OSError.

- highspy missing, failing on import, or of another API: fall back to CBC
  with one warning on stderr; the plan is the same.
- CBC missing, not executable, of the wrong architecture, crashing or
  hanging past its time limit: a message that names CBC, exit 1, 2 or 4,
  no traceback, and no model file left in the temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import pytest

import optimizer.solve.cbc as solving
import optimizer.solve.dispatch as dispatch
from optimizer.solve.cbc import CBC_TMP_PREFIX, sweep_cbc_files
from tests.conftest import CASES, run_cli

CASE = CASES / "min_order.yaml"  # a MILP: the fall-back path also rounds and re-checks


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder of our own for CBC's files (checked empty afterwards)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def run(*args: str) -> tuple[int, str, str]:
    res = run_cli(["run", *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.stderr
    return res.exit_code, res.stdout, res.stderr


def reference_objective() -> float:
    code, out, err = run(str(CASE), "--solver", "highs", "--json")
    assert code == 0, err
    return float(json.loads(out)["objective"])


# --- HiGHS --------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["missing", "broken_import", "other_api"])
def test_highspy_unusable_falls_back_to_cbc(
    monkeypatch: pytest.MonkeyPatch, private_tmp: Path, how: str
) -> None:
    expected = reference_objective()
    if how == "missing":
        monkeypatch.setitem(sys.modules, "highspy", None)  # import raises ImportError
    elif how == "broken_import":
        monkeypatch.setitem(sys.modules, "highspy", None)
        monkeypatch.delitem(sys.modules, "highspy")
        monkeypatch.setattr(
            "builtins.__import__", _failing_import("highspy", OSError("libhighs.so: bad ELF"))
        )
    else:  # imports, but an API this code does not know (e.g. a renamed method)
        fake = types.ModuleType("highspy")
        fake.Highs = type("Highs", (), {"run": lambda self: None})  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "highspy", fake)
    dispatch._WARNED.clear()
    code, out, err = run(str(CASE), "--json")
    assert code == 0, err
    assert err.count("warning: HiGHS is not usable") == 1
    assert "solving with CBC instead" in err
    doc = json.loads(out)
    assert doc["solver"]["name"].startswith("cbc")
    assert doc["objective"] == pytest.approx(expected)
    assert list(private_tmp.iterdir()) == []


def _failing_import(name: str, error: Exception) -> object:
    real = __import__

    def fake(module: str, *args: object, **kwargs: object) -> object:
        if module == name:
            raise error
        return real(module, *args, **kwargs)  # type: ignore[arg-type]

    return fake


# --- CBC ----------------------------------------------------------------------------------


def fake_cbc(tmp_path: Path, content: bytes, mode: int = 0o755) -> Path:
    path = tmp_path / "cbc"
    path.write_bytes(content)
    path.chmod(mode)
    return path


# An ELF header for aarch64 (e_machine 0xB7): on x86-64, execve fails with ENOEXEC.
WRONG_ARCH = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\xb7\x00" + b"\x00" * 44
NOT_EXECUTABLE = "not executable"


@pytest.mark.parametrize(
    ("content", "mode", "words"),
    [
        (b"#!/bin/sh\nexit 0\n", 0o644, NOT_EXECUTABLE),
        (WRONG_ARCH, 0o755, "cannot run CBC"),
        (os.urandom(512), 0o755, "cannot run CBC"),
    ],
    ids=["not_executable", "wrong_architecture", "garbage"],
)
def test_cbc_that_cannot_run_is_a_clear_error(
    tmp_path: Path,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    mode: int,
    words: str,
) -> None:
    exe = fake_cbc(tmp_path, content, mode)
    monkeypatch.setattr(solving, "cbc_path", lambda: str(exe))
    code, _, err = run(str(CASE), "--solver", "cbc", "--out", str(tmp_path / "out"))
    assert code == 2
    assert "CBC" in err and str(exe) in err and words in err
    assert "use --solver highs" in err
    assert "OSError" not in err and "Errno" not in err
    assert not (tmp_path / "out").exists()
    assert list(private_tmp.iterdir()) == []  # the model file is removed


def test_cbc_not_installed(monkeypatch: pytest.MonkeyPatch, private_tmp: Path) -> None:
    import pulp

    monkeypatch.setitem(sys.modules, "cbcbox", None)
    monkeypatch.setattr(pulp, "PULP_CBC_CMD", lambda: types.SimpleNamespace(path=None))
    monkeypatch.setattr(solving.shutil, "which", lambda name: None)
    code, _, err = run(str(CASE), "--solver", "cbc")
    assert code == 2
    assert "CBC is not installed" in err
    assert list(private_tmp.iterdir()) == []


def test_cbc_crashing(tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = fake_cbc(tmp_path, b"#!/bin/sh\necho 'Segmentation fault'\nkill -SEGV $$\n")
    monkeypatch.setattr(solving, "cbc_path", lambda: str(exe))
    code, _, err = run(str(CASE), "--solver", "cbc", "--out", str(tmp_path / "out"))
    assert code == 1
    assert "CBC failed (exit -11)" in err
    assert not (tmp_path / "out").exists()
    assert list(private_tmp.iterdir()) == []


def test_cbc_hanging_past_its_time_limit(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CBC ignores `-sec` in LP solves: it is killed 1.25 * limit + CBC_GRACE seconds in."""
    exe = fake_cbc(tmp_path, b"#!/bin/sh\nsleep 60\n")
    monkeypatch.setattr(solving, "cbc_path", lambda: str(exe))
    monkeypatch.setattr(solving, "CBC_GRACE", 0.5)
    t0 = time.perf_counter()
    code, _, err = run(str(CASE), "--solver", "cbc", "--time-limit", "0.2")
    assert code == 4
    assert time.perf_counter() - t0 < 10
    assert "CBC did not stop at the time limit of 0.2 s" in err
    assert list(private_tmp.iterdir()) == []


def test_cbc_files_of_killed_runs_are_swept(private_tmp: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    old = private_tmp / f"{CBC_TMP_PREFIX}{dead.pid}-abc"
    fresh = private_tmp / f"{CBC_TMP_PREFIX}{dead.pid}-def"
    mine = private_tmp / f"{CBC_TMP_PREFIX}{os.getpid()}-ghi"
    for d in (old, fresh, mine):
        d.mkdir()
        (d / "model.mps").write_text("NAME\n")
    long_ago = time.time() - 3600
    os.utime(old, (long_ago, long_ago))
    sweep_cbc_files()
    assert sorted(p.name for p in private_tmp.iterdir()) == sorted([fresh.name, mine.name])
    sweep_cbc_files([dead.pid])
    assert [p.name for p in private_tmp.iterdir()] == [mine.name]
