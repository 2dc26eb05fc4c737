"""A table's cells as values of their column's kind (DESIGN §3.1).

CSV cells are text and read strictly: a number written as text (`12,5`, `1e3 t`,
`35%`) is a `Bad` cell whose message says what to write instead. Workbook cells
come typed (numbers, text, booleans, dates); an Excel error or a formula without
a saved value is never read as a value.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

MAX_NUMBER_TEXT = 100  # characters of a cell read as a number


class Bad:
    """A cell that cannot be read as its column's kind: the message says why."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class ExcelError(str):
    """A cell that holds an Excel error value (`#DIV/0!`, `#N/A`, `#REF!`)."""


class NoSavedValue(str):
    """A formula cell without the value Excel saves with it (the text is `=` and the
    formula, never empty)."""


_NUM_RE = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_INT_RE = re.compile(r"[-+]?[0-9]{1,18}")
_UNIT_RE = re.compile(r"([-+]?(?:[0-9][0-9,. ]*)?[0-9](?:[eE][-+]?[0-9]+)?)\s*([^\s0-9.,+-].*)")
_THOUSANDS_RE = re.compile(r"[-+]?[0-9]{1,3}(?:[, ][0-9]{3})+(?:\.[0-9]+)?")
_DECIMAL_COMMA_RE = re.compile(r"[-+]?[0-9]*,[0-9]+")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_IDS_SPLIT = re.compile(r"[\s,;]+")


def is_empty(value: Any) -> bool:
    return value is None or value == ""


def show_cell(value: Any) -> str:
    """A cell's content as the user would see it, shortened."""
    if isinstance(value, NoSavedValue | ExcelError):
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _not_a_number(text: str) -> str:
    """Why a piece of text is not a number, and what to write instead."""
    stripped = text.strip()
    if stripped == "":
        return "must be a number; the cell holds only spaces (empty it for the default)"
    if stripped != text and _NUM_RE.fullmatch(stripped):
        return f"must be a number; remove the spaces around {stripped}"
    if stripped.endswith("%"):
        try:
            pct = float(stripped[:-1].replace(",", "."))
        except ValueError:
            return "must be a number, not text"
        return f"must be a number, not text; write fractions as {pct / 100:g}, not {stripped}"
    if _DECIMAL_COMMA_RE.fullmatch(stripped) and not _THOUSANDS_RE.fullmatch(stripped):
        return (
            "must be a number, not text; use a point as the decimal separator: "
            f"{stripped.replace(',', '.')}"
        )
    if _THOUSANDS_RE.fullmatch(stripped):
        plain = re.sub("[, ]", "", stripped)
        return (
            f"must be a number, not text; write {plain} without thousands separators "
            "(with a point as the decimal separator)"
        )
    if stripped.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return "must be a finite number"
    unit = _UNIT_RE.fullmatch(stripped)
    if unit and _NUM_RE.fullmatch(unit.group(1).replace(",", "").replace(" ", "")):
        return (
            f"must be a number, not text; remove the unit {unit.group(2)!r} "
            "(units are the scenario's quantity_unit and currency)"
        )
    if stripped[:1] in "$€£¥" and _NUM_RE.fullmatch(stripped[1:].replace(",", "")):
        return "must be a number, not text; remove the currency sign and separators"
    return "must be a number, not text"


def number_from_text(text: str) -> Any:
    """A CSV cell read as a number (int or float), or `Bad`."""
    if len(text) <= MAX_NUMBER_TEXT and _NUM_RE.fullmatch(text):
        if _INT_RE.fullmatch(text):
            return int(text)
        return float(text)
    if len(text) > MAX_NUMBER_TEXT:
        return Bad(f"must be a number; {len(text)} characters are too many for one")
    return Bad(_not_a_number(text))


def number_from_excel(value: Any) -> Any:
    """A workbook cell read as a number, or `Bad`."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if isinstance(value, NoSavedValue | ExcelError):
        return Bad(_excel_problem(value))
    if isinstance(value, bool):
        return Bad("must be a number, not TRUE/FALSE")
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return Bad("must be a number, not a date or time; check the cell's format")
    if isinstance(value, str):
        if _NUM_RE.fullmatch(value.strip()):
            return Bad("must be a number: the cell holds text; convert it to a number")
        return Bad(_not_a_number(value))
    return Bad("must be a number")


def _excel_problem(value: str) -> str:
    if isinstance(value, NoSavedValue):
        return (
            "the cell holds a formula without a saved value (the workbook was written by a "
            "program that does not calculate); open it in Excel or LibreOffice and save it, "
            "or replace the formula by its value"
        )
    return f"the cell holds the Excel error {value}; fix the formula or give a value"


def text_from_excel(value: Any) -> Any:
    """A workbook cell read as text (an id); whole numbers read as their digits."""
    if type(value) is str:
        return value
    if isinstance(value, NoSavedValue | ExcelError):
        return Bad(_excel_problem(value))
    if isinstance(value, bool):
        return Bad("must be text, not TRUE/FALSE")
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return Bad("must be text (an id), not a number")
    return Bad("must be text (an id), not a date or time")


def ids_of(text: Any) -> Any:
    if isinstance(text, Bad):
        return text
    return [part for part in _IDS_SPLIT.split(text) if part]


def period_number(raw: Any, xlsx: bool) -> int | None:
    """A period cell as a whole number (a sheet's number, a CSV file's digits)."""
    if xlsx:
        if type(raw) is int:
            return raw
        return int(raw) if type(raw) is float and raw.is_integer() else None
    return int(raw) if isinstance(raw, str) and re.fullmatch(r"[0-9]{1,6}", raw) else None


def cell_date(raw: Any) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date() if raw.time() == dt.time() else None
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str) and DATE_RE.fullmatch(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            return None
    return None
