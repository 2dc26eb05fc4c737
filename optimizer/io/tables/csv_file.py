"""A CSV table as a grid of text cells: UTF-8 (with or without a byte-order mark), comma
separated, or `;` or tab where the header has no comma (the European Excel "CSV")."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from optimizer.io.tables.grid import Grid, TableFileError, read_capped


def _delimiter(first_line: str) -> str:
    """`,`; a header without commas but with `;` or tabs sets that separator instead."""
    if "," in first_line:
        return ","
    for sep in (";", "\t"):
        if sep in first_line:
            return sep
    return ","


def read_csv(path: Path, shown: str) -> Grid:
    """A CSV file (UTF-8, with or without a byte-order mark) as a grid of text cells."""
    raw = read_capped(path)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TableFileError("is UTF-16 text; save it as CSV UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TableFileError(
            f"line {line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as CSV UTF-8"
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise TableFileError(f"line {line}: contains a NUL byte; is it a binary file?")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise TableFileError(f"line 1: not valid CSV: {exc}") from None
    if not header or all(h == "" for h in header):
        raise TableFileError("line 1 must be the header (the column names); it is empty")
    grid = Grid(shown, header, iter(()), xlsx=False)
    grid.rows = _csv_rows(reader, grid)
    return grid


def _csv_rows(reader: Any, grid: Grid) -> Iterator[tuple[int, list[Any]]]:
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            grid.problems.append((start, -1, f"not valid CSV: {exc}", None))
            return
        yield start, row
        start = reader.line_num + 1
