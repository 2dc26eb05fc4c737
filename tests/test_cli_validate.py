"""`sourcing validate`, `sourcing schema`, --help and --version (DESIGN §5).

Most tests run the Typer app in-process; the subprocess ones run
`python -m optimizer` as a user would, to be sure no traceback reaches stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer import __version__
from tests.conftest import run_cli
from tests.test_loading_helpers import MINIMAL, line_of, write

ROOT = Path(__file__).resolve().parent.parent


def python_m(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optimizer", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_valid_file_prints_ok_and_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    res = run_cli(["validate", str(path)])
    assert res.exit_code == 0
    assert res.stdout == f"OK {path} (t: 1 materials, 1 suppliers, 2 periods)\n"
    assert res.stderr == ""


def test_every_error_of_a_file_at_once(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("demand: 10", "demand: -1")
        .replace("country: CN", "country: CN\n    max_share: 60")
        .replace("capacity: 20", "capacity: 20, cost: 1")
    )
    path = write(tmp_path, text)
    res = run_cli(["validate", str(path)])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        f"{path}:{line_of(text, 'demand')}: materials.m.demand: must be >= 0 (got -1)",
        f"{path}:{line_of(text, 'max_share')}: suppliers.s.max_share: must be a fraction "
        "between 0 and 1 (0.25 means 25%); did you mean 0.6 for 60%? (got 60)",
        f"{path}:{line_of(text, ', cost: 1')}: suppliers.s.offers.m.cost: unknown key; "
        "allowed: capacity, exercise_price, min_order, price, reservation_fee",
    ]


def test_several_files_exit_2_if_any_is_invalid(tmp_path: Path) -> None:
    good = write(tmp_path, MINIMAL, "good.yaml")
    bad = write(tmp_path, MINIMAL + "name: again\n", "bad.yaml")
    res = run_cli(["validate", str(good), str(bad), str(good)])
    assert res.exit_code == 2
    assert res.stdout.count("OK ") == 2
    assert f"{bad}:10: name: duplicate key 'name' (first on line 1)" in res.stderr
    assert "1 of 3 files are invalid" in res.stderr


def test_several_valid_files_exit_0(tmp_path: Path) -> None:
    paths = [str(write(tmp_path, MINIMAL, f"{i}.yaml")) for i in range(3)]
    res = run_cli(["validate", *paths])
    assert res.exit_code == 0
    assert res.stdout.count("OK ") == 3


def test_json_output(tmp_path: Path) -> None:
    good = write(tmp_path, MINIMAL, "good.yaml")
    bad = write(tmp_path, MINIMAL.replace("capacity: 20", "capacity: -5"), "bad.yaml")
    res = run_cli(["validate", "--json", str(good), str(bad)])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc[0]["ok"] is True and doc[0]["scenario"] == "t"
    assert len(doc[0]["content_hash"]) == 64
    assert doc[1] == {
        "file": str(bad),
        "ok": False,
        "problems": [
            {
                "file": str(bad),
                "line": 9,
                "path": "suppliers.s.offers.m.capacity",
                "message": "must be >= 0",
                "got": "-5",
            }
        ],
    }


def test_no_files_is_a_usage_error() -> None:
    res = run_cli(["validate"])
    assert res.exit_code == 2


def test_schema_prints_the_committed_schema() -> None:
    res = run_cli(["schema"])
    assert res.exit_code == 0
    assert res.stdout == (ROOT / "scenario.schema.json").read_text(encoding="utf-8")
    assert json.loads(res.stdout)["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_schema_of_summary_prints_the_committed_summary_schema() -> None:
    res = run_cli(["schema", "--of", "summary"])
    assert res.exit_code == 0
    assert res.stdout == (ROOT / "summary.schema.json").read_text(encoding="utf-8")
    assert json.loads(res.stdout)["title"] == "RunSummary"


@pytest.mark.parametrize(
    "args",
    [["--help"], ["-h"], ["validate", "--help"], ["validate", "-h"], ["schema", "--help"]],
)
def test_help(args: list[str]) -> None:
    res = run_cli(args)
    assert res.exit_code == 0
    assert "Usage" in res.stdout


def test_help_mentions_the_commands() -> None:
    res = run_cli(["--help"])
    assert "validate" in res.stdout and "schema" in res.stdout


def test_version() -> None:
    res = run_cli(["--version"])
    assert res.exit_code == 0
    assert res.stdout.strip() == f"sourcing {__version__}"


# --- the real command line in a fresh process ----------------------------------------------


def bad_files(tmp_path: Path) -> list[Path]:
    """One file per class of bad input the loader must turn into a message."""
    bomb = ['a0: &a0 "lol"'] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)
    ]
    files = {
        "latin1.yaml": (MINIMAL + "title: caf\xe9\n").encode("latin-1"),
        "nul.yaml": MINIMAL + "title: \x00\n",
        "deep.yaml": "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
        "bomb.yaml": "\n".join(bomb) + "\n",
        "tag.yaml": MINIMAL + "title: !!python/object/apply:os.system [echo hi]\n",
        "dup.yaml": MINIMAL + "horizon: {periods: 3}\n",
        "tab.yaml": MINIMAL + "policy:\n\tmin_suppliers: 2\n",
        "list.yaml": "- 1\n",
        "empty.yaml": "",
        "two-docs.yaml": MINIMAL + "---\nname: u\n",
        "schema.yaml": MINIMAL.replace("capacity: 20", "capacity: .nan, colour: red"),
        "refs.yaml": MINIMAL + "      nope: {price: 1, capacity: 1}\n",
        "child.yaml": "extends: missing-parent.yaml\n",
        "cycle.yaml": "extends: cycle.yaml\n",
    }
    paths = [write(tmp_path, text, name) for name, text in files.items()]
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)
    return [*paths, big, tmp_path / "missing.yaml", tmp_path]


def test_bad_inputs_give_messages_not_tracebacks(tmp_path: Path) -> None:
    paths = bad_files(tmp_path)
    res = python_m("validate", *map(str, paths))
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""
    assert "Traceback" not in res.stderr
    assert "internal error" not in res.stderr
    for path in paths:
        assert f"{path}:" in res.stderr, path
    assert f"{len(paths)} of {len(paths)} files are invalid" in res.stderr


def test_each_bad_input_alone_exits_2(tmp_path: Path) -> None:
    for path in bad_files(tmp_path):
        res = run_cli(["validate", str(path)])
        assert res.exit_code == 2, (path, res.stdout, res.stderr)
        assert res.stderr.startswith(f"{path}:"), res.stderr


def test_subprocess_valid_file_and_schema(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    res = python_m("validate", str(path))
    assert (res.returncode, res.stderr) == (0, "")
    assert res.stdout.startswith(f"OK {path}")
    res = python_m("schema")
    assert res.returncode == 0
    assert res.stdout == (ROOT / "scenario.schema.json").read_text(encoding="utf-8")


def test_subprocess_error_in_parent_file(tmp_path: Path) -> None:
    parent = write(tmp_path, MINIMAL.replace("capacity: 20", "capacity: -20"), "base.yaml")
    write(tmp_path, "extends: base.yaml\nname: child\n", "child.yaml")
    res = python_m("validate", "child.yaml", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr == "base.yaml:9: suppliers.s.offers.m.capacity: must be >= 0 (got -20)\n"
    assert parent.exists()


def test_shipped_scenarios_validate() -> None:
    shipped = sorted((ROOT / "scenarios").rglob("*.yaml"))
    if not shipped:
        pytest.skip("no shipped scenarios")
    res = run_cli(["validate", *map(str, shipped)])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.count("OK ") == len(shipped)
