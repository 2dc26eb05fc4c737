"""A table file as read: a grid of raw cells with their line, within the caps on size.

`csv_file` and `xlsx` make a `Grid` of a CSV file or of a workbook's sheet; a
file that cannot be read at all is a `TableFileError`, reported at the YAML line
that names it. A table file is read as a regular file only (never a FIFO or a
device), once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from optimizer.io.regular_file import FileRefused, TooLarge, read_regular

MAX_TABLE_BYTES = 32 * 1024 * 1024  # as for a scenario file
MAX_COLUMNS = 10_000


class TableFileError(Exception):
    """A table file that cannot be read at all (reported at the line that names it)."""


class Grid:
    """A table as read: display name, header and rows of raw cells with their line."""

    def __init__(
        self, shown: str, header: list[Any], rows: Iterator[tuple[int, list[Any]]], xlsx: bool
    ) -> None:
        self.shown = shown
        self.header = header
        self.rows = rows
        self.xlsx = xlsx
        self.problems: list[tuple[int, int, str, str | None]] = []  # (line, col, message, got)


def read_capped(path: Path) -> bytes:
    """A table file's bytes: a regular file (never a FIFO or a device), within the cap."""
    try:
        return read_regular(path, MAX_TABLE_BYTES)
    except TooLarge as exc:
        raise TableFileError(_too_large(exc.size)) from None
    except FileRefused as exc:
        raise TableFileError(str(exc)) from None


def _too_large(size: int) -> str:
    return f"file is too large ({size:,} bytes; the limit is {MAX_TABLE_BYTES:,})"


def split_sheet(ref: str) -> tuple[str, str | None]:
    """`book.xlsx#Sheet` -> ("book.xlsx", "Sheet"); a CSV file keeps any `#` in its name."""
    match = re.match(r"(?is)(.*\.xlsx)#(.*)", ref)
    if match:
        return match.group(1), match.group(2)
    return ref, None
