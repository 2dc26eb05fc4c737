"""Where each value read from a table came from, and the problems found reading them.

`TableSources` places a table value at its cell, so that a validation problem
of a value a table gave is reported there (`offers.csv:14: price: ...` for the
line of a CSV file, the header being line 1; `book.xlsx#Offers!C14: ...` for a
sheet), and holds the problems found while reading, each at its cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer.common.errors import Located
from optimizer.io.extends import SourceFile
from optimizer.io.tables.cells import DATE_RE, show_cell
from optimizer.io.tables.kinds import SPECS, TableSpec
from optimizer.io.where import PathKey, dotted_path

MAX_PERIODS = 1000  # the most periods a horizon has (when horizon.periods is not valid)


def column_letter(col: int) -> str:
    """Excel column letters of a 0-based column index."""
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class Layout:
    """A table's columns: keys, time, one column per field, and columns per period."""

    keys: list[int]
    time: tuple[str, int] | None = None
    plain: list[tuple[str, int, str]] = field(default_factory=list)  # field, column, kind
    wide: dict[str, list[int]] = field(default_factory=dict)  # field -> column per period
    unnamed: list[int] = field(default_factory=list)  # columns without a name

    def has(self, name: str) -> bool:
        return name in self.wide or any(f == name for f, _, _ in self.plain)

    def column_of(self, name: str) -> int | None:
        for f, col, _ in self.plain:
            if f == name:
                return col
        return self.wide[name][0] if name in self.wide else None


@dataclass
class Table:
    """One table named in `tables:`, as read."""

    spec: TableSpec
    rank: int
    shown: str
    xlsx: bool
    names: list[str]
    layout: Layout

    def where(self, line: int, col: int) -> tuple[str, int | None]:
        """File and line of a cell as an error shows them (a sheet: `file#Sheet!C7`)."""
        if self.xlsx:
            return (
                f"{self.shown}!{column_letter(col)}{line}"
                if col >= 0
                else f"{self.shown}!{line}:{line}"
            ), None
        return self.shown, line

    def column_name(self, col: int) -> str:
        if 0 <= col < len(self.names) and self.names[col]:
            return self.names[col]
        return f"column {column_letter(col)}" if self.xlsx else f"column {col + 1}"


class Origin:
    """Where an entity's table values came from: its row (or rows, one per period)."""

    __slots__ = ("given", "line", "lines", "table")

    def __init__(
        self, table: Table, line: int, lines: list[int | None] | None, given: frozenset[str]
    ) -> None:
        self.table = table
        self.line = line
        self.lines = lines
        self.given = given


@dataclass
class Horizon:
    periods: int | None
    period_days: float | None
    start: dt.date | None


def horizon_of(data: dict[str, Any]) -> Horizon:
    """The horizon as far as it can be read before validation (None where invalid)."""
    h = data.get("horizon")
    h = h if isinstance(h, dict) else {}
    p = h.get("periods")
    periods = p if type(p) is int and 1 <= p <= MAX_PERIODS else None
    d = h.get("period_days", 30)
    days = float(d) if type(d) in (int, float) and 0 < d <= 3660 else None
    s = h.get("start")
    start = None
    if isinstance(s, str) and DATE_RE.fullmatch(s):
        try:
            start = dt.date.fromisoformat(s)
        except ValueError:
            start = None
    elif isinstance(s, dt.date):
        start = s
    return Horizon(periods, days, start)


_INTERNED: dict[frozenset[str], frozenset[str]] = {}


def interned(names: Iterable[str]) -> frozenset[str]:
    key = frozenset(names)
    return _INTERNED.setdefault(key, key)


class TableSources:
    """The tables of one scenario: their problems and where each value came from."""

    def __init__(self, data: dict[str, Any], sources: Sequence[SourceFile]) -> None:
        self.data = data
        self.sources = sources
        self.tables: list[Table] = []
        self.origins: dict[PathKey, Origin] = {}
        self.bad: set[PathKey] = set()  # paths whose problems were reported here
        self.problems: list[Located] = []
        self.failed: set[str] = set()  # tables that could not be read at all
        self.files: list[Path] = []  # every table file named, symbolic links resolved
        self._keys: dict[Located, tuple[Any, ...]] = {}

    # --- problems ---------------------------------------------------------------------

    def _add(self, problem: Located, key: tuple[Any, ...]) -> None:
        self.problems.append(problem)
        self._keys[problem] = key

    def cell_problem(
        self,
        table: Table,
        line: int,
        col: int,
        message: str,
        got: str | None = None,
        column: str | None = None,
    ) -> None:
        file, shown_line = table.where(line, col)
        name = column if column is not None else table.column_name(col) if col >= 0 else ""
        self._add(Located(file, shown_line, name, message, got), (1, table.rank, line, col))

    def file_problem(self, kind: str, message: str) -> None:
        """A problem with the table named at `tables.<kind>`, shown at that YAML line."""
        self.failed.add(kind)
        path = ("tables", kind)
        src = self.yaml_source(path)
        value = self.data["tables"][kind]
        name, line = (src.name, src.lines.get(path)) if src else (self.sources[-1].name, None)
        self._add(
            Located(name, line, dotted_path(path), message, show_cell(value)),
            (0, len(self.sources), line or 0, 0),
        )

    def finish(self, found: Iterable[Located]) -> list[Located]:
        """Every problem, the YAML's first (in the order given), then the tables' by cell."""
        merged = [*found, *self.problems]
        order = {id(p): i for i, p in enumerate(merged)}
        return sorted(merged, key=lambda p: self._keys.get(p, (0, -1, order[id(p)], 0)))

    # --- where a validation problem is --------------------------------------------------

    def _suppressed(self, path: PathKey) -> bool:
        return any(path[:end] in self.bad for end in range(len(path), 0, -1))

    def _lost(self, path: PathKey) -> bool:
        """A required value missing because the table that gives it could not be read."""
        lost: set[PathKey] = set()
        if "demand" in self.failed and path[:1] == ("materials",):
            lost.add(("materials",))
            lost |= {("materials", "*", name) for name in SPECS["demand"].required}
        if self.failed & {"suppliers", "offers"} and path[:1] == ("suppliers",):
            lost |= {("suppliers",), ("suppliers", "*", "offers"), ("suppliers", "*", "country")}
            lost |= {("suppliers", "*", "offers", "*", n) for n in SPECS["offers"].required}
        shape = tuple("*" if i % 2 else p for i, p in enumerate(path))
        return shape in lost

    def _origin(self, path: PathKey) -> tuple[Origin, int] | None:
        for size in (4, 2):
            if len(path) >= size:
                origin = self.origins.get(path[:size])
                if origin is not None:
                    return origin, size
        return None

    def place(self, path: PathKey) -> tuple[Table, int, int, str | None] | None:
        """The cell that set `path`: (table, line, column, shown field if not a column);
        None if the value came from the YAML (or there are no tables)."""
        if not self.origins:
            return None
        hit = self._origin(path)
        if hit is None:
            return None
        origin, size = hit
        table = origin.table
        rest = path[size:]
        key_col = table.layout.keys[-1]
        if not rest:
            return table, origin.line, key_col, None
        name = rest[0]
        if not isinstance(name, str) or name not in origin.given:
            node = walk(self.data, path[: size + 1])
            if node is not None:
                return None  # set in the YAML
            return table, origin.line, key_col, str(name)
        col = table.layout.column_of(name)
        index = rest[1] if len(rest) > 1 and isinstance(rest[1], int) else None
        value = walk(self.data, path[: size + 1])
        if name in table.layout.wide and isinstance(value, list):
            cols = table.layout.wide[name]
            col = cols[index] if index is not None and index < len(cols) else cols[0]
        line = origin.line
        if origin.lines is not None and index is not None and index < len(origin.lines):
            line = origin.lines[index] or origin.line
        return table, line, -1 if col is None else col, None

    def relocate(self, path: PathKey, problem: Located) -> Located | None:
        """A validation problem at its cell if a table set `path`; None if a problem of the
        same cell was already reported while reading."""
        if self.bad and self._suppressed(path):
            return None
        if self.failed and self._lost(path):
            return None
        hit = self.place(path)
        if hit is None:
            return problem
        table, line, col, missing = hit
        file, shown_line = table.where(line, col)
        message = problem.message
        if missing is not None:
            column = missing
            if missing in table.spec.fields:
                message += (
                    f"; give it in a {missing} column of this table or as "
                    f"{dotted_path((*path[: len(path) - 1], missing))} in the YAML"
                    if problem.message == "required field is missing"
                    else ""
                )
        else:
            column = table.column_name(col)
        located = Located(file, shown_line, column, message, problem.got)
        self._keys[located] = (1, table.rank, line, col)
        return located

    def locate(self, path: PathKey) -> tuple[str, int | None] | None:
        """File and line (`file#Sheet!C7` and None for a sheet) of a path set by a table."""
        hit = self.place(path)
        if hit is None:
            return None
        table, line, col, _ = hit
        return table.where(line, col)

    # --- the YAML's side ----------------------------------------------------------------

    def yaml_source(self, path: PathKey) -> SourceFile | None:
        """The most derived YAML file that gives a value at `path`."""
        for src in self.sources:
            if walk(src.data, path) is not None:
                return src
        return None

    def yaml_place(self, path: PathKey) -> str:
        src = self.yaml_source(path)
        if src is None:
            return "the YAML"
        probe = path
        while probe and probe not in src.lines:
            probe = probe[:-1]
        line = src.lines.get(probe)
        return f"{src.name}:{line}" if line else src.name


def walk(node: Any, path: PathKey) -> Any:
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
        if node is None:
            return None
    return node


def period_list(ks: list[int]) -> str:
    """`3, 4, 7` or `3-9` for a run."""
    if len(ks) > 2 and ks == list(range(ks[0], ks[-1] + 1)):
        return f"{ks[0]}-{ks[-1]}"
    shown = ", ".join(map(str, ks[:8]))
    return shown + (", ..." if len(ks) > 8 else "")


def row_or_line(table: Table) -> str:
    """How a table's rows are counted: sheets by row, CSV files by line."""
    return "row" if table.xlsx else "line"
