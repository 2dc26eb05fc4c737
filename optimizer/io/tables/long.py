"""The rows of a long table: one row per entity and period, the period in a `period`
column (1 ... P) or a `date` column (the period that contains it, from
`horizon.start`); per-period fields in their plain columns, the others the same in
every row that gives them."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optimizer.io.tables.cells import Bad, cell_date, is_empty, period_number, show_cell
from optimizer.io.tables.kinds import PERIODS, UP_TO
from optimizer.io.tables.sources import (
    MAX_PERIODS,
    Horizon,
    Origin,
    Table,
    interned,
    period_list,
    row_or_line,
)
from optimizer.io.where import PathKey
from optimizer.schema.effects import date_period

if TYPE_CHECKING:
    from optimizer.io.tables.reader import Reader


def read_long(reader: Reader, table: Table, rows: Iterable[tuple[int, list[Any]]]) -> None:
    """Rows per period: gather each entity's rows, then check and put them."""
    spec, layout, out = table.spec, table.layout, reader.out
    assert layout.time is not None
    time_name, time_col = layout.time
    kinds = spec.fields
    horizon = reader.horizon
    if time_name == "date" and (horizon.start is None or horizon.period_days is None):
        out.cell_problem(
            table,
            1,
            time_col,
            "a date column needs the calendar date of day 0: set horizon.start (YYYY-MM-DD)",
        )
        return
    width = len(table.names)
    gathered: dict[PathKey, _Gathered] = {}
    for line, cells in rows:
        if len(cells) < width:
            cells = [*cells, *([None] * (width - len(cells)))]
        keys = reader.keys_of(table, line, cells)
        if keys is None or not reader.known(table, line, keys):
            continue
        entity = spec.entity(keys)
        period = _period(reader, table, line, time_col, cells[time_col], time_name)
        acc = gathered.get(entity)
        if acc is None:
            acc = gathered[entity] = _Gathered(keys, line)
        if period is None:
            acc.broken = True
            continue
        if period in acc.lines:
            reader.out.cell_problem(
                table,
                line,
                time_col,
                f"duplicate row: period {period} of "
                + ", ".join(f"{k} {v!r}" for k, v in zip(spec.keys, keys, strict=True))
                + f" is also on {row_or_line(table)} {acc.lines[period]}",
                show_cell(cells[time_col]),
            )
            continue
        acc.lines[period] = line
        for name, col, kind in layout.plain:
            raw = cells[col]
            if raw is None or raw == "":
                acc.empty.setdefault(name, (line, col))
                continue
            value = reader.value(table, raw, kind)
            if isinstance(value, Bad):
                out.cell_problem(table, line, col, value.message, show_cell(raw))
                out.bad.add((*entity, name))
                continue
            if kind in (PERIODS, UP_TO):
                acc.per_period.setdefault(name, {})[period] = value
            else:
                _same_value(reader, table, line, col, name, value, raw, acc)
    for entity, acc in gathered.items():
        _put_long(reader, table, entity, acc, kinds)


def _same_value(
    reader: Reader,
    table: Table,
    line: int,
    col: int,
    name: str,
    value: Any,
    raw: Any,
    acc: _Gathered,
) -> None:
    """A field with one value per entity, in a long table: the same in every row."""
    if name not in acc.scalars:
        acc.scalars[name] = (value, line, col)
        return
    before, before_line, _ = acc.scalars[name]
    if before != value:
        reader.out.cell_problem(
            table,
            line,
            col,
            f"differs from {row_or_line(table)} {before_line} "
            f"({show_cell(before)}); {name} is one value for all periods",
            show_cell(raw),
        )


def _period(reader: Reader, table: Table, line: int, col: int, raw: Any, kind: str) -> int | None:
    """The period of a row (1 ... P), or None after reporting why not."""
    horizon = reader.horizon
    if is_empty(raw):
        reader.out.cell_problem(table, line, col, f"required cell is empty (the {kind} of the row)")
        return None
    if kind == "period":
        period = period_number(raw, table.xlsx)
        if period is None:
            reader.out.cell_problem(
                table, line, col, "must be a period number (1, 2, ...)", show_cell(raw)
            )
            return None
        last = horizon.periods or MAX_PERIODS
        if not 1 <= period <= last:
            reader.out.cell_problem(
                table, line, col, f"must be between 1 and {last} (horizon.periods)", show_cell(raw)
            )
            return None
        return period
    date = cell_date(raw)
    if date is None:
        reader.out.cell_problem(
            table, line, col, "must be a date written YYYY-MM-DD", show_cell(raw)
        )
        return None
    assert horizon.start is not None and horizon.period_days is not None
    period = date_period(date, horizon.start, horizon.period_days)
    if not 1 <= period <= (horizon.periods or MAX_PERIODS):
        reader.out.cell_problem(
            table, line, col, f"{date} lies outside the horizon ({_span(horizon)})", show_cell(raw)
        )
        return None
    return period


def _put_long(
    reader: Reader, table: Table, entity: PathKey, acc: _Gathered, kinds: dict[str, str]
) -> None:
    out = reader.out
    periods = reader.horizon.periods
    last = periods if periods is not None else max(acc.lines, default=0)
    lines: list[int | None] = [acc.lines.get(k) for k in range(1, last + 1)]
    missing = [k for k in range(1, last + 1) if k not in acc.lines]
    per_period = [n for n, _, k in table.layout.plain if k in (PERIODS, UP_TO)]
    if missing and not acc.broken:
        assert table.layout.time is not None
        out.cell_problem(
            table,
            acc.first,
            table.layout.time[1],
            f"no row for period{'s' if len(missing) > 1 else ''} {period_list(missing)}: "
            f"every period 1 ... {last} needs a row",
        )
    if missing or acc.broken:
        out.bad.update((*entity, n) for n in per_period)
    values: dict[str, Any] = {}
    cols: dict[str, int] = {}
    at: dict[str, int] = {}
    for name, col, kind in table.layout.plain:
        if kind in (PERIODS, UP_TO):
            given = acc.per_period.get(name, {})
            if not given or missing or acc.broken or (*entity, name) in out.bad:
                continue
            if kind == PERIODS and len(given) < last:
                line, ecol = acc.empty[name]
                out.cell_problem(
                    table,
                    line,
                    ecol,
                    f"empty cell: other rows give {name}; give it for every period or none",
                )
                out.bad.add((*entity, name))
                continue
            result = [given.get(k, 0) for k in range(1, last + 1)]
            if kind == UP_TO:
                del result[max(given) :]  # empty periods at the end: no arrivals
            values[name] = result
            cols[name] = col
        elif name in acc.scalars:
            values[name], at[name], cols[name] = acc.scalars[name]
    out.origins[entity] = Origin(table, acc.first, lines, interned(values))
    reader.put(table, acc.first, entity, acc.keys, values, cols, at)


def _span(h: Horizon) -> str:
    assert h.start is not None and h.period_days is not None
    if h.periods is None:
        return f"from {h.start}"
    try:
        end = h.start + dt.timedelta(days=math.ceil(h.periods * h.period_days) - 1)
    except OverflowError:
        return f"{h.periods} periods from {h.start}"
    return f"{h.start} to {end}, {h.periods} periods of {h.period_days:g} days"


@dataclass
class _Gathered:
    """The rows of one entity of a long table."""

    keys: list[str]
    first: int
    lines: dict[int, int] = field(default_factory=dict)  # period -> line
    per_period: dict[str, dict[int, Any]] = field(default_factory=dict)
    scalars: dict[str, tuple[Any, int, int]] = field(default_factory=dict)
    empty: dict[str, tuple[int, int]] = field(default_factory=dict)  # first empty cell
    broken: bool = False
