"""The rows of a wide table: one row per entity, a per-period field in one column for
every period (`price`) or in one column per period (`price_1 ... price_P`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from optimizer.io.tables.cells import Bad, is_empty, number_from_excel, show_cell
from optimizer.io.tables.kinds import PERIODS, UP_TO
from optimizer.io.tables.sources import Origin, Table, interned, period_list
from optimizer.io.where import PathKey

if TYPE_CHECKING:
    from optimizer.io.tables.reader import Reader


def read_wide(reader: Reader, table: Table, rows: Iterable[tuple[int, list[Any]]]) -> None:
    spec, layout, out = table.spec, table.layout, reader.out
    plain = layout.plain
    wide = list(layout.wide.items())
    kinds = spec.fields
    width = len(table.names)
    extra_cols = layout.unnamed
    origins = out.origins
    for line, cells in rows:
        if len(cells) < width:
            cells = [*cells, *([None] * (width - len(cells)))]
        keys = reader.keys_of(table, line, cells)
        if keys is None or not reader.known(table, line, keys):
            continue
        entity = spec.entity(keys)
        first = origins.get(entity)
        if first is not None:
            reader.duplicate(table, line, keys, first)
            continue
        values: dict[str, Any] = {}
        cols: dict[str, int] = {}
        for name, col, kind in plain:
            raw = cells[col]
            if raw is None or raw == "":
                continue
            value = reader.value(table, raw, kind)
            if isinstance(value, Bad):
                out.cell_problem(table, line, col, value.message, show_cell(raw))
                out.bad.add((*entity, name))
                continue
            values[name] = value
            cols[name] = col
        for name, wcols in wide:
            _wide_field(reader, table, line, entity, name, kinds[name], cells, wcols, values, cols)
        for col in extra_cols:
            if col < len(cells) and not is_empty(cells[col]):
                out.cell_problem(
                    table, line, col, "a value in a column without a name", show_cell(cells[col])
                )
        if len(cells) > width:
            for col in range(width, len(cells)):
                if not is_empty(cells[col]):
                    out.cell_problem(
                        table,
                        line,
                        col,
                        "a value beyond the last named column",
                        show_cell(cells[col]),
                    )
                    break
        origins[entity] = Origin(table, line, None, interned(values))
        reader.put(table, line, entity, keys, values, cols, {})


def _wide_field(
    reader: Reader,
    table: Table,
    line: int,
    entity: PathKey,
    name: str,
    kind: str,
    cells: list[Any],
    wcols: list[int],
    values: dict[str, Any],
    cols: dict[str, int],
) -> None:
    out = reader.out
    raws = [cells[c] for c in wcols]
    # a sheet's empty cell is None (or ""); CSV cells are text: empty is falsy
    given = [not (r is None or r == "") for r in raws] if table.xlsx else [bool(r) for r in raws]
    if not any(given):
        return
    if name in values:
        out.cell_problem(
            table,
            line,
            wcols[0],
            f"{name} is given both in the {name} column and per period; give one of them",
        )
        out.bad.add((*entity, name))
        return
    if kind == PERIODS and not all(given):
        empty = [k + 1 for k, g in enumerate(given) if not g]
        out.cell_problem(
            table,
            line,
            wcols[empty[0] - 1],
            f"empty cell: {name} needs a value for every period (period"
            f"{'s' if len(empty) > 1 else ''} {period_list(empty)} empty), or none",
        )
        out.bad.add((*entity, name))
        return
    if table.xlsx:
        result = [number_from_excel(r) if g else 0 for r, g in zip(raws, given, strict=True)]
    else:  # the hot path of a large CSV file: one cache lookup per cell
        cache = reader.number_cache
        result = [cache.get(r) or reader.value(table, r, kind) if r else 0 for r in raws]
    ok = True
    for k, value in enumerate(result):
        if type(value) is Bad:
            out.cell_problem(table, line, wcols[k], value.message, show_cell(raws[k]))
            ok = False
    if not ok:
        out.bad.add((*entity, name))
        return
    if kind == UP_TO:
        while given and not given[-1]:
            given.pop()
            result.pop()
    values[name] = result
    cols[name] = wcols[0]
