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

from tests.conftest import ROOT, run_cli
from tests.fuzzing import (
    SEED_FILES,
    HypothesisChooser,
    RandomChooser,
    prepare,
    run_args,
    verdict,
    write_case,
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with copies of the shipped scenarios (for `extends`), where mutants go."""
    path = tmp_path_factory.mktemp("fuzz")
    prepare(path)
    return path


def run_in_process(path: Path, args: list[str] | None = None) -> str | None:
    """The verdict on `sourcing run PATH` (None when the outcome is right)."""
    res = run_cli(args or ["run", str(path)])
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
    problem = run_in_process(path, run_args(path, chooser))
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
    res = run_cli(["run", str(path)])
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
        [sys.executable, "-m", "optimizer", *run_args(path, chooser)],
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
    res = run_cli(["validate", str(child)])
    assert res.exit_code == 2
    assert f"{child}:4: suppliers.cnheavy_ree.country: required field is missing" in res.stderr


@pytest.mark.parametrize("value", ["1e300", "1.0e13", "10000000000000"])
def test_numbers_beyond_the_solvers_precision_are_bad_input(tmp_path: Path, value: str) -> None:
    """Found by fuzzing: demand 1e300 made HiGHS refuse the model (exit 1), and a shortage
    cost of 1e300 made CBC call a feasible scenario infeasible (exit 3)."""
    text = (ROOT / "tests" / "cases" / "country_cap.yaml").read_text()
    path = tmp_path / "big.yaml"
    path.write_text(text.replace("demand: 100", f"demand: {value}"))
    res = run_cli(["run", str(path)])
    assert res.exit_code == 2
    assert "materials.ndpr_oxide.demand: must be at most 1e+12" in res.stderr


def test_tiny_numbers_reach_the_solver(tmp_path: Path, solver: str) -> None:
    """Found by fuzzing: a share cap of 1e-12 made HiGHS warn (entries below 1e-9 are
    dropped), which was taken for a refusal (exit 1); the checked plan is fine."""
    text = (ROOT / "tests" / "cases" / "country_cap.yaml").read_text()
    path = tmp_path / "tiny.yaml"
    path.write_text(text.replace("CN: 0.6", "CN: 1e-12"))
    res = run_cli(["run", str(path), "--solver", solver, "--json"])
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
    res = run_cli(["run", str(path), "--solver", solver, "--json"])
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
    res = run_cli(["run", str(path)])
    assert res.exit_code == 2
    assert verdict(path, res.exit_code, res.stdout + res.stderr, res.exception) is None
    assert words in res.stderr


# --- issue 13, point 5: input errors that were exit 1 ("a bug") -------------------------

COUNTRY_CAP = (ROOT / "tests" / "cases" / "country_cap.yaml").read_text()


def _variant(tmp_path: Path, old: str, new: str, name: str = "case.yaml") -> Path:
    assert old in COUNTRY_CAP
    path = tmp_path / name
    path.write_text(COUNTRY_CAP.replace(old, new, 1))
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


POINT_5 = {
    # name: (old text, new text, extra args, the line's text, words of the message)
    "5000_digit_integer": (
        "demand: 100",
        "demand: " + "1" * 5000,
        [],
        "demand:",
        "a number of 5,000 characters",
    ),
    "start_at_the_end_of_the_calendar": (
        "  periods: 1",
        "  periods: 1000\n  start: 9999-12-01",
        ["--out", "{out}"],
        "start:",
        "ends after the year 9999",
    ),
    "nanosecond_periods": (
        "  periods: 1",
        "  periods: 3\n  period_days: 1e-9",
        [],
        "period_days:",
        "horizon.period_days: must be at least 1",
    ),
    "control_characters_in_the_title": (
        "title: Country cap splits volume",
        'title: "split\\a\\e[31m volume"',
        ["--out", "{out}", "--excel"],
        "title:",
        "title: contains the control or invisible character \\x07",
    ),
    "bidi_override_in_the_unit": (
        "horizon:",
        'quantity_unit: "t\\u202e"\nhorizon:',
        [],
        "quantity_unit:",
        "\\u202e",
    ),
}


@pytest.mark.parametrize("name", sorted(POINT_5))
def test_input_errors_are_exit_2_at_a_line(tmp_path: Path, name: str) -> None:
    old, new, extra, marker, words = POINT_5[name]
    path = _variant(tmp_path, old, new)
    args = [a.replace("{out}", str(tmp_path / "out")) for a in extra]
    res = run_cli(["run", str(path), *args])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith(f"{path}:{_line_of(path, marker)}: "), res.stderr
    assert words in res.stderr
    assert not (tmp_path / "out").exists()


def test_math_text_in_the_currency_is_drawn_as_text(tmp_path: Path) -> None:
    """`$...$` made matplotlib's math-text parser fail (exit 1); it is now plain text."""
    units = 'currency: "$\\\\frac{a}{b$"\nquantity_unit: "$x$"\nhorizon:'
    path = _variant(tmp_path, "horizon:", units)
    out = tmp_path / "out"
    res = run_cli(["run", str(path), "--out", str(out), "--excel"])
    assert res.exit_code == 0, res.output
    frontier = run_cli(["frontier", str(path), "--shares", "1,0.6", "--out", str(tmp_path / "f")]
    )
    assert frontier.exit_code == 0, frontier.output
    assert "$\\frac{a}{b$" in (out / "report.html").read_text()


@pytest.mark.parametrize("how", ["direct", "extends"])
def test_symbolic_link_loops_are_bad_input(tmp_path: Path, how: str) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    path = tmp_path / "a.yaml"
    if how == "extends":
        path = tmp_path / "child.yaml"
        path.write_text("name: child\nextends: a.yaml\n")
    res = run_cli(["run", str(path)])
    assert res.exit_code == 2, res.output
    where = f"{path}:2: extends: " if how == "extends" else f"{path}: "
    assert res.stderr.startswith(where), res.stderr
    assert "symbolic link loop" in res.stderr


def test_unreachable_scheduler_is_bad_usage_at_once() -> None:
    import socket
    import time

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    res = run_cli(["run", str(ROOT / "tests" / "cases" / "country_cap.yaml"), "--scheduler",
              f"tcp://127.0.0.1:{port}"],
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    assert res.exit_code == 2, res.output
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot reach a Dask scheduler there" in res.stderr
    assert seconds < 10, seconds  # Dask's own timeout is 30 s


def test_the_point_5_classes_are_in_the_fuzzer() -> None:
    """The mutation engine produces each class of point 5 (so `make test` fuzzes them)."""
    from tests.fuzzing import HOSTILE_VALUES, huge_number, long_list

    fields = {path for path, _ in HOSTILE_VALUES}
    assert {("horizon", "start"), ("horizon", "period_days"), ("currency",), ("title",)} <= fields
    text = b"name: x\ndemand: 5\n"
    numbers = {huge_number(text, RandomChooser(seed)).split(b": ")[-1] for seed in range(40)}
    assert max(map(len, numbers)) > 5000 and b"5\n" not in numbers
    assert long_list(text, RandomChooser(1)).count(b"1") > 10_000


def test_a_scheduler_address_where_something_else_answers_is_bad_usage() -> None:
    """A server that is no Dask scheduler once made Dask allocate 3 EiB (exit 1)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def answer_garbage() -> None:
        with server:
            for _ in range(3):  # the reachability check, then Dask's handshake
                conn, _ = server.accept()
                with conn:
                    conn.sendall(b"\xff" * 64 + b"HTTP/1.0 200 OK\r\n\r\n")

    threading.Thread(target=answer_garbage, daemon=True).start()
    res = run_cli(["run", str(ROOT / "tests" / "cases" / "country_cap.yaml"), "--scheduler",
              f"tcp://127.0.0.1:{port}"],
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "is not a Dask scheduler" in res.stderr
