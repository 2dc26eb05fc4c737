"""An .xlsx workbook's sheets as grids of saved values, streamed (DESIGN §3.1).

A workbook is read for the values Excel saved with it (`data_only`): a formula
without a saved value is a `NoSavedValue` cell, an Excel error an `ExcelError`;
nothing is evaluated, macros and external links are not read, a DTD or an
entity is refused before anything is expanded, and a workbook that would unpack
to more than `MAX_UNPACKED_BYTES` is refused before openpyxl sees it.
"""

from __future__ import annotations

import difflib
import io
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from optimizer.io.tables.cells import ExcelError, NoSavedValue, is_empty
from optimizer.io.tables.grid import MAX_COLUMNS, Grid, TableFileError, read_capped

MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # a workbook's parts, unpacked (zip bombs)


def _check_zip(raw: bytes) -> None:
    """Refuse what is not a workbook, or would unpack to too much, before openpyxl sees it."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise TableFileError("is not an Excel workbook (.xlsx); was it saved as one?") from None
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        raise TableFileError(
            f"workbook unpacks to {unpacked:,} bytes; the limit is {MAX_UNPACKED_BYTES:,}"
        )


class Workbook:
    """An .xlsx workbook opened for its sheets' saved values, never their formulas.

    openpyxl reads the package: the manifest, the shared strings, the styles (which
    number formats are dates) and the list of sheets, as `load_workbook(read_only=True,
    data_only=True)` does; macros and external links are not read. The cells of a
    sheet are then streamed by `SheetReader`.

    Why not the sheets of `load_workbook`: openpyxl builds an element tree for every
    cell (and parses a sheet twice when it lacks a `<dimension>`, as sheets written by
    openpyxl do), about ten times slower than a table of 50,000 rows may take; and with
    `data_only` it reads a formula without a saved value as an empty cell, which must
    be an error that says so.
    """

    def __init__(self, path: Path) -> None:
        raw = read_capped(path)  # read once: what is checked is what is parsed
        _check_zip(raw)
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet

        try:
            reader = ExcelReader(
                io.BytesIO(raw), read_only=True, keep_vba=False, data_only=True, keep_links=False
            )
        except Exception as exc:  # hostile or broken input: a message, not a traceback
            raise TableFileError(f"is not a readable .xlsx workbook ({_reason(exc)})") from None
        self.archive = reader.archive
        try:
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            self.sheets = {
                sheet.name: (rel.target, "chartsheet" in rel.Type)
                for sheet, rel in reader.parser.find_sheets()
            }
            book = reader.wb
            self.cells = SheetReader(
                reader.shared_strings, book._date_formats, book._timedelta_formats, book.epoch
            )
        except Exception as exc:
            self.close()
            raise TableFileError(f"is not a readable .xlsx workbook ({_reason(exc)})") from None

    def close(self) -> None:
        self.archive.close()

    def grid(self, sheet: str | None, shown: str) -> Grid:
        """A sheet as a grid; `sheet` None: the workbook's only sheet."""
        names = list(self.sheets)
        if sheet is None:
            if len(names) != 1:
                raise TableFileError(
                    f"has {len(names)} sheets ({', '.join(names)}); name one: "
                    f"{shown}#{names[0] if names else 'Sheet'}"
                )
            sheet = names[0]
        if sheet not in names:
            close = difflib.get_close_matches(sheet, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TableFileError(
                f"has no sheet {sheet!r}{hint} (sheets: {', '.join(names) or 'none'})"
            )
        target, chart = self.sheets[sheet]
        if chart:
            raise TableFileError(f"sheet {sheet!r} is a chart, not a table")
        try:
            src = self.archive.open(target.lstrip("/"))
        except KeyError:
            raise TableFileError(f"sheet {sheet!r} is missing from the file") from None
        rows = self.cells.rows(src)
        try:
            first = next(rows, None)
        except Exception as exc:
            raise TableFileError(f"sheet {sheet!r} cannot be read ({_reason(exc)})") from None
        if first is None or first[0] != 1 or all(is_empty(v) for v in first[1]):
            raise TableFileError(
                f"sheet {sheet!r}: row 1 must be the header (the column names); it is empty"
            )
        grid = Grid(f"{shown}#{sheet}", first[1], iter(()), xlsx=True)
        grid.rows = _guarded(rows, grid)
        return grid


class XmlForbidden(ValueError):
    """A sheet that declares a DTD or entities: refused, never expanded."""


def _reason(exc: BaseException) -> str:
    """What went wrong, in a few words; the innermost cause if XML was refused."""
    inner: BaseException | None = exc
    while inner is not None:
        if isinstance(inner, XmlForbidden) or type(inner).__module__.startswith("defusedxml"):
            return "it declares XML entities or a DTD, which are not allowed"
        inner = inner.__cause__ or inner.__context__
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def _guarded(rows: Iterator[tuple[int, list[Any]]], grid: Grid) -> Iterator[tuple[int, list[Any]]]:
    """Rows of a sheet; a broken part of the file ends them with a problem, not a traceback."""
    line = 1
    try:
        for line, cells in rows:
            yield line, cells
    except Exception as exc:
        grid.problems.append((line + 1, -1, f"the sheet cannot be read on ({_reason(exc)})", None))


_DIGITS = "0123456789"


def _column_index(letters: str) -> int:
    """0-based index of Excel column letters (`A` -> 0, `AA` -> 26)."""
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


class SheetReader:
    """Streams a sheet's XML with expat: (row number, values by column) per row.

    Values as openpyxl reads them with `data_only` (numbers, text, booleans, dates
    where the cell's number format is a date), except that an Excel error is an
    `ExcelError` and a formula without a saved value a `NoSavedValue`. A DTD (and
    so any entity) is refused before anything is expanded. Elements are matched by
    local name (`c`, or `x:c` where the sheet uses a prefix).
    """

    CHUNK = 1 << 16

    def __init__(
        self, strings: Sequence[str], date_formats: Any, timedelta_formats: Any, epoch: Any
    ) -> None:
        self.strings = strings
        self.date_formats = date_formats
        self.timedelta_formats = timedelta_formats
        self.epoch = epoch

    def rows(self, src: Any) -> Iterator[tuple[int, list[Any]]]:
        """Rows of the sheet read from the binary stream `src` (closed at the end)."""
        import xml.parsers.expat

        done: list[tuple[int, list[Any]]] = []
        parser = xml.parsers.expat.ParserCreate()
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _forbidden
        parser.EntityDeclHandler = _forbidden
        parser.StartElementHandler = self._root_handler(parser, done)
        with src:
            while True:
                chunk = src.read(self.CHUNK)
                parser.Parse(chunk, not chunk)
                yield from done
                done.clear()
                if not chunk:
                    return

    def _root_handler(self, parser: Any, done: list[tuple[int, list[Any]]]) -> Any:
        """The handler of the first element: it names the prefix, then a `_SheetEvents`
        takes over."""

        def root(name: str, attrs: dict[str, str]) -> None:
            prefix = name[: name.index(":") + 1] if ":" in name else ""
            events = _SheetEvents(self, done, prefix)
            parser.StartElementHandler = events.start
            parser.EndElementHandler = events.end
            parser.CharacterDataHandler = events.text

        return root

    def cell(
        self,
        kind: str,
        style: str | None,
        saved: str | None,
        formula: str | None,
        inline: str | None,
    ) -> Any:
        """A cell's value from its type, style, saved value, formula and inline text."""
        if kind == "inlineStr":
            return inline
        if saved:
            return self.value(kind, int(style) if style else 0, saved)
        if formula is not None and kind != "str":  # "str" with nothing saved: the text ""
            return NoSavedValue(f"={formula}" if formula else "a shared formula")
        return None

    def value(self, kind: str, style: int, text: str) -> Any:
        """A cell's value from its type (`t`), style (`s`) and saved text (`<v>`)."""
        if kind == "n":
            number: Any = float(text) if "." in text or "E" in text or "e" in text else int(text)
            if style and style in self.date_formats:
                from openpyxl.utils.datetime import from_excel

                try:
                    return from_excel(number, self.epoch, timedelta=style in self.timedelta_formats)
                except (OverflowError, ValueError):
                    return ExcelError("#VALUE!")
            return number
        if kind == "s":
            return self.strings[int(text)]
        if kind == "str":
            return text
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "e":
            return ExcelError(text)
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(text)
        raise ValueError(f"unknown cell type {kind!r}")


def _forbidden(*args: Any) -> None:
    raise XmlForbidden("DTDs and entities are not allowed")


class _SheetEvents:
    """The expat handlers of one sheet and what they remember between events.

    This is the hot path of a large workbook (a few million events for 50,000
    rows): one comparison per event in the common case, numbers and shared strings
    read inline.
    """

    __slots__ = (
        "c_tag", "cells", "col", "columns", "done", "f_tag", "formula", "inline", "into",
        "is_tag", "kind", "phonetic", "plain_styles", "reader", "row", "row_tag", "rph_tag",
        "saved", "strings", "style", "t_tag", "v_tag",
    )  # fmt: skip

    def __init__(self, reader: SheetReader, done: list[tuple[int, list[Any]]], prefix: str):
        self.c_tag, self.v_tag, self.f_tag, self.row_tag, self.is_tag, self.t_tag, self.rph_tag = (
            prefix + tag for tag in ("c", "v", "f", "row", "is", "t", "rPh")
        )
        self.reader = reader
        self.strings = reader.strings
        self.done = done
        self.plain_styles: dict[str | None, bool] = {None: True}  # style -> not a date format
        self.columns: dict[str, int] = {}
        self.cells: list[Any] = []
        self.row, self.col = 0, -1
        self.kind: str = "n"
        self.style: str | None = None
        self.saved: str | None = None  # the text of <v>
        self.formula: str | None = None  # the text of <f>
        self.inline: str | None = None  # the text of <is>, without phonetic runs
        self.into = 0  # where text goes: 0 nowhere, 1 <v>, 2 <f>, 3 <is><t>
        self.phonetic = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == self.c_tag:
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                index = self.columns.get(letters)
                if index is None:
                    index = self.columns[letters] = _column_index(letters)
                self.col = index
            else:
                self.col += 1
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s")
            self.saved = self.formula = self.inline = None
        elif name == self.v_tag:
            self.saved, self.into = "", 1
        elif name == self.row_tag:
            r = attrs.get("r")
            self.row = int(r) if r else self.row + 1
            self.cells, self.col = [], -1
        elif name == self.f_tag:
            self.formula, self.into = "", 2
        elif name == self.is_tag:
            self.inline = ""
        elif name == self.t_tag and self.inline is not None and not self.phonetic:
            self.into = 3
        elif name == self.rph_tag:
            self.phonetic = True

    def text(self, data: str) -> None:
        into = self.into
        if into == 1:
            self.saved += data  # type: ignore[operator]
        elif into == 2:
            self.formula += data  # type: ignore[operator]
        elif into == 3:
            self.inline += data  # type: ignore[operator]

    def end(self, name: str) -> None:
        if name == self.v_tag:
            self.into = 0
        elif name == self.c_tag:
            self.close_cell()
        elif name == self.row_tag:
            if self.cells:
                self.done.append((self.row, self.cells))
        elif name in (self.f_tag, self.t_tag):
            self.into = 0
        elif name == self.rph_tag:
            self.phonetic = False

    def close_cell(self) -> None:
        saved, kind, style = self.saved, self.kind, self.style
        plain = self.plain_styles.get(style)
        if plain is None:
            plain = int(style) not in self.reader.date_formats  # type: ignore[arg-type]
            self.plain_styles[style] = plain
        if saved and kind == "n" and plain:  # the common cases first, inline
            value: Any = (
                float(saved) if "." in saved or "E" in saved or "e" in saved else int(saved)
            )
        elif saved and kind == "s":
            value = self.strings[int(saved)]
        else:
            value = self.reader.cell(kind, style, saved, self.formula, self.inline)
            if value is None:
                return
        cells, col = self.cells, self.col
        n = len(cells)
        if col == n:
            cells.append(value)
        elif n < col <= MAX_COLUMNS:
            cells.extend([None] * (col - n))
            cells.append(value)
        elif col < n:
            cells[col] = value
