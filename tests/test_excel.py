"""plan.xlsx (`run --excel`): sheets, frozen headers, numbers as numbers with units, totals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.io.run_folder import read_run
from optimizer.reports.excel import SHEETS, write_workbook
from optimizer.results.plan import COST_KEYS
from tests.conftest import CASES, SCENARIOS_2025, run_cli


@pytest.fixture(scope="module")
def robust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xlsx") / "robust"
    res = run_cli(["run", str(SCENARIOS_2025 / "robust-2025.yaml"), "--out", str(out), "--excel"]
    )
    assert res.exit_code == 0, res.output
    return out


def header(ws: Worksheet) -> list[str]:
    return [c.value for c in ws[1] if c.value is not None]


def labelled(ws: Worksheet) -> dict[str, tuple[object, str]]:
    """First-column label -> (value in column B, its number format)."""
    return {
        str(row[0].value): (row[1].value, row[1].number_format)
        for row in ws.iter_rows(min_row=2)
        if row[0].value is not None and len(row) > 1
    }


def test_sheets_headers_and_frozen_panes(robust: Path) -> None:
    wb = load_workbook(robust / "plan.xlsx")
    assert wb.sheetnames == list(SHEETS)
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.bold for c in ws[1] if c.value is not None), ws.title
        assert ws.column_dimensions["A"].width > 8, ws.title
    assert header(wb["Orders"]) == [
        "supplier",
        "country",
        "material",
        "kind",
        "order day",
        "order date",
        "arrival day",
        "arrival date",
        "arrival period",
        "quantity",
        "unit landed cost",
        "line total (reservations: the fee)",
        "licence needed",
        "place today",
        "call date (reservations)",
    ]
    assert header(wb["Plan"])[:4] == ["material", "supplier", "country", "period"]
    assert header(wb["Inventory"])[:4] == ["scenario", "probability", "material", "period"]
    assert header(wb["Shares"]) == ["material", "by", "name", "share", "volume"]
    assert header(wb["Scenario"])[:5] == ["supplier", "country", "material", "period", "price"]


def test_numbers_are_numbers_with_unit_formats(robust: Path) -> None:
    wb = load_workbook(robust / "plan.xlsx")
    orders = wb["Orders"]
    first = [c for c in orders[2]]
    assert isinstance(first[5].value, dt.datetime)  # order date is a date
    assert first[5].number_format == "yyyy-mm-dd"
    assert isinstance(first[7].value, dt.datetime)  # and so is the arrival date
    for cell, unit in zip(first[9:12], ('"t"', '"USD/t"', '"USD"'), strict=True):
        assert isinstance(cell.value, (int, float))
        assert cell.number_format.endswith(unit)
    numeric_text = [
        c.coordinate
        for ws in wb.worksheets
        for row in ws.iter_rows(min_row=2)
        for c in row
        if isinstance(c.value, str) and c.value.replace(".", "", 1).replace("-", "", 1).isdigit()
    ]
    assert numeric_text == []
    shares = wb["Shares"]
    assert all(r[3].number_format == "0.0%" for r in shares.iter_rows(min_row=2))


def test_totals_equal_summary_json(robust: Path) -> None:
    doc = json.loads((robust / "summary.json").read_text())
    wb = load_workbook(robust / "plan.xlsx")
    summary = labelled(wb["Summary"])
    assert summary["total cost (spend + penalties)"] == (
        pytest.approx(doc["total_cost"], rel=1e-12),
        '#,##0 "USD"',
    )
    assert summary["expected spend (money paid)"][0] == pytest.approx(doc["spend"], rel=1e-12)
    assert summary["expected penalties (modelled, not paid)"][0] == pytest.approx(
        doc["penalties"], rel=1e-12
    )
    assert summary["objective"][0] == pytest.approx(doc["objective"], rel=1e-12)
    assert summary["tail cost (CVaR 0.9)"][0] == pytest.approx(doc["cvar"]["cvar"], rel=1e-12)
    assert summary["status"][0] == doc["status"]
    for group, label in (("spend", "money spent"), ("penalties", "penalties (not paid)")):
        for key, value in doc["costs"][group].items():
            assert key in COST_KEYS
            got = summary[f"{label}: {key.replace('_', ' ')}"][0]
            assert got == pytest.approx(value, abs=1e-6)
    assert summary["total"][0] == pytest.approx(doc["total_cost"], rel=1e-12)
    orders = wb["Orders"]
    line_total = sum(r[11].value for r in orders.iter_rows(min_row=2))
    plan_cost = sum(r[8].value for r in wb["Plan"].iter_rows(min_row=2))
    assert line_total == pytest.approx(plan_cost, rel=1e-12)
    volume = {m: 0.0 for m in doc["materials"]}
    for r in wb["Shares"].iter_rows(min_row=2, values_only=True):
        if r[1] == "country":
            volume[str(r[0])] += float(r[4])
    for mid, k in doc["materials"].items():
        assert volume[mid] == pytest.approx(k["volume"], rel=1e-9)


def test_shadow_prices_sheet_has_units_and_ranges(robust: Path, tmp_path: Path) -> None:
    wb = load_workbook(robust / "plan.xlsx")
    ws = wb["Shadow prices"]
    run = read_run(robust)
    shadow = run.summary.shadow_prices
    assert shadow, "robust-2025 has binding caps and capacities"
    head = header(ws)
    assert head[:3] == ["relaxing a binding limit by one step", "constraint", "material"]
    assert ws.max_row == len(shadow) + 1
    column = head.index("saving per step")
    assert [r[column] for r in ws.iter_rows(min_row=2, values_only=True)] == pytest.approx(
        [rec.per_step for rec in shadow], rel=1e-12
    )
    limit, low, high = head.index("limit"), head.index("holds from"), head.index("holds to")
    for row, rec in zip(ws.iter_rows(min_row=2), shadow, strict=True):
        assert row[column].number_format == '#,##0 "USD"'
        unit = '"t/period"' if rec.constraint == "capacity" else "%"
        assert row[limit].number_format.endswith(unit)
        assert row[low].number_format == row[limit].number_format
        assert row[high].value is None or row[high].value >= row[limit].value - 1e-12
    summary = run.summary.model_copy(update={"shadow_prices": []})
    empty = tmp_path / "without-duals.xlsx"
    write_workbook(dataclasses.replace(run, summary=summary), empty)
    ws = load_workbook(empty)["Shadow prices"]
    assert header(ws) == ["note"]
    assert "No shadow prices" in str(ws["A2"].value)


def test_scenario_sheet_lists_offers_materials_and_policy(robust: Path) -> None:
    ws = load_workbook(robust / "plan.xlsx")["Scenario"]
    first_column = [r[0] for r in ws.iter_rows(values_only=True)]
    for section in ("Materials", "Settings and policy", "Disruptions and risks"):
        assert section in first_column
    settings = labelled(ws)
    assert settings["start (day 0)"][0] == dt.datetime(2025, 4, 1)
    assert settings["max supplier share"] == (0.8, "0.0%")


def test_excel_needs_out(tmp_path: Path) -> None:
    res = run_cli(["run", str(CASES / "licence_runway.yaml"), "--excel"])
    assert res.exit_code == 2
    assert "--excel needs --out" in res.output


def test_no_workbook_without_the_flag(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_cli(["run", str(CASES / "licence_runway.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert not (out / "plan.xlsx").exists()
    assert (out / "report.html").exists()
