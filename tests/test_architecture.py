"""The house rules of DESIGN §2 that a test can hold (the layers themselves are held
by `lint-imports`, run by `make test`)."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import optimizer

ROOT = Path(optimizer.__file__).parent
LONG = 400  # lines; a longer module says why at its top


def test_reports_and_the_checker_load_neither_pulp_nor_highspy() -> None:
    """Results and reports know nothing of the solver: importing every reports module
    and the independent checker, in a fresh interpreter, loads no solver library."""
    reports = [f"optimizer.reports.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "reports")])]
    code = "\n".join(
        [
            "import sys",
            *(f"import {name}" for name in [*reports, "optimizer.results.check"]),
            "print(sorted(m for m in ('pulp', 'highspy', 'cbcbox') if m in sys.modules))",
        ]
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
    assert len(reports) >= 10


def test_io_and_schema_load_no_solver_either() -> None:
    code = (
        "import sys, optimizer.io.load, optimizer.io.run_folder, optimizer.schema.summary\n"
        "print(sorted(m for m in ('pulp', 'highspy') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_every_subpackage_of_design_2_exists_and_nothing_lies_flat() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages == {
        "schema",
        "io",
        "model",
        "solve",
        "results",
        "analysis",
        "app",
        "reports",
        "cli",
        "common",
    }
    flat = sorted(p.name for p in ROOT.glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "entry.py"]


def test_a_module_longer_than_400_lines_says_why_at_its_top() -> None:
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text()
        if text.count("\n") <= LONG:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        assert "Longer than 400 lines because" in doc, path.relative_to(ROOT)


def test_each_constraint_family_is_one_function_whose_docstring_is_its_design_line() -> None:
    """The family functions of the model (`add_*`) each carry a docstring."""
    for name in ("first_stage", "second_stage", "objective"):
        tree = ast.parse((ROOT / "model" / f"{name}.py").read_text())
        families = [
            f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("add_")
        ]
        assert families, name
        for f in families:
            assert ast.get_docstring(f), f"{name}.{f.name}"
