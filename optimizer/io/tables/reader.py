"""The tables named in `tables:` read into the scenario's data (DESIGN §3.1).

`read_tables` reads them after the YAML (and `extends`) is merged and before
validation, so that every rule of the schema (strict types, ranges, unknown
keys, cross-references) applies to a table value as to a YAML value; the
`TableSources` it returns remembers where each value came from, so that an
error names the cell.

A per-period field (`price`, `capacity`, `reservation_fee`, `exercise_price`,
`demand`, `inbound`) takes one number for every period in its own column, or
one column per period (`price_1 ... price_P`, "wide", `optimizer.io.tables.wide`),
or, in a "long" table with a `period` (or `date`, with `horizon.start`) column,
one row per period (`optimizer.io.tables.long`).

Reading is as strict as the YAML loader: unknown and duplicate columns, a
missing required column, a number written as text (`12,5`, `1e3 t`, `35%`), an
empty required cell, a duplicate row, an unknown supplier or material, a period
or date outside the horizon, a missing sheet and a value given both in a table
and in the YAML are errors, all reported at once, each at its cell.

Nothing in a file is ever evaluated: CSV cells are text; a workbook is read for
the values Excel saved with it, macros are never run (and not read), and files,
unpacked workbooks, rows and cells are capped in size.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from optimizer.io.extends import SourceFile
from optimizer.io.tables.cells import (
    Bad,
    ids_of,
    is_empty,
    number_from_excel,
    number_from_text,
    show_cell,
    text_from_excel,
)
from optimizer.io.tables.csv_file import read_csv
from optimizer.io.tables.grid import Grid, TableFileError, split_sheet
from optimizer.io.tables.header import HeaderReader
from optimizer.io.tables.kinds import IDS, NUMBER, PERIODS, SPECS, TABLES, UP_TO, TableSpec
from optimizer.io.tables.long import read_long
from optimizer.io.tables.sources import (
    Layout,
    Origin,
    Table,
    TableSources,
    horizon_of,
    row_or_line,
    walk,
)
from optimizer.io.tables.wide import read_wide
from optimizer.io.tables.xlsx import Workbook
from optimizer.io.where import PathKey, dotted_path

MAX_ROWS = 1_000_000
MAX_CELLS = 20_000_000


class Reader:
    """Reads the tables of one scenario into its data (see `read_tables`)."""

    def __init__(self, data: dict[str, Any], sources: Sequence[SourceFile]) -> None:
        self.data = data
        self.out = TableSources(data, sources)
        self.horizon = horizon_of(data)
        self.number_cache: dict[str, Any] = {}
        self.yaml_suppliers = set(_mapping(data, "suppliers"))
        self.yaml_materials = set(_mapping(data, "materials"))
        self.table_suppliers: set[str] = set()
        self.table_materials: set[str] = set()
        self.offered: set[str] = set()  # suppliers with an offer row
        # required fields a table has no column for: (table rank, field) -> rows that need it
        self.needs: dict[tuple[int, str], list[tuple[int, list[str]]]] = {}
        self.header = HeaderReader(self.out, self.horizon)

    # --- one table ----------------------------------------------------------------------

    def read(self, kind: str, ref: str, base: str, book_cache: dict[str, Workbook | None]) -> None:
        spec = SPECS[kind]
        file_part, sheet = split_sheet(ref)
        shown_file = os.path.normpath(os.path.join(os.path.dirname(base), file_part))
        path = Path(os.path.dirname(base) or ".") / file_part
        with contextlib.suppress(OSError, RuntimeError, ValueError):  # reported when read
            self.out.files.append(path.resolve())
        lower = file_part.lower()
        try:
            if lower.endswith(".xlsx"):
                if shown_file not in book_cache:
                    try:
                        book_cache[shown_file] = Workbook(path)
                    except TableFileError:
                        book_cache[shown_file] = None
                        raise
                book = book_cache[shown_file]
                if book is None:  # could not be opened: said so at the first table in it
                    self.out.failed.add(kind)
                    return
                grid = book.grid(sheet, shown_file)
            elif lower.endswith(".csv"):
                grid = read_csv(path, shown_file)
            else:
                raise TableFileError(_extension_problem(lower))
        except TableFileError as exc:
            self.out.file_problem(kind, f"{shown_file}: {exc}")
            return
        self.load(spec, grid)

    def load(self, spec: TableSpec, grid: Grid) -> None:
        names = [h if isinstance(h, str) else "" for h in grid.header]
        table = Table(spec, TABLES.index(spec.name), grid.shown, grid.xlsx, names, Layout([]))
        self.out.tables.append(table)
        layout = self.header.layout(table, grid.header)
        if layout is not None:
            table.layout = layout
            rows = self._capped(table, grid)
            if layout.time is None:
                read_wide(self, table, rows)
            else:
                read_long(self, table, rows)
        for line, col, message, got in grid.problems:
            self.out.cell_problem(table, line, col, message, got, column="" if col < 0 else None)

    def _capped(self, table: Table, grid: Grid) -> Iterator[tuple[int, list[Any]]]:
        """Non-empty rows, within the caps on rows and cells."""
        width = max(len(grid.header), 1)
        count = 0
        for line, cells in grid.rows:
            if all(is_empty(v) for v in cells):
                continue
            count += 1
            if count > MAX_ROWS or count * width > MAX_CELLS:
                self.out.cell_problem(
                    table,
                    line,
                    -1,
                    f"more than {min(MAX_ROWS, MAX_CELLS // width):,} rows; the rest is not read",
                    column="",
                )
                return
            yield line, cells

    def keys_of(self, table: Table, line: int, cells: list[Any]) -> list[str] | None:
        """A row's key values, or None (after reporting) if one is empty or not text."""
        out: list[str] = []
        for key, col in zip(table.spec.keys, table.layout.keys, strict=True):
            raw = cells[col] if col < len(cells) else None
            if is_empty(raw):
                self.out.cell_problem(
                    table, line, col, f"required cell is empty (the {key} of the row)"
                )
                return None
            value: Any = text_from_excel(raw) if table.xlsx else raw
            if isinstance(value, Bad):
                self.out.cell_problem(table, line, col, value.message, show_cell(raw))
                return None
            out.append(value)
        return out

    def known(self, table: Table, line: int, keys: list[str]) -> bool:
        """Offers name known suppliers and materials; demand rows known materials."""
        spec = table.spec
        if spec.name == "offers":
            sup, mat = keys
            if (sup in self.yaml_suppliers or sup in self.table_suppliers) and (
                mat in self.yaml_materials or mat in self.table_materials
            ):
                return True
            checks = [
                (0, sup, self.yaml_suppliers | self.table_suppliers, "supplier"),
                (1, mat, self.yaml_materials | self.table_materials, "material"),
            ]
        elif spec.name == "demand" and not table.layout.has("shortage_cost"):
            checks = [(0, keys[0], self.yaml_materials, "material")]
        else:
            return True
        for i, value, known, what in checks:
            if value not in known:
                where = (
                    "the YAML's materials (this table has no shortage_cost column to add one)"
                    if spec.name == "demand"
                    else f"the YAML or the {'suppliers' if what == 'supplier' else 'demand'} table"
                )
                self.out.cell_problem(
                    table,
                    line,
                    table.layout.keys[i],
                    f"unknown {what} {value!r}: not in {where}{_suggest(value, known)}",
                    show_cell(value),
                )
                return False
        return True

    def value(self, table: Table, raw: Any, kind: str) -> Any:
        if kind in (NUMBER, PERIODS, UP_TO):
            if table.xlsx:
                return number_from_excel(raw)
            cached = self.number_cache.get(raw)
            if cached is None:
                cached = self.number_cache[raw] = number_from_text(raw)
            return cached
        text = text_from_excel(raw) if table.xlsx else raw
        return ids_of(text) if kind == IDS else text

    def duplicate(self, table: Table, line: int, keys: list[str], first: Origin) -> None:
        where = f"{row_or_line(table)} {first.line}"
        what = ", ".join(f"{k} {v!r}" for k, v in zip(table.spec.keys, keys, strict=True))
        self.out.cell_problem(
            table, line, table.layout.keys[-1], f"duplicate row: {what} (first on {where})"
        )

    # --- into the data ------------------------------------------------------------------

    def put(
        self,
        table: Table,
        line: int,
        entity: PathKey,
        keys: list[str],
        values: dict[str, Any],
        cols: dict[str, int],
        at: dict[str, int],
    ) -> None:
        """Put a row's values into the data: a value the YAML gives too is an error, a
        required one given nowhere is reported at its cell (or column)."""
        out = self.out
        created = walk(self.data, entity) is None
        node = _node(self.data, entity)
        if node is None:  # the YAML has something else than a mapping there
            return
        for name, value in values.items():
            if node.get(name) is not None:
                out.cell_problem(
                    table,
                    at.get(name, line),
                    cols[name],
                    f"given both here and in {out.yaml_place((*entity, name))} "
                    f"({dotted_path((*entity, name))}); give it in one place",
                    show_cell(value),
                )
                out.bad.add((*entity, name))
                continue
            node[name] = value
        for name in table.spec.required:
            if node.get(name) is not None or (*entity, name) in out.bad:
                continue
            col = table.layout.column_of(name)
            if col is None and not created:
                continue  # the YAML's own entry lacks it: reported there
            if col is None:
                self.needs.setdefault((table.rank, name), []).append((line, keys))
            else:
                out.cell_problem(
                    table,
                    line,
                    col,
                    f"required cell is empty (and {dotted_path((*entity, name))} "
                    "is not in the YAML)",
                )
            out.bad.add((*entity, name))
        if table.spec.name == "suppliers":
            self.table_suppliers.add(keys[0])
        elif table.spec.name == "demand":
            self.table_materials.add(keys[0])
        else:
            self.offered.add(keys[0])

    def missing_columns(self) -> None:
        """A required column that a table lacks, where the YAML does not fill the gap."""
        for (rank, name), rows in self.needs.items():
            table = next(t for t in self.out.tables if t.rank == rank)
            line, keys = rows[0]
            what = ", ".join(f"{k} {v!r}" for k, v in zip(table.spec.keys, keys, strict=True))
            others = f" and {len(rows) - 1} more rows" if len(rows) > 1 else ""
            self.out.cell_problem(
                table,
                1,
                -1,
                f"missing required column: the YAML does not give {name} for {what} "
                f"({row_or_line(table)} {line}){others}",
                column=name,
            )

    def suppliers_without_offers(self) -> None:
        if "offers" in self.out.failed:
            return  # the offers table could not be read: said so already
        for sid in sorted(self.table_suppliers - self.offered - self.yaml_suppliers):
            origin = self.out.origins[("suppliers", sid)]
            table = origin.table
            self.out.cell_problem(
                table,
                origin.line,
                table.layout.keys[0],
                f"supplier {sid!r} has no offers: give it rows in the offers table "
                "(or offers in the YAML)",
            )
            self.out.bad.add(("suppliers", sid, "offers"))


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _node(data: dict[str, Any], path: PathKey) -> dict[str, Any] | None:
    """The mapping at `path`, made where missing; None where the YAML has a non-mapping."""
    node: dict[Any, Any] = data
    for part in path:
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            return None
        node = nxt
    return node


def _suggest(name: str, names: Iterable[str]) -> str:
    items = sorted(names)
    close = difflib.get_close_matches(name, items, n=3, cutoff=0.6)
    if not close:
        close = [item for item in items if item.lower() == name.lower()]
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return ""


def _extension_problem(name: str) -> str:
    if name.split("#", 1)[0].endswith((".xlsm", ".xlsb", ".xls")):
        return "only .xlsx workbooks are read (no macros, no old formats); save it as .xlsx"
    if "#" in name and ".xlsx" not in name:
        return "a sheet (`#Sheet`) can be named only in an .xlsx workbook"
    return "a table must be a .csv file or a sheet of an .xlsx workbook (file.xlsx#Sheet)"


def read_tables(
    data: dict[str, Any], sources: Sequence[SourceFile]
) -> tuple[dict[str, Any], TableSources]:
    """Read the tables named in `data["tables"]` into a copy of `data`.

    `data` is the merged scenario (after `extends`), `sources` its files, most derived
    first (each with `name`, `data` and `lines`). Returns the data to validate (with
    `tables` kept, for the schema to check) and the `TableSources` that place every
    table value at its cell and hold the problems found while reading.
    """
    tables = data.get("tables")
    if not isinstance(tables, dict) or not any(isinstance(tables.get(k), str) for k in TABLES):
        return data, TableSources(data, sources)
    data = dict(data)
    for key in ("suppliers", "materials"):
        if isinstance(data.get(key), dict):
            data[key] = _copy_maps(data[key])
    reader = Reader(data, sources)
    books: dict[str, Workbook | None] = {}
    try:
        for kind in ("suppliers", "demand", "offers"):  # offers name suppliers and materials
            ref = tables.get(kind)
            if not isinstance(ref, str) or not ref.strip():
                continue  # the schema reports it
            src = reader.out.yaml_source(("tables", kind))
            base = src.name if src is not None else sources[-1].name
            reader.read(kind, ref, base, books)
    finally:
        for book in books.values():
            if book is not None:
                book.close()
    reader.missing_columns()
    reader.suppliers_without_offers()
    return data, reader.out


def _copy_maps(node: Any) -> Any:
    """A copy of nested mappings (lists and values shared): table values go into the copy,
    never into the data of the YAML files, which still says what each file set."""
    if isinstance(node, dict):
        return {k: _copy_maps(v) for k, v in node.items()}
    return node
