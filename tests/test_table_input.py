"""Tables from spreadsheets (DESIGN §3.1, issue 17): suppliers, offers and demand from CSV
files and .xlsx sheets, combined with the YAML, strict at the cell.

Every rejection goes through `sourcing validate` (exit 2) and is matched on its
location, `FILE:LINE: column: ...` for a CSV file (the header is line 1) and
`book.xlsx#Sheet!C7: column: ...` for a sheet; lines are found by a fragment
of the row they are on.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from optimizer.io.load import load_scenario
from optimizer.io.tables import grid as table_grid
from optimizer.io.tables import reader as table_reader
from optimizer.io.tables import xlsx as table_xlsx
from optimizer.io.tables.kinds import IDS, NUMBER, PERIODS, SPECS, TEXT, UP_TO, column_kind
from optimizer.schema.scenario import Material, Offer, Scenario, Supplier
from tests.conftest import run_cli
from tests.test_loading_helpers import assert_rejected, line_of, problems, write

YAML = """\
name: t
horizon: {periods: 3, start: 2025-01-01}
tables:
  suppliers: suppliers.csv
  offers: offers.csv
  demand: demand.csv
materials:
  m: {shortage_cost: 1000}
  n: {shortage_cost: 500, holding_cost: 1}
"""
SUPPLIERS = """\
id,country,risk,lead_time_days,controlled_by
s,CN,0.5,30,
u,US,,0,"CN, MY"
"""
OFFERS = """\
supplier,material,price,capacity_1,capacity_2,capacity_3,min_order
s,m,5,20,20,20,
s,n,7,5,6,7,1
u,m,9,3,3,3,
"""
DEMAND = """\
material,demand_1,demand_2,demand_3
m,10,12,14
n,2,2,2
"""
# The same scenario written out in YAML.
EQUIVALENT = """\
name: t
horizon: {periods: 3, start: 2025-01-01}
materials:
  m: {shortage_cost: 1000, demand: [10, 12, 14]}
  n: {shortage_cost: 500, holding_cost: 1, demand: [2, 2, 2]}
suppliers:
  s:
    country: CN
    risk: 0.5
    lead_time_days: 30
    offers:
      m: {price: 5, capacity: [20, 20, 20]}
      n: {price: 7, capacity: [5, 6, 7], min_order: 1}
  u:
    country: US
    lead_time_days: 0
    controlled_by: [CN, MY]
    offers:
      m: {price: 9, capacity: [3, 3, 3]}
"""


def content(sc: Scenario) -> Scenario:
    """A scenario without the names of its tables: what it says, not where it says it."""
    return sc.model_copy(update={"tables": None})


def case(tmp_path: Path, **files: str) -> Path:
    """Write the scenario and its three tables (any of them replaced); return the YAML."""
    texts = {
        "s.yaml": YAML,
        "suppliers.csv": SUPPLIERS,
        "offers.csv": OFFERS,
        "demand.csv": DEMAND,
    }
    texts.update({k.replace("_", "."): v for k, v in files.items()})
    for name, text in texts.items():
        write(tmp_path, text, name)
    return tmp_path / "s.yaml"


def rejected(
    tmp_path: Path, file: str, text: str, fragment: str | None, column: str, *words: str
) -> str:
    """`validate` rejects the case with `file` replaced by `text`, at the line holding
    `fragment` (None: no line), in `column`."""
    path = case(tmp_path, **{file.replace(".", "_"): text})
    line = line_of(text, fragment) if fragment is not None else None
    return assert_rejected(path, line, column, *words, file=tmp_path / file)


def validate(path: Path, *args: str) -> tuple[int, str, str]:
    res = run_cli(["validate", str(path), *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout, res.stderr


# --- what a table holds ----------


def test_every_field_of_a_supplier_offer_and_material_is_a_column() -> None:
    """A field added to the schema is a column too (or this test says why not)."""
    for model, spec in ((Supplier, "suppliers"), (Offer, "offers"), (Material, "demand")):
        fields = SPECS[spec].fields
        assert set(fields) == set(model.model_fields) - {"offers"}, spec
    kinds = {**SPECS["suppliers"].fields, **SPECS["offers"].fields, **SPECS["demand"].fields}
    assert kinds["country"] == TEXT
    assert kinds["controlled_by"] == IDS
    assert kinds["risk"] == NUMBER
    assert kinds["price"] == kinds["demand"] == kinds["reservation_fee"] == PERIODS
    assert kinds["inbound"] == UP_TO
    assert SPECS["offers"].required == ("price", "capacity")
    assert SPECS["suppliers"].required == ("country",)
    assert column_kind(dict[str, int]) is None


def test_tables_give_the_same_scenario_as_yaml(tmp_path: Path) -> None:
    tabled = load_scenario(case(tmp_path))
    plain = load_scenario(write(tmp_path, EQUIVALENT, "plain.yaml"))
    assert content(tabled.scenario) == plain.scenario
    assert tabled.content_hash() == plain.content_hash()
    assert tabled.scenario.suppliers["u"].controlled_by == ["CN", "MY"]
    assert tabled.scenario.suppliers["u"].risk is None  # an empty optional cell: the default


def test_validate_accepts_tables(tmp_path: Path) -> None:
    code, out, err = validate(case(tmp_path))
    assert (code, err) == (0, "")
    assert "2 materials, 2 suppliers, 3 periods" in out


def test_long_tables_by_period_and_by_date(tmp_path: Path) -> None:
    offers = (
        "supplier,material,period,price,capacity,min_order\n"
        + "".join(f"s,m,{p},5,20,\n" for p in (3, 1, 2))
        + "".join(f"s,n,{p},7,{4 + p},1\n" for p in (1, 2, 3))
        + "".join(f"u,m,{p},9,3,\n" for p in (1, 2, 3))
    )
    demand = "material,date,demand\n" + "".join(
        f"{m},{d},{v}\n"
        for m, values in (("m", (10, 12, 14)), ("n", (2, 2, 2)))
        for d, v in zip(("2025-01-01", "2025-01-31", "2025-03-15"), values, strict=True)
    )
    tabled = load_scenario(case(tmp_path, offers_csv=offers, demand_csv=demand)).scenario
    # in a long table a per-period field is a list over the periods, whatever its values
    plain = (
        EQUIVALENT.replace("price: 5,", "price: [5, 5, 5],")
        .replace("price: 7,", "price: [7, 7, 7],")
        .replace("price: 9,", "price: [9, 9, 9],")
    )
    assert content(tabled) == load_scenario(write(tmp_path, plain, "plain.yaml")).scenario


def test_one_value_or_one_per_period_row_by_row(tmp_path: Path) -> None:
    offers = OFFERS.replace("min_order", "min_order,price_1,price_2,price_3").replace(
        "s,n,7,5,6,7,1", "s,n,,5,6,7,1,7,8,9"
    )
    sc = load_scenario(case(tmp_path, offers_csv=offers)).scenario
    assert sc.suppliers["s"].offers["n"].price == [7.0, 8.0, 9.0]
    assert sc.suppliers["s"].offers["m"].price == 5.0


def test_inbound_empty_periods_are_zero_and_trailing_ones_dropped(tmp_path: Path) -> None:
    demand = "material,demand,inbound_1,inbound_2,inbound_3\nm,10,,4,\nn,2,1,,\n"
    sc = load_scenario(case(tmp_path, demand_csv=demand)).scenario
    assert sc.materials["m"].inbound == [0.0, 4.0]
    assert sc.materials["n"].inbound == [1.0]


def test_tables_and_yaml_combine(tmp_path: Path) -> None:
    """The YAML keeps a supplier's terms; the tables add its risk, an offer and demand."""
    yaml = YAML + "suppliers:\n  s:\n    country: CN\n    freight: 100\n"
    suppliers = "id,country,risk\ns,,0.5\nu,US,\n"
    sc = load_scenario(case(tmp_path, s_yaml=yaml, suppliers_csv=suppliers)).scenario
    assert sc.suppliers["s"].freight == 100
    assert sc.suppliers["s"].risk == 0.5
    assert sc.suppliers["s"].country == "CN"
    assert set(sc.suppliers["s"].offers) == {"m", "n"}


def test_semicolon_separated_csv(tmp_path: Path) -> None:
    """The European Excel "CSV": `;` between cells (a header without commas says so)."""
    demand = "material;demand_1;demand_2;demand_3\nm;10;12;14\nn;2;2;2\n"
    assert load_scenario(case(tmp_path, demand_csv=demand)).scenario.materials["m"].demand == [
        10.0,
        12.0,
        14.0,
    ]


def test_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    path = case(tmp_path)
    (tmp_path / "offers.csv").write_bytes(b"\xef\xbb\xbf" + OFFERS.replace("\n", "\r\n").encode())
    assert len(load_scenario(path).scenario.suppliers) == 2


# --- strict, at the cell ----------


@pytest.mark.parametrize(
    ("file", "old", "new", "column", "words"),
    [
        ("offers.csv", "s,m,5,", "s,m,5.5.5,", "price", ["must be a number, not text"]),
        ("offers.csv", "s,m,5,", 's,m,"12,5",', "price", ["decimal separator: 12.5", "'12,5'"]),
        ("offers.csv", "s,m,5,", "s,m,1e3 t,", "price", ["remove the unit 't'"]),
        ("offers.csv", "s,m,5,", 's,m,"56,000",', "price", ["write 56000 without thousands"]),
        ("offers.csv", "s,m,5,", "s,m,$5,", "price", ["currency sign"]),
        ("offers.csv", "s,m,5,", "s,m, 5,", "price", ["remove the spaces"]),
        ("offers.csv", "s,m,5,", "s,m,nan,", "price", ["finite"]),
        ("offers.csv", "s,m,5,", "s,m,=1+2,", "price", ["not text", "'=1+2'"]),
        ("suppliers.csv", "s,CN,0.5", "s,CN,35%", "risk", ["write fractions as 0.35, not 35%"]),
        ("suppliers.csv", "s,CN,0.5", "s,CN,35", "risk", ["did you mean 0.35 for 35%?"]),
        ("offers.csv", "s,m,5,", "s,m,-5,", "price", ["must be >= 0 (got -5)"]),
        ("offers.csv", "s,n,7,5,6,7,1", "s,n,7,5,-6,7,1", "capacity_2", ["must be >= 0 (got -6)"]),
        ("demand.csv", "m,10,12,14", "m,10,12,-1", "demand_3", ["must be >= 0 (got -1)"]),
        ("offers.csv", "s,m,5,20,20,20,", "s,m,5,20,,20,", "capacity_2", ["period 2 empty"]),
        ("offers.csv", "s,m,5,", "s,m,,", "price", ["required cell is empty", "not in the YAML"]),
        ("offers.csv", "u,m,9", ",m,9", "supplier", ["required cell is empty"]),
        ("offers.csv", "u,m,9", "v,m,9", "supplier", ["unknown supplier 'v'"]),
        ("offers.csv", "u,m,9", "u,mm,9", "material", ["unknown material 'mm'", "'m'"]),
        ("offers.csv", "u,m,9,3,3,3,", "s,m,9,3,3,3,", "material", ["duplicate row", "line 2"]),
        ("suppliers.csv", "u,US", "s,US", "id", ["duplicate row: id 's' (first on line 2)"]),
        ("demand.csv", "n,2,2,2", "x,2,2,2", "material", ["unknown material 'x'"]),
        ("suppliers.csv", "u,US", "u u,US", "id", ["letters, digits"]),
        ("suppliers.csv", "u,US", "u,U S", "country", ["letters, digits"]),
        ("offers.csv", "s,m,5,20,20,20,", "s,m,5,20,20,20,,9", "column 8", ["beyond the last"]),
    ],
)
def test_bad_cells_are_errors_at_their_cell(
    tmp_path: Path, file: str, old: str, new: str, column: str, words: list[str]
) -> None:
    text = {"offers.csv": OFFERS, "suppliers.csv": SUPPLIERS, "demand.csv": DEMAND}[file]
    assert old in text
    text = text.replace(old, new, 1)
    rejected(tmp_path, file, text, new, column, *words)


@pytest.mark.parametrize(
    ("file", "old", "new", "column", "words"),
    [
        ("offers.csv", "min_order", "min_ordr", "min_ordr", ["did you mean 'min_order'?"]),
        ("offers.csv", "min_order", "colour", "colour", ["unknown column; allowed: supplier"]),
        ("offers.csv", "min_order", "price", "price", ["duplicate column (also column 3)"]),
        ("offers.csv", "min_order", "capacity_4", "capacity_4", ["horizon has 3 periods"]),
        ("offers.csv", "min_order", "min_order_1", "min_order_1", ["one value per offer"]),
        ("offers.csv", "capacity_2", "capacity_9", "capacity", ["missing column capacity_2"]),
        ("offers.csv", "supplier,", "vendor,", "supplier", ["missing required column"]),
        ("suppliers.csv", "controlled_by", "offers", "offers", ["from the offers table"]),
        ("suppliers.csv", "controlled_by", "period", "period", ["no per-period fields"]),
        ("demand.csv", "demand_2", "demand_9", "demand", ["missing column demand_2"]),
    ],
)
def test_bad_headers_are_errors_at_line_one(
    tmp_path: Path, file: str, old: str, new: str, column: str, words: list[str]
) -> None:
    text = {"offers.csv": OFFERS, "suppliers.csv": SUPPLIERS, "demand.csv": DEMAND}[file]
    rejected(tmp_path, file, text.replace(old, new, 1), new.rstrip(","), column, *words)


def test_missing_required_column(tmp_path: Path) -> None:
    offers = "supplier,material,price\ns,m,5\ns,n,7\nu,m,9\n"
    rejected(
        tmp_path,
        "offers.csv",
        offers,
        "supplier,",
        "capacity",
        "missing required column",
        "supplier 's', material 'm' (line 2) and 2 more rows",
    )


def test_required_column_may_be_left_to_the_yaml(tmp_path: Path) -> None:
    """No `country` column: the suppliers are in the YAML with their country."""
    yaml = YAML + "suppliers:\n  s: {country: CN}\n  u: {country: US}\n"
    path = case(tmp_path, s_yaml=yaml, suppliers_csv="id,risk\ns,0.5\nu,0.1\n")
    assert load_scenario(path).scenario.suppliers["u"].country == "US"


def test_value_in_yaml_and_table_names_both_places(tmp_path: Path) -> None:
    yaml = YAML + "suppliers:\n  s:\n    country: CN\n    risk: 0.4  # <-\n"
    line = line_of(yaml)
    path = case(tmp_path, s_yaml=yaml, suppliers_csv=SUPPLIERS.replace("s,CN", "s,"))
    assert_rejected(
        path,
        2,
        "risk",
        f"given both here and in {path}:{line} (suppliers.s.risk)",
        file=tmp_path / "suppliers.csv",
    )


def test_supplier_without_offers(tmp_path: Path) -> None:
    suppliers = SUPPLIERS + "w,DE,,,\n"
    rejected(tmp_path, "suppliers.csv", suppliers, "w,DE", "id", "'w' has no offers")


def test_cross_reference_problems_point_at_the_cell(tmp_path: Path) -> None:
    offers = OFFERS.replace("min_order", "min_order,exercise_price").replace(
        "u,m,9,3,3,3,", "u,m,9,3,3,3,,10"
    )
    rejected(tmp_path, "offers.csv", offers, "u,m,9", "exercise_price", "give a reservation_fee")


# --- long tables ----------

LONG_DEMAND = (
    "material,period,demand,holding_cost\nm,1,10,\nm,2,12,\nm,3,14,\nn,1,2,\nn,2,2,\nn,3,2,\n"
)


@pytest.mark.parametrize(
    ("old", "new", "column", "words"),
    [
        ("m,3,14,", "m,4,14,", "period", ["between 1 and 3"]),
        ("m,3,14,", "m,0,14,", "period", ["between 1 and 3"]),
        ("m,3,14,", "m,three,14,", "period", ["period number"]),
        ("m,3,14,", "m,2,14,", "period", ["duplicate row: period 2", "also on line 3"]),
        ("m,3,14,", "m,,14,", "period", ["required cell is empty"]),
        ("m,3,14,", "m,3,,", "demand", ["other rows give demand"]),
        ("n,3,2,", "n,3,2,5", "holding_cost", ["given both here and in"]),
    ],
)
def test_long_table_errors(
    tmp_path: Path, old: str, new: str, column: str, words: list[str]
) -> None:
    rejected(tmp_path, "demand.csv", LONG_DEMAND.replace(old, new), new, column, *words)


def test_long_table_missing_periods(tmp_path: Path) -> None:
    text = LONG_DEMAND.replace("m,2,12,\n", "")
    rejected(tmp_path, "demand.csv", text, "m,1,10", "period", "no row for period 2")


def test_long_table_one_value_fields_must_agree(tmp_path: Path) -> None:
    yaml = YAML.replace("n: {shortage_cost: 500, holding_cost: 1}", "n: {shortage_cost: 500}")
    text = LONG_DEMAND.replace("n,1,2,", "n,1,2,1").replace("n,3,2,", "n,3,2,2")
    path = case(tmp_path, s_yaml=yaml, demand_csv=text)
    assert_rejected(
        path, 7, "holding_cost", "differs from line 5 (1)", file=tmp_path / "demand.csv"
    )
    text = LONG_DEMAND.replace("n,1,2,", "n,1,2,1").replace("n,3,2,", "n,3,2,1")
    sc = load_scenario(case(tmp_path, s_yaml=yaml, demand_csv=text)).scenario
    assert sc.materials["n"].holding_cost == 1


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("2024-12-31", ["2024-12-31 lies outside the horizon (2025-01-01 to 2025-03-31"]),
        ("2025-04-01", ["lies outside the horizon"]),
        ("2025-02-30", ["YYYY-MM-DD"]),
        ("01/02/2025", ["YYYY-MM-DD"]),
    ],
)
def test_dates_outside_the_horizon(tmp_path: Path, date: str, words: list[str]) -> None:
    text = "material,date,demand\nm,2025-01-01,10\nm,2025-02-01,12\nm,DATE,14\nn,2025-01-01,2\n"
    text = text.replace("DATE", date)
    rejected(tmp_path, "demand.csv", text, date, "date", *words)


def test_date_column_needs_a_start(tmp_path: Path) -> None:
    yaml = YAML.replace(", start: 2025-01-01", "")
    path = case(tmp_path, s_yaml=yaml, demand_csv="material,date,demand\nm,2025-01-01,1\n")
    assert_rejected(path, 1, "date", "set horizon.start", file=tmp_path / "demand.csv")


def test_long_table_with_period_columns(tmp_path: Path) -> None:
    text = "material,period,demand,inbound_1\nm,1,10,1\n"
    rejected(tmp_path, "demand.csv", text, "material", "inbound_1", "one row per period")


# --- all at once, nothing written ----------


def test_every_problem_of_every_table_at_once(tmp_path: Path) -> None:
    yaml = YAML.replace("shortage_cost: 1000", "shortage_cost: -1")
    path = case(
        tmp_path,
        s_yaml=yaml,
        suppliers_csv=SUPPLIERS.replace("s,CN,0.5", "s,CN,50"),
        offers_csv=OFFERS.replace("s,m,5,", "s,m,x,").replace("u,m,9", "u,m,-9"),
        demand_csv=DEMAND.replace("n,2,2,2", "n,2,2,2,7"),
    )
    found = [str(p) for p in problems(path)]
    assert [p.split(": ")[0] + ": " + p.split(": ")[1] for p in found] == [
        f"{path}:8: materials.m.shortage_cost",
        f"{tmp_path / 'suppliers.csv'}:2: risk",
        f"{tmp_path / 'offers.csv'}:2: price",
        f"{tmp_path / 'offers.csv'}:4: price",
        f"{tmp_path / 'demand.csv'}:3: column 5",
    ]
    out = tmp_path / "out"
    res = run_cli(["run", str(path), "--out", str(out)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 5
    assert not out.exists()


def test_validate_json_lists_cells(tmp_path: Path) -> None:
    path = case(tmp_path, offers_csv=OFFERS.replace("s,m,5,", "s,m,-5,"))
    code, out, _ = validate(path, "--json")
    assert code == 2
    (problem,) = json.loads(out)[0]["problems"]
    assert problem == {
        "file": str(tmp_path / "offers.csv"),
        "line": 2,
        "path": "price",
        "message": "must be >= 0",
        "got": "-5",
    }


def test_warnings_point_at_the_cell(tmp_path: Path) -> None:
    suppliers = SUPPLIERS.replace("id,country,risk", "id,country,tariff")
    code, _, err = validate(case(tmp_path, suppliers_csv=suppliers.replace("s,CN,0.5", "s,CN,1.5")))
    assert code == 0
    assert err.startswith(f"warning: {tmp_path / 'suppliers.csv'}:2: tariff: a tariff of 1.5")


def test_locate_finds_the_cell(tmp_path: Path) -> None:
    """Infeasibility explanations and stress breaches name the cell that set a value."""
    yaml = YAML + "suppliers:\n  s:\n    country: CN\n    freight: 1\n"
    loaded = load_scenario(
        case(tmp_path, s_yaml=yaml, suppliers_csv="id,country,risk\ns,,0.5\nu,US,\n")
    )
    offers = str(tmp_path / "offers.csv")
    assert loaded.locate(("suppliers", "s", "offers", "n", "capacity", 1)) == (offers, 3)
    assert loaded.locate(("suppliers", "u", "offers", "m", "price")) == (offers, 4)
    assert loaded.locate(("suppliers", "s", "risk")) == (str(tmp_path / "suppliers.csv"), 2)
    assert loaded.locate(("suppliers", "s", "freight")) == (str(tmp_path / "s.yaml"), 13)
    assert loaded.locate(("materials", "m", "shortage_cost")) == (str(tmp_path / "s.yaml"), 8)


# --- the files themselves ----------


def test_missing_table_file_is_reported_at_the_yaml_line(tmp_path: Path) -> None:
    path = case(tmp_path)
    (tmp_path / "offers.csv").unlink()
    found = problems(path)
    assert [str(p) for p in found] == [
        f"{path}:5: tables.offers: {tmp_path / 'offers.csv'}: no such file (got 'offers.csv')"
    ]  # and no noise about the offers and suppliers it would have given


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("offers.txt", "must be a .csv file or a sheet"),
        ("offers.xlsm#Offers", "only .xlsx workbooks"),
        ("offers.xls", "only .xlsx workbooks"),
        ("offers.csv#Offers", "only in an .xlsx workbook"),
    ],
)
def test_table_kinds(tmp_path: Path, ref: str, words: str) -> None:
    path = case(tmp_path, s_yaml=YAML.replace("offers: offers.csv", f"offers: {ref}"))
    assert_rejected(path, 5, "tables.offers", words)


def test_unknown_key_under_tables(tmp_path: Path) -> None:
    path = case(tmp_path, s_yaml=YAML.replace("  offers: offers.csv", "  offer: offers.csv"))
    assert_rejected(path, 5, "tables.offer", "did you mean 'offers'")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"supplier,material\n\xe9\n", "line 2: not valid UTF-8"),
        (b"supplier,material\ns,\x00\n", "NUL byte"),
        (b"\xff\xfes\x00", "UTF-16"),
        (b"", "line 1 must be the header"),
    ],
)
def test_unreadable_csv(tmp_path: Path, content: bytes, words: str) -> None:
    path = case(tmp_path)
    (tmp_path / "offers.csv").write_bytes(content)
    assert_rejected(path, 5, "tables.offers", words)


def test_broken_quoting_is_reported_at_its_line(tmp_path: Path) -> None:
    text = OFFERS + 's,"m,1,1,1,1,\n'
    path = case(tmp_path, offers_csv=text)
    code, _, err = validate(path)
    assert code == 2
    assert f"{tmp_path / 'offers.csv'}:5: not valid CSV" in err


def test_size_and_row_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = case(tmp_path)
    monkeypatch.setattr(table_grid, "MAX_TABLE_BYTES", 50)
    assert_rejected(path, 5, "tables.offers", "file is too large", "the limit is 50")
    monkeypatch.setattr(table_grid, "MAX_TABLE_BYTES", 10_000)
    monkeypatch.setattr(table_reader, "MAX_ROWS", 2)
    assert_rejected(path, 4, "", "more than 2 rows", file=tmp_path / "offers.csv")


def test_paths_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    """A parent names its tables next to itself; a child replaces one, next to itself."""
    base = case(tmp_path / "base")
    write(tmp_path, "name: child\nextends: base/s.yaml\ntables: {demand: demand.csv}\n", "c.yaml")
    write(tmp_path, DEMAND.replace("m,10,12,14", "m,1,1,1"), "demand.csv")
    sc = load_scenario(tmp_path / "c.yaml").scenario
    assert sc.materials["m"].demand == [1.0, 1.0, 1.0]
    assert sc.suppliers["s"].offers["m"].price == 5.0
    assert load_scenario(base).scenario.materials["m"].demand == [10.0, 12.0, 14.0]
    write(tmp_path, "name: child\nextends: base/s.yaml\ntables: {demand: null}\n", "c.yaml")
    found = problems(tmp_path / "c.yaml")
    assert [p.path for p in found] == ["materials.m.demand", "materials.n.demand"]


# --- Excel ----------


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def book_rows() -> dict[str, list[list[object]]]:
    return {
        "Suppliers": [["id", "country", "risk", "lead_time_days", "controlled_by"],
                      ["s", "CN", 0.5, 30, None], ["u", "US", None, 0, "CN MY"]],
        "Offers": [["supplier", "material", "price", "capacity_1", "capacity_2", "capacity_3",
                    "min_order"],
                   ["s", "m", 5, 20, 20, 20, None], ["s", "n", 7, 5, 6, 7, 1],
                   ["u", "m", 9, 3, 3, 3, None]],
        "Demand": [["material", "date", "demand"],
                   *[[m, dt.datetime(2025, 1, 1) + dt.timedelta(days=30 * k), v]
                     for m, vs in (("m", (10, 12, 14)), ("n", (2, 2, 2)))
                     for k, v in enumerate(vs)]],
    }  # fmt: skip


XLSX_YAML = (
    YAML.replace("suppliers.csv", "book.xlsx#Suppliers")
    .replace("offers.csv", "book.xlsx#Offers")
    .replace("demand.csv", "book.xlsx#Demand")
)


def xlsx_case(tmp_path: Path, **changes: tuple[int, int, object]) -> Path:
    rows = book_rows()
    for sheet, (r, c, value) in changes.items():
        rows[sheet][r - 1][c - 1] = value
    workbook(tmp_path / "book.xlsx", rows)
    return write(tmp_path, XLSX_YAML, "x.yaml")


def test_workbook_gives_the_same_scenario(tmp_path: Path) -> None:
    sc = load_scenario(xlsx_case(tmp_path)).scenario
    assert content(sc) == load_scenario(write(tmp_path, EQUIVALENT, "plain.yaml")).scenario


@pytest.mark.parametrize(
    ("sheet", "row", "col", "value", "cell", "column", "words"),
    [
        ("Offers", 2, 3, -5, "C2", "price", ["must be >= 0 (got -5)"]),
        ("Offers", 2, 3, "5", "C2", "price", ["the cell holds text; convert it to a number"]),
        ("Offers", 2, 3, "=1+2", "C2", "price", ["formula without a saved value", "=1+2"]),
        ("Offers", 2, 3, True, "C2", "price", ["not TRUE/FALSE"]),
        ("Offers", 3, 5, dt.datetime(2025, 1, 1), "E3", "capacity_2", ["not a date"]),
        ("Offers", 3, 5, None, "E3", "capacity_2", ["period 2 empty"]),
        ("Suppliers", 2, 3, 35, "C2", "risk", ["did you mean 0.35"]),
        ("Suppliers", 3, 1, 1.5, "A3", "id", ["must be text"]),
        ("Demand", 4, 2, dt.datetime(2025, 6, 1), "B4", "date", ["lies outside the horizon"]),
        ("Demand", 4, 2, "1 March", "B4", "date", ["YYYY-MM-DD"]),
    ],
)
def test_bad_cells_of_a_sheet(
    tmp_path: Path,
    sheet: str,
    row: int,
    col: int,
    value: object,
    cell: str,
    column: str,
    words: list[str],
) -> None:
    path = xlsx_case(tmp_path, **{sheet: (row, col, value)})
    assert_rejected(path, None, column, *words, file=f"{tmp_path / 'book.xlsx'}#{sheet}!{cell}")


def test_whole_number_ids_in_a_sheet_read_as_text(tmp_path: Path) -> None:
    rows = book_rows()
    rows["Suppliers"][2][0] = 2024
    rows["Offers"][3][0] = 2024
    workbook(tmp_path / "book.xlsx", rows)
    sc = load_scenario(write(tmp_path, XLSX_YAML, "x.yaml")).scenario
    assert "2024" in sc.suppliers


def _patch_sheet(book: Path, sheet_no: int, old: bytes, new: bytes) -> None:
    """Rewrite one sheet's XML inside a workbook (to store what openpyxl cannot write)."""
    tmp = book.with_suffix(".tmp")
    name = f"xl/worksheets/sheet{sheet_no}.xml"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == name:
                assert old in data, data[:2000]
                data = data.replace(old, new)
            dst.writestr(info, data)
    shutil.move(tmp, book)


def test_formula_with_a_saved_value_is_read_as_that_value(tmp_path: Path) -> None:
    path = xlsx_case(tmp_path, Offers=(2, 3, "=2+3"))
    _patch_sheet(tmp_path / "book.xlsx", 2, b"<f>2+3</f><v />", b"<f>2+3</f><v>5</v>")
    assert load_scenario(path).scenario.suppliers["s"].offers["m"].price == 5


def test_formula_with_an_error_value(tmp_path: Path) -> None:
    path = xlsx_case(tmp_path, Offers=(2, 3, "=1/0"))
    _patch_sheet(
        tmp_path / "book.xlsx",
        2,
        b'<c r="C2"><f>1/0</f><v />',
        b'<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v>',
    )
    assert_rejected(
        path, None, "price", "Excel error #DIV/0!", file=f"{tmp_path / 'book.xlsx'}#Offers!C2"
    )


def test_formula_whose_saved_value_is_empty_text_is_an_empty_cell(tmp_path: Path) -> None:
    path = xlsx_case(tmp_path, Suppliers=(2, 3, '=""'))
    _patch_sheet(
        tmp_path / "book.xlsx",
        1,
        b'<c r="C2"><f>""</f><v />',
        b'<c r="C2" t="str"><f>""</f><v></v>',
    )
    assert load_scenario(path).scenario.suppliers["s"].risk is None


def test_missing_sheet_suggests_the_name(tmp_path: Path) -> None:
    xlsx_case(tmp_path)
    path = write(tmp_path, XLSX_YAML.replace("#Demand", "#Demnd"), "x.yaml")
    found = problems(path)
    assert [str(p) for p in found] == [
        f"{path}:6: tables.demand: {tmp_path / 'book.xlsx'}: has no sheet 'Demnd'; did you mean "
        "'Demand'? (sheets: Suppliers, Offers, Demand) (got 'book.xlsx#Demnd')"
    ]


def test_sheet_may_be_left_out_of_a_one_sheet_workbook(tmp_path: Path) -> None:
    workbook(tmp_path / "demand.xlsx", {"Forecast": book_rows()["Demand"]})
    path = case(tmp_path, s_yaml=YAML.replace("demand.csv", "demand.xlsx"))
    assert load_scenario(path).scenario.materials["m"].demand == [10.0, 12.0, 14.0]
    xlsx_case(tmp_path)
    path = case(tmp_path, s_yaml=YAML.replace("demand.csv", "book.xlsx"))
    assert_rejected(path, 6, "tables.demand", "has 3 sheets", "name one: ")


def test_header_must_be_in_row_one(tmp_path: Path) -> None:
    rows = book_rows()
    rows["Offers"].insert(0, [None])
    workbook(tmp_path / "book.xlsx", rows)
    path = write(tmp_path, XLSX_YAML, "x.yaml")
    assert_rejected(path, 5, "tables.offers", "row 1 must be the header")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"supplier,material\ns,m\n", "is not an Excel workbook"),
        (None, "is not a readable .xlsx workbook"),
    ],
)
def test_not_a_workbook(tmp_path: Path, content: bytes | None, words: str) -> None:
    book = tmp_path / "book.xlsx"
    if content is None:
        with zipfile.ZipFile(book, "w") as z:
            z.writestr("hello.txt", "not a workbook")
    else:
        book.write_bytes(content)
    assert_rejected(write(tmp_path, XLSX_YAML, "x.yaml"), 4, "tables.suppliers", words)


def _patch_part(book: Path, part: str, old: bytes, new: bytes) -> None:
    tmp = book.with_suffix(".tmp")
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == part:
                assert old in data, data[:500]
                data = data.replace(old, new, 1)
            dst.writestr(info, data)
    shutil.move(tmp, book)


BOMB = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
)


@pytest.mark.parametrize(
    ("part", "tag", "line", "where"),
    [
        ("xl/worksheets/sheet2.xml", b"<worksheet", 5, "tables.offers: {book}: sheet 'Offers'"),
        ("xl/workbook.xml", b"<workbook", 4, "tables.suppliers: {book}: is not a readable"),
    ],
)
def test_xml_entities_are_refused(
    tmp_path: Path, part: str, tag: bytes, line: int, where: str
) -> None:
    """A billion-laughs part is refused, not expanded; a broken workbook is named once."""
    path = xlsx_case(tmp_path)
    _patch_part(tmp_path / "book.xlsx", part, tag, BOMB + tag)
    code, _, err = validate(path)
    assert code == 2
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{path}:{line}: {where.format(book=tmp_path / 'book.xlsx')}")
    assert "it declares XML entities or a DTD, which are not allowed" in lines[0]


def test_zip_bomb_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = xlsx_case(tmp_path)
    monkeypatch.setattr(table_xlsx, "MAX_UNPACKED_BYTES", 1000)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl was called")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    assert_rejected(path, 4, "tables.suppliers", "unpacks to", "the limit is 1,000")


def test_macros_are_never_read(tmp_path: Path) -> None:
    """A workbook carrying a VBA project is read for its cell values only."""
    path = xlsx_case(tmp_path)
    with zipfile.ZipFile(tmp_path / "book.xlsx", "a") as z:
        z.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert len(load_scenario(path).scenario.suppliers) == 2


# --- the sheet reader against openpyxl -------------------------------------------------


def _shared_strings(book: Path) -> None:
    """Move a sheet's inline strings into a shared-string table, as Excel writes them."""
    import re

    strings: list[str] = []  # index 0: "rich", in two runs and with a phonetic guide

    def shared(match: re.Match[bytes]) -> bytes:
        text = match.group(2).decode()
        if text == "rich":
            return b'<c r="%s" t="s"><v>0</v></c>' % match.group(1)
        strings.append(text)
        return b'<c r="%s" t="s"><v>%d</v></c>' % (match.group(1), len(strings))

    tmp = book.with_suffix(".tmp")
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>([^<]*)</t></is></c>',
                    shared,
                    data,
                )
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            dst.writestr(info, data)
        items = "".join(f"<si><t>{s}</t></si>" for s in strings)
        dst.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<si><r><t>ri</t></r><r><t>ch</t></r><rPh sb="0" eb="1"><t>X</t></rPh></si>'
            f"{items}</sst>",
        )
    shutil.move(tmp, book)
    assert strings


@pytest.mark.parametrize("shared", [False, True], ids=["inline-strings", "shared-strings"])
def test_sheet_reader_reads_what_openpyxl_reads(tmp_path: Path, shared: bool) -> None:
    rows: list[list[object]] = [
        ["text", "number", "whole", "flag", "when", "far"],
        ["Größe &amp; <b>", 0.1, 12, True, dt.datetime(2025, 1, 31), None],
        ["  spaced  ", 1e-7, -5, False, dt.datetime(2025, 2, 1, 12, 30), "x"],
        [None, 123456789.123, 10**15, None, dt.date(2024, 2, 29), None],
        ["id-1", 1e20, 0, None, None, "rich"],
    ]
    book = workbook(tmp_path / "b.xlsx", {"S": rows})
    ws = openpyxl.load_workbook(book)["S"]
    ws.cell(7, 30, "far right")
    ws.cell(9, 2, 3.5)
    ws.parent.save(book)
    if shared:
        _shared_strings(book)
    sheet = openpyxl.load_workbook(book, read_only=True, data_only=True)["S"]
    expected = [
        (number, list(values))
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1)
        if any(v is not None for v in values)
    ]
    reader = table_xlsx.Workbook(book)
    try:
        grid = reader.grid("S", "b.xlsx")
        ours = [(1, grid.header), *grid.rows]
    finally:
        reader.close()
    trimmed = [(r, _trim(v)) for r, v in expected]
    assert [(r, _trim(v)) for r, v in ours] == trimmed
    assert ours[1][1][0] == "Größe &amp; <b>"


def _trim(values: list[object]) -> list[object]:
    values = list(values)
    while values and values[-1] is None:
        values.pop()
    return values


# --- documentation and schema --------------------------------------------------------------


def test_readme_lists_every_column() -> None:
    """The README's columns table names every column a table accepts."""
    from tests.conftest import ROOT

    text = (ROOT / "README.md").read_text()
    section = text.split("## Keeping data in spreadsheets")[1].split("\n## ")[0]
    rows = {line.split("|")[1].strip(" `"): line for line in section.splitlines()
            if line.startswith("| `")}  # fmt: skip
    assert set(rows) == set(SPECS)
    for name, spec in SPECS.items():
        for column in (*spec.keys, *spec.fields, *dict(spec.aliases)):
            assert f"`{column}`" in rows[name], (name, column)


def test_json_schema_describes_tables() -> None:
    from optimizer.schema.scenario import json_schema

    schema = json_schema()
    assert schema["properties"]["tables"]["anyOf"][0] == {"$ref": "#/definitions/Tables"}
    tables = schema["definitions"]["Tables"]
    assert set(tables["properties"]) == {"suppliers", "offers", "demand"}
    assert tables["additionalProperties"] is False
    assert "price_1" in tables["properties"]["offers"]["description"]


def test_run_writes_the_resolved_scenario_without_tables(tmp_path: Path) -> None:
    """`run --out` of a scenario with tables: the resolved scenario spells the values out."""
    import yaml

    out = tmp_path / "run"
    res = run_cli(["run", str(case(tmp_path)), "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert "tables" not in resolved
    assert resolved["suppliers"]["s"]["offers"]["n"]["capacity"] == [5.0, 6.0, 7.0]
    again = load_scenario(out / "scenario.resolved.yaml")
    assert again.content_hash() == load_scenario(case(tmp_path)).content_hash()
