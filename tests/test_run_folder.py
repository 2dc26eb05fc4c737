"""Run folders are read strictly (issue 13, point 6).

`report` and `stress` trusted the run folder: missing summary keys, a renamed
CSV column or NaN gave exit 1; `stress` replayed a truncated plan.csv
silently (regret 124 M instead of 0.09) and dropped rows with a negative
quantity or an unknown supplier without a word. Now a damaged folder is exit
2 naming the file and what is wrong, and `stress` replays only the tables
`run` wrote, unless `--allow-edited` (and then it says what it dropped).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from optimizer.io.run_folder import file_hash, read_run, summary_problems
from tests.conftest import CASES, SCENARIOS_2025, run_cli

PLAN_SOURCE = SCENARIOS_2025 / "robust-2025.yaml"
UNDER = SCENARIOS_2025 / "heavy-ree-ban.yaml"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runfolder") / "run"
    res = run_cli(["run", str(PLAN_SOURCE), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def run_dir(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy of a run folder, to damage."""
    copy = tmp_path / "run"
    shutil.copytree(pristine, copy)
    return copy


def edit_summary(folder: Path, change: object) -> None:
    doc = json.loads((folder / "summary.json").read_text())
    change(doc)  # type: ignore[operator]
    (folder / "summary.json").write_text(json.dumps(doc))


def report_fails(folder: Path, *words: str) -> str:
    res = run_cli(["report", str(folder), "--excel"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "internal error" not in res.output
    for word in words:
        assert word in res.stderr, res.stderr
    return res.stderr


def test_the_summary_records_the_hashes_of_the_tables(pristine: Path) -> None:
    doc = json.loads((pristine / "summary.json").read_text())
    for name in ("plan.csv", "orders.csv", "inventory.csv"):
        assert doc["table_hashes"][name] == file_hash((pristine / name).read_bytes())
    assert summary_problems(doc) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.pop("total_cost"), "total_cost: missing"),
        (lambda d: d["costs"].pop("purchase"), "costs.purchase: missing"),
        (lambda d: d.update(objective="12"), 'objective: must be a number (got "12")'),
        (lambda d: d.update(status="maybe"), "status: must be"),
        (lambda d: d.update(scenarios={}), "scenarios: must be a list"),
        (lambda d: d["scenarios"][0].pop("probability"), "scenarios[0].probability: missing"),
        (lambda d: d.update(materials=[]), "materials: must be a mapping"),
        (
            lambda d: next(iter(d["materials"].values())).update(volume="x"),
            'volume: must be a number (got "x")',
        ),
        (lambda d: d.update(checked="yes"), "checked: must be true or false"),
        (lambda d: d.update(cvar={"alpha": None}), "cvar.alpha: must be a number"),
    ],
)
def test_a_damaged_summary_is_exit_2_naming_file_and_key(
    run_dir: Path, change: object, words: str
) -> None:
    edit_summary(run_dir, change)
    report_fails(run_dir, f"{run_dir / 'summary.json'}: ", words)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["costs"]["spend"].update(bribes=1.0), "costs.spend.bribes"),
        (lambda d: next(iter(d["materials"].values())).update(note="x"), ".note"),
        (lambda d: d["scenarios"][0].update(weight=0.5), "scenarios[0].weight"),
    ],
)
def test_an_unknown_key_in_the_summary_is_exit_2_naming_it(
    run_dir: Path, change: object, key: str
) -> None:
    """summary.json is read into `RunSummary`, which has no place for a key it does not
    know: `report` refuses the folder and names the key."""
    edit_summary(run_dir, change)
    err = report_fails(run_dir, f"{run_dir / 'summary.json'}: ")
    assert f"{key}: extra inputs are not permitted" in err, err
    assert len(err.strip().splitlines()) == 1  # that key, nothing else


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.update(objective=str(d["objective"])), "objective"),
        (lambda d: d.update(checked="true"), "checked"),
        (lambda d: d["costs"]["penalties"].update(delay="0"), "costs.penalties.delay"),
    ],
)
def test_a_quoted_value_in_the_summary_is_exit_2(run_dir: Path, change: object, key: str) -> None:
    """Read strictly: a number or a truth value in quotes is refused, not converted."""
    edit_summary(run_dir, change)
    report_fails(run_dir, f"{run_dir / 'summary.json'}: {key}: ")


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", '{"objective": NaN}', "[" * 100_000])
def test_a_summary_that_is_no_json_document_is_exit_2(run_dir: Path, text: str) -> None:
    (run_dir / "summary.json").write_text(text)
    report_fails(run_dir, f"{run_dir / 'summary.json'}: ")


def test_nan_in_the_summary_is_refused(run_dir: Path) -> None:
    text = (run_dir / "summary.json").read_text()
    doc = json.loads(text)
    text = text.replace(f'"objective": {json.dumps(doc["objective"])}', '"objective": NaN')
    (run_dir / "summary.json").write_text(text)
    report_fails(run_dir, "NaN is not a number JSON allows")


@pytest.mark.parametrize("name", ["plan.csv", "inventory.csv", "orders.csv"])
def test_a_renamed_column_is_exit_2(run_dir: Path, name: str) -> None:
    path = run_dir / name
    lines = path.read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace("quantity", "qty").replace("closing", "end")
    path.write_text("".join(lines))
    words = "missing column quantity" if name != "inventory.csv" else "missing column closing"
    report_fails(run_dir, f"{path}: {words}", "found instead: ")


@pytest.mark.parametrize(
    ("cell", "words"),
    [("nan", "must be a number (got 'nan')"), ("", "(got '')"), ("abc", "(got 'abc')")],
)
def test_a_cell_that_is_no_number_is_exit_2_at_its_line(
    run_dir: Path, cell: str, words: str
) -> None:
    path = run_dir / "plan.csv"
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[2].split(",")
    fields[5] = cell  # quantity
    lines[2] = ",".join(fields)
    path.write_text("".join(lines))
    report_fails(run_dir, f"{path}: line 3: quantity: ", words)


def test_a_file_cut_in_the_middle_of_a_line_is_exit_2(run_dir: Path) -> None:
    path = run_dir / "inventory.csv"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    report_fails(run_dir, f"{path}: line ")


@pytest.mark.parametrize("name", ["summary.json", "plan.csv", "scenario.resolved.yaml"])
def test_a_missing_or_special_file_is_exit_2(run_dir: Path, name: str) -> None:
    (run_dir / name).unlink()
    report_fails(run_dir, f"missing {name}")
    os.mkfifo(run_dir / name)  # a FIFO must not block the reader
    report_fails(run_dir, f"{run_dir / name}: ")


def test_an_edited_resolved_scenario_is_exit_2(run_dir: Path) -> None:
    (run_dir / "scenario.resolved.yaml").write_text("name: [\n")
    report_fails(run_dir, "scenario.resolved.yaml: not a valid scenario")


def test_the_intact_folder_still_reads(pristine: Path) -> None:
    run = read_run(pristine)
    assert len(run.plan) > 0 and run.plan["quantity"].dtype == float


# --- stress: only the plan `run` wrote ----------------------------------------------------


def stress(folder: Path, *extra: str) -> object:
    return run_cli(["stress", str(folder), "--under", str(UNDER), "--json", *extra])


def test_a_truncated_plan_is_refused_unless_allowed(run_dir: Path) -> None:
    """It was replayed silently: regret 124 M instead of 0.09."""
    path = run_dir / "plan.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]))
    res = stress(run_dir)
    assert res.exit_code == 2, res.output
    assert f"{path} is not the table `sourcing run` wrote" in res.stderr
    assert "--allow-edited" in res.stderr
    res = stress(run_dir, "--allow-edited")
    assert res.exit_code == 0, res.output
    assert f"warning: {path} is not the table `sourcing run` wrote" in res.stderr
    doc = json.loads(res.stdout)
    assert any("replayed as it is" in w for w in doc["plan"]["warnings"])


def test_edited_rows_are_dropped_and_listed(run_dir: Path) -> None:
    path = run_dir / "plan.csv"
    lines = path.read_text().splitlines(keepends=True)
    negative = lines[1].split(",")
    negative[5] = "-5.000000"
    unknown = lines[2].split(",")
    unknown[1] = "nobody"
    lines[1], lines[2] = ",".join(negative), ",".join(unknown)
    path.write_text("".join(lines))
    assert stress(run_dir).exit_code == 2
    res = stress(run_dir, "--allow-edited")
    assert res.exit_code == 0, res.output
    assert "dropped 2 rows that cannot be replayed" in res.stderr
    assert f"{path}: line 2: negative quantity -5" in res.stderr
    assert f"{path}: line 3: unknown supplier 'nobody'" in res.stderr


def test_an_edited_inventory_is_refused_too(run_dir: Path) -> None:
    path = run_dir / "inventory.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].rsplit(",", 1)[0] + ",0.123000\n"  # another probability
    path.write_text("".join(lines))
    res = stress(run_dir)
    assert res.exit_code == 2
    assert f"{path} is not the table" in res.stderr


def test_a_folder_without_hashes_needs_allow_edited(run_dir: Path) -> None:
    edit_summary(run_dir, lambda d: d.pop("table_hashes"))
    res = stress(run_dir)
    assert res.exit_code == 2
    assert "records no table hashes" in res.stderr
    assert stress(run_dir, "--allow-edited").exit_code == 0


def test_matching_hashes_but_rows_that_cannot_be_replayed_are_refused(run_dir: Path) -> None:
    """The summary edited with the table: the rows are still checked."""
    path = run_dir / "plan.csv"
    lines = path.read_text().splitlines(keepends=True)
    row = lines[1].split(",")
    row[3] = "99"  # period beyond the horizon
    lines[1] = ",".join(row)
    path.write_text("".join(lines))
    digest = file_hash(path.read_bytes())
    edit_summary(run_dir, lambda d: d["table_hashes"].update({"plan.csv": digest}))
    res = stress(run_dir)
    assert res.exit_code == 2
    assert "line 2: period 99 outside the horizon" in res.stderr
    assert "--allow-edited" in res.stderr


def test_stress_from_an_intact_folder_is_unchanged(pristine: Path) -> None:
    res = stress(pristine)
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    assert json.loads(res.stdout)["plan"]["warnings"] == []


def test_a_case_run_folder_reads(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_cli(["run", str(CASES / "licence_runway.yaml"), "-o", str(out)])
    assert res.exit_code == 0
    assert all(isinstance(v, str) for v in read_run(out).orders["order_date"])


def test_an_unbounded_shadow_price_range_is_null_and_the_folder_reads(tmp_path: Path) -> None:
    """The December 2026 baseline has capacities whose value holds without end (the
    range's upper end is infinite). JSON has no infinity: summary.json says null there
    (as for a range that is unknown), and the folder is written and read back (exit 0)."""
    out = tmp_path / "run"
    scenario = Path(__file__).parent.parent / "scenarios" / "dec2026-baseline.yaml"
    res = run_cli(["run", str(scenario), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = (out / "summary.json").read_text()

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in summary.json")

    doc = json.loads(text, parse_constant=refuse)
    highs = [r["range_high"] for r in doc["shadow_prices"]]
    assert None in highs  # at least one range has no upper end
    assert run_cli(["report", str(out)]).exit_code == 0
