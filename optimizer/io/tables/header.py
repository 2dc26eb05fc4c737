"""A table's header -> its `Layout`: key columns, the time column of a long table, one
column per field and columns per period (`price_1 ... price_P`); every bad column
(unknown, duplicate, missing, out of the horizon) reported at its cell.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from optimizer.io.tables.cells import is_empty, show_cell
from optimizer.io.tables.grid import MAX_COLUMNS
from optimizer.io.tables.kinds import PERIODS, UP_TO, TableSpec
from optimizer.io.tables.sources import (
    MAX_PERIODS,
    Horizon,
    Layout,
    Table,
    TableSources,
    column_letter,
)


class HeaderReader:
    """Reads the headers of one scenario's tables, reporting into `out`."""

    def __init__(self, out: TableSources, horizon: Horizon) -> None:
        self.out = out
        self.horizon = horizon

    def layout(self, table: Table, header: list[Any]) -> Layout | None:
        """The columns of a table from its header; None (after reporting) if unusable."""
        spec = table.spec
        fields = spec.fields
        aliases = dict(spec.aliases)
        keys: dict[str, int] = {}
        layout = Layout([])
        seen: dict[str, int] = {}
        wide: dict[str, dict[int, int]] = {}
        ok = True
        if len(header) > MAX_COLUMNS:
            self.out.cell_problem(table, 1, MAX_COLUMNS, f"more than {MAX_COLUMNS:,} columns")
            return None
        for col, raw in enumerate(header):
            name = self._column_name(table, col, raw, seen)
            if name is None:
                ok = ok and is_empty(raw)
                if is_empty(raw):
                    layout.unnamed.append(col)
                continue
            canon = aliases.get(name, name)
            if canon in spec.keys:
                if canon in keys:
                    other = table.column_name(keys[canon])
                    message = f"duplicate column: {name!r} and {other!r} are the same column"
                    self.out.cell_problem(table, 1, col, message)
                    ok = False
                keys[canon] = col
            elif spec.timed and name in ("period", "date"):
                if layout.time is not None:
                    message = "give the period either as `period` or as `date`, not both"
                    self.out.cell_problem(table, 1, col, message)
                    ok = False
                layout.time = (name, col)
            elif name in fields:
                layout.plain.append((name, col, fields[name]))
            else:
                self._period_column(table, col, name, wide)
        for key in spec.keys:
            if key not in keys:
                message = "missing required column (the key of each row)"
                self.out.cell_problem(table, 1, -1, message, column=key)
                ok = False
        if not ok:
            return None
        layout.keys = [keys[k] for k in spec.keys]
        self._wide_columns(table, layout, wide)
        return layout

    def _column_name(self, table: Table, col: int, raw: Any, seen: dict[str, int]) -> str | None:
        """A header cell's name; None for an empty one, or (after reporting) a bad one."""
        if is_empty(raw):
            return None
        if not isinstance(raw, str):
            self.out.cell_problem(
                table, 1, col, "column names must be text", show_cell(raw), column=""
            )
            return None
        if raw in seen:
            other = column_letter(seen[raw]) if table.xlsx else str(seen[raw] + 1)
            self.out.cell_problem(table, 1, col, f"duplicate column (also column {other})")
            return None
        seen[raw] = col
        return raw

    def _period_column(
        self, table: Table, col: int, name: str, wide: dict[str, dict[int, int]]
    ) -> None:
        """`price_3`: a column of one period of a per-period field, or an unknown column."""
        fields = table.spec.fields
        match = re.fullmatch(r"(.+)_([1-9][0-9]*)", name)
        base = match.group(1) if match else None
        if match is None or base not in fields or fields[base] not in (PERIODS, UP_TO):
            self.out.cell_problem(table, 1, col, self._unknown_column(table.spec, name, base))
            return
        k, periods = int(match.group(2)), self.horizon.periods or MAX_PERIODS
        if k > periods:
            self.out.cell_problem(
                table,
                1,
                col,
                f"unknown column: the horizon has {periods} periods "
                f"({base}_1 ... {base}_{periods})",
            )
            return
        wide.setdefault(match.group(1), {})[k] = col

    def _unknown_column(self, spec: TableSpec, name: str, base: str | None) -> str:
        fields = spec.fields
        if base is not None and base in fields:
            return f"unknown column: {base} is one value per {_row_word(spec)}, not per period"
        if name in ("period", "date"):
            return f"unknown column: {spec.name} have no per-period fields"
        if name in spec.not_columns:
            return "unknown column: offers come from the offers table (tables.offers)"
        allowed = [*spec.keys, *fields] + (["period", "date"] if spec.timed else [])
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        if not close:
            close = [a for a in allowed if a.lower() == name.strip().lower()]
        if close:
            return f"unknown column; did you mean {close[0]!r}?"
        return f"unknown column; allowed: {', '.join(allowed)}"

    def _wide_columns(self, table: Table, layout: Layout, wide: dict[str, dict[int, int]]) -> None:
        """Check and keep `f_1 ... f_P`: every period once (for `inbound`, 1 ... k)."""
        periods = self.horizon.periods
        kinds = table.spec.fields
        for name, cols in wide.items():
            if layout.time is not None:
                for col in cols.values():
                    self.out.cell_problem(
                        table,
                        1,
                        col,
                        f"unknown column: a table with a {layout.time[0]} column gives {name} "
                        f"in a `{name}` column, one row per period",
                    )
                continue
            last = max(cols) if kinds[name] == UP_TO or periods is None else periods
            missing = [k for k in range(1, last + 1) if k not in cols]
            if missing:
                names = ", ".join(f"{name}_{k}" for k in missing[:5])
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                self.out.cell_problem(
                    table,
                    1,
                    -1,
                    f"missing column {names}{more}: give {name} for every period "
                    f"({name}_1 ... {name}_{last}), or in one {name} column",
                    column=name,
                )
                continue
            layout.wide[name] = [cols[k] for k in range(1, last + 1)]


def _row_word(spec: TableSpec) -> str:
    return {"suppliers": "supplier", "offers": "offer", "demand": "material"}[spec.name]
