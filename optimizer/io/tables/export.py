"""A scenario's suppliers, offers and demand as tables (DESIGN §3.1, `sourcing export-tables`).

`export_files` turns a scenario into the files of a table-driven copy of it:
three tables (CSV files, or the sheets Suppliers, Offers and Demand of one
.xlsx workbook) and a small YAML file that names them and holds everything
else. Loading that YAML gives the same scenario, value for value: what a field
says once is one column (`price`), what it says per period is one column per
period (`price_1 ... price_P`), and a field that a supplier, offer or material
does not set is an empty cell (its default), so that nothing is spelled out
that the original left to a default. The demand table holds each material's
per-period quantities (`demand`, `inbound`); the other material fields stay in
the YAML.

Cells hold numbers and ids only (letters, digits, `-` and `_`), so no cell can
be read as a formula by a spreadsheet; a workbook is written with the same
bytes for the same scenario (fixed timestamps), so that it can be kept under
version control.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from optimizer.io.tables.kinds import IDS, PERIODS, SPECS, UP_TO
from optimizer.io.yaml_reader import dump_yaml
from optimizer.schema.scenario import Scenario

SHEETS = {"suppliers": "Suppliers", "offers": "Offers", "demand": "Demand"}
CSV_FILES = {"suppliers": "suppliers.csv", "offers": "offers.csv", "demand": "demand.csv"}
FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # zip entries and document dates of a written workbook


@dataclass(frozen=True)
class Table:
    """One table: its column names and rows (numbers, text, None for an empty cell)."""

    columns: list[str]
    rows: list[list[Any]]


def _per_period_fields(kind: str) -> list[str]:
    return [n for n, k in SPECS[kind].fields.items() if k in (PERIODS, UP_TO)]


def _field_columns(
    entries: list[dict[str, Any]], fields: dict[str, str], periods: int
) -> list[tuple[str, str, int | None]]:
    """(column, field, period index or None) for the fields that any entry sets: one
    column for a value given once, one per period for a list (as long as the longest)."""
    out: list[tuple[str, str, int | None]] = []
    for name, kind in fields.items():
        values = [e[name] for e in entries if name in e]
        if kind in (PERIODS, UP_TO):
            if any(not isinstance(v, list) for v in values):
                out.append((name, name, None))
            lists = [v for v in values if isinstance(v, list)]
            width = periods if kind == PERIODS else max((len(v) for v in lists), default=0)
            if lists:
                out.extend((f"{name}_{k + 1}", name, k) for k in range(width))
        elif values:
            out.append((name, name, None))
    return out


def _cells(entry: dict[str, Any], columns: list[tuple[str, str, int | None]]) -> list[Any]:
    row: list[Any] = []
    for _, name, index in columns:
        value = entry.get(name)
        if index is None:
            row.append(None if isinstance(value, list) and name not in _ID_LISTS else value)
        elif isinstance(value, list):
            row.append(value[index] if index < len(value) else None)
        else:
            row.append(None)
    return row


_ID_LISTS = {n for spec in SPECS.values() for n, k in spec.fields.items() if k == IDS}


def tables_of(scenario: Scenario) -> dict[str, Table]:
    """The suppliers, offers and demand tables of a scenario (rows in the scenario's order)."""
    data = scenario.model_dump(mode="python", exclude_unset=True, exclude_none=True)
    periods = scenario.horizon.periods
    suppliers = data["suppliers"]

    fields = {n: k for n, k in SPECS["suppliers"].fields.items()}
    entries = list(suppliers.values())
    columns = _field_columns(entries, fields, periods)
    sup_rows = [[sid, *_cells(s, columns)] for sid, s in suppliers.items()]
    tables = {"suppliers": Table(["id", *[c for c, _, _ in columns]], sup_rows)}

    offers = [(sid, mid, o) for sid, s in suppliers.items() for mid, o in s["offers"].items()]
    columns = _field_columns([o for _, _, o in offers], SPECS["offers"].fields, periods)
    rows = [[sid, mid, *_cells(o, columns)] for sid, mid, o in offers]
    tables["offers"] = Table(["supplier", "material", *[c for c, _, _ in columns]], rows)

    kept = _per_period_fields("demand")
    mat_fields = {n: k for n, k in SPECS["demand"].fields.items() if n in kept}
    materials = data["materials"]
    columns = _field_columns(list(materials.values()), mat_fields, periods)
    rows = [[mid, *_cells(m, columns)] for mid, m in materials.items()]
    tables["demand"] = Table(["material", *[c for c, _, _ in columns]], rows)
    return tables


def scenario_yaml(scenario: Scenario, refs: dict[str, str], source: str) -> str:
    """The YAML that names the tables and holds the rest of the scenario."""
    data = scenario.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    data.pop("suppliers")
    kept = set(_per_period_fields("demand"))
    materials = {
        mid: {k: v for k, v in mat.items() if k not in kept}
        for mid, mat in data["materials"].items()
    }
    doc: dict[str, Any] = {}
    for key, value in data.items():
        if key == "materials":
            doc["tables"] = dict(refs)
            doc["materials"] = materials
        else:
            doc[key] = value
    header = (
        f"# {scenario.name}: written from {source} by `sourcing export-tables`.\n"
        "# Suppliers, offers and demand are in the tables named under `tables:`;\n"
        "# everything else is here.\n"
    )
    return header + dump_yaml(_tidy(doc))


def _tidy(node: Any) -> Any:
    """Whole numbers without `.0` (the schema reads 30 and 30.0 alike)."""
    if isinstance(node, dict):
        return {k: _tidy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    if isinstance(node, float) and node.is_integer() and abs(node) < 1e15:
        return int(node)
    return node


def _text(value: Any) -> str:
    """A cell as CSV text: numbers exactly (repr), whole numbers without `.0`."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def csv_bytes(table: Table) -> bytes:
    """A table as CSV (UTF-8, `\\n` line ends), the header on line 1."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_text(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _xlsx_cell(ws: Any, value: Any) -> Any:
    """A value to append to a write-only sheet; text that a spreadsheet would take for
    a formula is written as a text cell (ids never are: they are letters, digits, - and _)."""
    value = _xlsx_value(value)
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def xlsx_bytes(tables: dict[str, Table]) -> bytes:
    """The tables as the sheets Suppliers, Offers and Demand of one workbook.

    Header row bold and frozen; numbers are numbers, and text is always text (a cell
    is never written as a formula). The same tables give the same bytes.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for kind, table in tables.items():
        ws = book.create_sheet(SHEETS[kind])
        ws.freeze_panes = "A2"
        for k, name in enumerate(table.columns):
            width = max([len(name), *(len(_text(r[k])) for r in table.rows[:1000])]) + 2
            ws.column_dimensions[_column_letter(k)].width = min(max(width, 8), 40)
        header = []
        for name in table.columns:
            cell = WriteOnlyCell(ws, value=name)
            cell.data_type = "s"
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in table.rows:
            ws.append([_xlsx_cell(ws, value) for value in row])
    buf = io.BytesIO()
    book.save(buf)
    return _stable(buf.getvalue())


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _stable(raw: bytes) -> bytes:
    """The workbook with fixed dates in its document properties and zip entries."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<3>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def export_files(scenario: Scenario, source: str, xlsx: bool = False) -> dict[str, bytes]:
    """File name -> content of the table-driven copy of a scenario.

    CSV: `suppliers.csv`, `offers.csv`, `demand.csv`; with `xlsx`, one workbook
    `<name>.xlsx` with the sheets Suppliers, Offers and Demand. Either way
    `<name>.yaml` names the tables and holds the rest; `source` is shown in its header.
    """
    tables = tables_of(scenario)
    files: dict[str, bytes] = {}
    if xlsx:
        book = f"{scenario.name}.xlsx"
        refs = {kind: f"{book}#{SHEETS[kind]}" for kind in tables}
        files[book] = xlsx_bytes(tables)
    else:
        refs = dict(CSV_FILES)
        for kind, table in tables.items():
            files[CSV_FILES[kind]] = csv_bytes(table)
    files[f"{scenario.name}.yaml"] = scenario_yaml(scenario, refs, source).encode("utf-8")
    return files
