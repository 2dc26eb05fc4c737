"""`sourcing export-tables` (DESIGN §3.1 and §5, issue 17): a scenario's suppliers, offers
and demand as CSV files or one workbook, plus a YAML that names them; read back, the
same scenario, and run, the same plan byte for byte.

Every file under scenarios/ is exported both ways and read back as the same scenario
(the same content hash). Every light one (all but tests/conftest.py HEAVY_SCENARIOS, a
minute or more per solve, which this file never solves) is also run from its export
and its plan.csv, orders.csv and inventory.csv compared byte for byte with the
original's, from CSV and from a workbook: a few seconds in all.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from optimizer.app.pipeline import RunResult, run_scenario
from optimizer.io.load import load_scenario
from optimizer.io.tables.export import SHEETS, Table, export_files, xlsx_bytes
from optimizer.reports.csv_files import run_tables, write_table
from optimizer.reports.safe_output import MARKER
from optimizer.schema.scenario import Scenario
from optimizer.solve.status import SolverOptions
from tests.conftest import HEAVY_SCENARIOS, SCENARIOS, SCENARIOS_2025, run_cli
from tests.test_loading_helpers import write

SHIPPED = sorted(SCENARIOS.rglob("*.yaml"))
IDS = [str(p.relative_to(SCENARIOS).with_suffix("")) for p in SHIPPED]
FORMATS = [False, True]
PLAN_FILES = ("plan.csv", "orders.csv", "inventory.csv")


def content(sc: Scenario) -> Scenario:
    """What a scenario says, not the files it says it in (`extends`, `tables`)."""
    return sc.model_copy(update={"tables": None, "extends": None})


def export(scenario: Path, to: Path, xlsx: bool, *more: str) -> tuple[int, str, str]:
    args = ["export-tables", str(scenario), "--to", str(to), *(["--xlsx"] if xlsx else []), *more]
    res = run_cli(args)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout, res.stderr


def exported_yaml(folder: Path) -> Path:
    (path,) = folder.glob("*.yaml")
    return path


# --- the round trip ---------------------------------------------------------------------


@pytest.mark.parametrize("xlsx", FORMATS, ids=["csv", "xlsx"])
@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_export_reads_back_as_the_same_scenario(tmp_path: Path, path: Path, xlsx: bool) -> None:
    code, out, err = export(path, tmp_path / "out", xlsx)
    assert (code, err) == (0, "")
    original = load_scenario(path)
    again = load_scenario(exported_yaml(tmp_path / "out"))
    assert content(again.scenario) == content(original.scenario)
    assert again.content_hash() == original.content_hash()
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    stem = original.scenario.name
    expected = [f"{stem}.xlsx", f"{stem}.yaml"] if xlsx else [
        "demand.csv", "offers.csv", f"{stem}.yaml", "suppliers.csv"
    ]  # fmt: skip
    assert names == sorted([MARKER, *expected])
    assert out.splitlines() == [str(tmp_path / "out" / n) for n in export_files(
        original.scenario, path.name, xlsx
    )]  # fmt: skip


OPTIONS = SolverOptions(solver="highs")


def _plan_files(run: RunResult, folder: Path) -> dict[str, bytes]:
    """plan.csv, orders.csv and inventory.csv of a run, as `run --out` writes them."""
    folder.mkdir(parents=True)
    tables = run_tables(run.plan)
    for name in PLAN_FILES:
        write_table(tables[name], folder / name)
    return {name: (folder / name).read_bytes() for name in PLAN_FILES}


RUNS = [(path, xlsx) for path in SHIPPED for xlsx in FORMATS if path.name not in HEAVY_SCENARIOS]
_ORIGINALS: dict[Path, dict[str, bytes]] = {}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "xlsx"),
    RUNS,
    ids=[f"{p.relative_to(SCENARIOS).with_suffix('')}-{'xlsx' if x else 'csv'}" for p, x in RUNS],
)
def test_exported_scenario_gives_the_same_plan(
    tmp_path_factory: pytest.TempPathFactory, path: Path, xlsx: bool
) -> None:
    """Export, run the exported YAML: plan.csv, orders.csv and inventory.csv are
    byte-identical to the original's."""
    if path not in _ORIGINALS:
        original = run_scenario(load_scenario(path).scenario, OPTIONS)
        _ORIGINALS[path] = _plan_files(original, tmp_path_factory.mktemp("original") / "run")
    tmp = tmp_path_factory.mktemp("exported")
    assert export(path, tmp / "tables", xlsx)[0] == 0
    again = run_scenario(load_scenario(exported_yaml(tmp / "tables")).scenario, OPTIONS)
    assert _plan_files(again, tmp / "run") == _ORIGINALS[path]


def test_export_of_an_exported_scenario(tmp_path: Path) -> None:
    base = SCENARIOS / "dec2026-destination-ban.yaml"  # extends the baseline
    assert export(base, tmp_path / "a", True)[0] == 0
    assert export(exported_yaml(tmp_path / "a"), tmp_path / "b", False)[0] == 0
    first = load_scenario(base).scenario
    assert content(load_scenario(exported_yaml(tmp_path / "b")).scenario) == content(first)


# --- what the files hold --------------------------------------------------------------------

SMALL = """\
name: small
horizon: {periods: 3}
materials:
  m: {demand: [1, 2, 3], shortage_cost: 100, inbound: [5]}
  n: {demand: 2.5, shortage_cost: 10, safety_stock_days: 30}
countries:
  CN: {risk: 0.8}
suppliers:
  s:
    country: CN
    controlled_by: [US, MY]
    offers:
      m: {price: [1, 1.5, 2], capacity: 10, reservation_fee: 0.1}
      n: {price: 3, capacity: [4, 4, 0.25]}
  t:
    country: US
    tariff: 0.032
    offers:
      m: {price: 2, capacity: 1e-05, min_order: 0.5}
"""


def test_csv_tables_say_what_the_scenario_says(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, SMALL)).scenario
    files = export_files(sc, "s.yaml")
    assert files["suppliers.csv"].decode() == (
        'id,country,tariff,controlled_by\ns,CN,,"US, MY"\nt,US,0.032,\n'
    )
    assert files["offers.csv"].decode() == (
        "supplier,material,price,price_1,price_2,price_3,capacity,capacity_1,capacity_2,"
        "capacity_3,min_order,reservation_fee\n"
        "s,m,,1,1.5,2,10,,,,,0.1\n"
        "s,n,3,,,,,4,4,0.25,,\n"
        "t,m,2,,,,1e-05,,,,0.5,\n"
    )
    assert files["demand.csv"].decode() == (
        "material,demand,demand_1,demand_2,demand_3,inbound_1\nm,,1,2,3,5\nn,2.5,,,,\n"
    )
    text = files["small.yaml"].decode()
    assert "suppliers:\n  s:" not in text
    assert (
        "tables:\n  suppliers: suppliers.csv\n  offers: offers.csv\n  demand: demand.csv\n" in text
    )
    assert "  n:\n    shortage_cost: 10\n    safety_stock_days: 30\n" in text
    assert text.startswith("# small: written from s.yaml by `sourcing export-tables`.\n")


def test_workbook_sheets_hold_numbers_and_text(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, SMALL)).scenario
    book = tmp_path / "small.xlsx"
    book.write_bytes(export_files(sc, "s.yaml", xlsx=True)["small.xlsx"])
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == list(SHEETS.values())
    offers = wb["Offers"]
    assert offers.freeze_panes == "A2"
    assert offers["A1"].font.b
    assert [c.value for c in offers[2]][:6] == ["s", "m", None, 1, 1.5, 2]
    assert offers["C3"].data_type == "n"
    assert [c.value for c in wb["Suppliers"][2]] == ["s", "CN", None, "US, MY"]


def test_workbook_bytes_are_stable() -> None:
    sc = load_scenario(SCENARIOS_2025 / "robust-2025.yaml").scenario
    first = export_files(sc, "x.yaml", xlsx=True)
    assert export_files(sc, "x.yaml", xlsx=True) == first
    with zipfile.ZipFile(io.BytesIO(first["robust-2025.xlsx"])) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert b"2000-01-01T00:00:00Z" in z.read("docProps/core.xml")


def test_text_is_never_written_as_a_formula(tmp_path: Path) -> None:
    """Ids cannot start with `=`, but the writer does not rely on it."""
    raw = xlsx_bytes({"offers": Table(["supplier"], [["=1+2"], ["@x"]])})
    book = tmp_path / "b.xlsx"
    book.write_bytes(raw)
    ws = openpyxl.load_workbook(book)["Offers"]
    assert (ws["A2"].value, ws["A2"].data_type) == ("=1+2", "s")
    with zipfile.ZipFile(book) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")


def test_csv_files_read_as_plain_csv(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIOS / "dec2026-baseline.yaml").scenario
    files = export_files(sc, "x.yaml")
    rows = list(csv.reader(io.StringIO(files["offers.csv"].decode())))
    assert rows[0][:4] == ["supplier", "material", "price", "capacity"]
    assert len(rows) == 1 + sum(len(s.offers) for s in sc.suppliers.values())
    assert b"\r" not in files["offers.csv"]


# --- the command ------------------------------------------------------------------------------


def test_replaces_only_its_own_folders_and_only_with_force(tmp_path: Path) -> None:
    base = SCENARIOS / "dec2026-baseline.yaml"
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    for more in ((), ("--force",)):
        code, _, err = export(base, out, False, *more)
        assert code == 2
        assert "holds files that sourcing did not write" in err
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
    out = tmp_path / "tables"
    assert export(base, out, False)[0] == 0
    code, _, err = export(base, out, True)
    assert code == 2
    assert "add --force to replace them" in err
    assert (out / "offers.csv").exists()
    assert export(base, out, True, "--force")[0] == 0
    assert not (out / "offers.csv").exists()
    assert (out / "dec2026-baseline.xlsx").exists()


def test_never_writes_over_the_folder_of_its_inputs(tmp_path: Path) -> None:
    """The tables a scenario reads are inputs too: their folder is never replaced."""
    first = tmp_path / "first"
    assert export(SCENARIOS / "dec2026-baseline.yaml", first, False)[0] == 0
    scenario = first / "dec2026-baseline.yaml"
    code, _, err = export(scenario, first, True, "--force")
    assert code == 2
    assert "holds an input of this command" in err
    assert load_scenario(scenario).input_files[-3:] == [
        (first / name).resolve() for name in ("suppliers.csv", "demand.csv", "offers.csv")
    ]


def test_invalid_scenario_writes_nothing(tmp_path: Path) -> None:
    bad = write(tmp_path, SMALL.replace("shortage_cost: 100", "shortage_cost: -1"))
    code, out, err = export(bad, tmp_path / "out", True)
    assert code == 2
    assert out == ""
    assert f"{bad}:4: materials.m.shortage_cost: must be >= 0" in err
    assert not (tmp_path / "out").exists()


def test_listed_in_help() -> None:
    res = run_cli(["--help"])
    assert "export-tables" in res.stdout
    res = run_cli(["export-tables", "--help"])
    assert res.exit_code == 0
    assert "--xlsx" in res.stdout


# --- the shipped example ------------------------------------------------------------------------

EXAMPLE = SCENARIOS / "tables-example" / "dec2026-tables.yaml"
BASELINE = SCENARIOS / "dec2026-baseline.yaml"


def _parts(workbook: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(workbook)) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_shipped_example_is_the_baseline() -> None:
    example = load_scenario(EXAMPLE)
    base = load_scenario(BASELINE)
    names = {"name": None, "title": None, "description": None}
    assert content(example.scenario).model_copy(update=names) == content(base.scenario).model_copy(
        update=names
    )
    assert example.scenario.name == "dec2026-tables"
    assert example.locate(("suppliers", "lynas_my", "offers", "dy_oxide", "capacity", 4)) == (
        f"{EXAMPLE.parent / 'dec2026-tables.xlsx'}#Offers!I8",
        None,
    )


def test_shipped_workbook_is_what_export_tables_writes() -> None:
    """Regenerate with `sourcing export-tables scenarios/dec2026-baseline.yaml --to DIR
    --xlsx`, then copy DIR/dec2026-baseline.xlsx to scenarios/tables-example/ as
    dec2026-tables.xlsx (its bytes are stable: fixed dates, fixed order)."""
    written = export_files(load_scenario(BASELINE).scenario, BASELINE.name, xlsx=True)
    committed = (EXAMPLE.parent / "dec2026-tables.xlsx").read_bytes()
    assert _parts(committed) == _parts(written["dec2026-baseline.xlsx"])


@pytest.mark.slow
def test_shipped_example_gives_the_baselines_plan(tmp_path: Path) -> None:
    base = run_scenario(load_scenario(BASELINE).scenario, OPTIONS)
    example = run_scenario(load_scenario(EXAMPLE).scenario, OPTIONS)
    assert _plan_files(example, tmp_path / "example") == _plan_files(base, tmp_path / "base")
