"""Fuzzing `sourcing run` with damaged scenario files (issue 8).

Every mutant of a valid scenario (tests/fuzzing.py: deleted, renamed and
retyped keys, out-of-range, NaN, huge, tiny and negative numbers, deep
nesting, duplicate keys, YAML syntax breakers, truncation, random bytes,
other encodings) must end with exit 0 (a plan), 2 (bad input) or 3
(infeasible policy): never a traceback, never exit 1, and every error names
the file. The CI run is short and derandomized; `scripts/fuzz.py` runs
10,000 seeded cases (README "Reliability").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from optimizer.cli import app
from tests.conftest import ROOT
from tests.fuzzing import SEED_FILES, HypothesisChooser, RandomChooser, prepare, verdict, write_case

runner = CliRunner()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with copies of the shipped scenarios (for `extends`), where mutants go."""
    path = tmp_path_factory.mktemp("fuzz")
    prepare(path)
    return path


def run_in_process(path: Path) -> str | None:
    """The verdict on `sourcing run PATH` (None when the outcome is right)."""
    res = runner.invoke(app, ["run", str(path)])
    return verdict(path, res.exit_code, res.stdout + res.stderr, res.exception)


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_scenarios_end_cleanly(workdir: Path, data: st.DataObject) -> None:
    chooser = HypothesisChooser(data)
    seed = chooser.pick(SEED_FILES)
    path = write_case(workdir, seed, chooser)
    problem = run_in_process(path)
    assert problem is None, f"{seed.name}: {problem}\n{path.read_bytes()[:2000]!r}"


HOSTILE = {
    "nested_10000": b"x: " + b"[" * 10_000 + b"]" * 10_000 + b"\n",
    "nested_maps": b"".join(b"  " * i + b"k:\n" for i in range(200)),
    "random_bytes": bytes(range(256)) * 4,
    "utf16_no_bom": "name: x\n".encode("utf-16-le"),
    "latin1": "name: caf\xe9\n".encode("latin-1"),
    "nul": b"name: x\x00\n",
    "empty": b"",
    "comment_only": b"# nothing\n",
    "top_level_list": b"- 1\n- 2\n",
    "billion_laughs": b'a: &a ["lol","lol"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]\n',
    "python_tag": b"name: !!python/object/apply:os.system ['true']\n",
    "two_documents": b"name: a\n---\nname: b\n",
    "tab_indent": b"name: x\nhorizon:\n\tperiods: 1\n",
    "unclosed_quote": b'name: "x\nhorizon: {periods: 1}\n',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(HOSTILE[name])
    res = runner.invoke(app, ["run", str(path)])
    assert verdict(path, res.exit_code, res.stdout + res.stderr, res.exception) is None
    assert res.exit_code == 2


@pytest.mark.slow
@pytest.mark.parametrize("case", [3, 17, 42, 101, 555, 1234, 2024, 9999])
def test_mutants_through_the_real_command_line(tmp_path: Path, case: int) -> None:
    """A handful as a user runs them: `python -m optimizer run`, in a fresh process."""
    prepare(tmp_path)
    chooser = RandomChooser(case)
    path = write_case(tmp_path, chooser.pick(SEED_FILES), chooser)
    res = subprocess.run(
        [sys.executable, "-m", "optimizer", "run", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert verdict(path, res.returncode, res.stdout + res.stderr, None) is None


def test_errors_in_a_parent_file_point_at_the_child_that_made_them(tmp_path: Path) -> None:
    """Found by fuzzing: a renamed supplier in a child was reported at the parent's line."""
    prepare(tmp_path)
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: rare-earths-baseline.yaml\nname: child\n"
        "suppliers:\n  cnheavy_ree:\n    license_delay_days: 63\n"
    )
    res = runner.invoke(app, ["validate", str(child)])
    assert res.exit_code == 2
    assert f"{child}:4: suppliers.cnheavy_ree.country: required field is missing" in res.stderr


@pytest.mark.parametrize("value", ["1e300", "1.0e13", "10000000000000"])
def test_numbers_beyond_the_solvers_precision_are_bad_input(tmp_path: Path, value: str) -> None:
    """Found by fuzzing: demand 1e300 made HiGHS refuse the model (exit 1), and a shortage
    cost of 1e300 made CBC call a feasible scenario infeasible (exit 3)."""
    text = (ROOT / "tests" / "cases" / "country_cap.yaml").read_text()
    path = tmp_path / "big.yaml"
    path.write_text(text.replace("demand: 100", f"demand: {value}"))
    res = runner.invoke(app, ["run", str(path)])
    assert res.exit_code == 2
    assert "materials.ndpr_oxide.demand: must be at most 1e+12" in res.stderr


def test_tiny_numbers_reach_the_solver(tmp_path: Path, solver: str) -> None:
    """Found by fuzzing: a share cap of 1e-12 made HiGHS warn (entries below 1e-9 are
    dropped), which was taken for a refusal (exit 1); the checked plan is fine."""
    text = (ROOT / "tests" / "cases" / "country_cap.yaml").read_text()
    path = tmp_path / "tiny.yaml"
    path.write_text(text.replace("CN: 0.6", "CN: 1e-12"))
    res = runner.invoke(app, ["run", str(path), "--solver", solver, "--json"])
    assert res.exit_code == 0, res.stderr


def test_big_m_with_huge_capacity_keeps_the_min_order(tmp_path: Path, solver: str) -> None:
    """Found by fuzzing: capacity 1e9 with min_order 10 let HiGHS pass z = 4e-9 as 0
    and deliver 4 (the check refused the plan: exit 1). The integers are now rounded
    and the remaining LP re-solved."""
    text = (ROOT / "tests" / "cases" / "min_order.yaml").read_text()
    path = tmp_path / "bigm.yaml"
    path.write_text(
        text.replace(
            "ndpr_oxide: {price: 10, capacity: 100, min_order: 10}",
            "ndpr_oxide: {price: 10, capacity: 1000000000, min_order: 10}",
        )
    )
    res = runner.invoke(app, ["run", str(path), "--solver", solver, "--json"])
    assert res.exit_code == 0, res.stderr
    assert '"checked": true' in res.stdout


@pytest.mark.parametrize(
    ("extends", "words"),
    [
        ("x" * 500, "parent file cannot be read: File name too long"),
        ('"a\\0b"', "parent file cannot be read: embedded null byte"),
        ("notes.txt", "the top level must be a mapping"),
    ],
)
def test_bad_parent_files_are_bad_input(tmp_path: Path, extends: str, words: str) -> None:
    """Found by fuzzing: `extends` with a 500-character name raised a raw OSError (exit 1);
    a parent that is no scenario was reported without naming the file that extends it."""
    (tmp_path / "notes.txt").write_text("just some notes\n")
    path = tmp_path / "child.yaml"
    path.write_text(f"extends: {extends}\nname: child\n")
    res = runner.invoke(app, ["run", str(path)])
    assert res.exit_code == 2
    assert verdict(path, res.exit_code, res.stdout + res.stderr, res.exception) is None
    assert words in res.stderr
