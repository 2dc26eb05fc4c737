"""Text written into spreadsheets and CSV files made inert (never a formula), and read
back without the quote that made it so (OWASP CSV injection).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

QUOTE = "'"

# Characters an .xlsx cell cannot hold (openpyxl refuses them: IllegalCharacterError).
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def needs_quote(text: str) -> bool:
    """True when a spreadsheet would read `text` as a formula (or it starts like a quoted one).

    Text that already starts with quotes before a trigger gets one more, so
    that `plain` gives back exactly what was written.
    """
    return text.lstrip(QUOTE).startswith(TRIGGERS)


def csv_text(text: str) -> str:
    """`text` as a CSV cell that no spreadsheet evaluates."""
    return QUOTE + text if needs_quote(text) else text


def plain(text: str) -> str:
    """The text a CSV cell written by `csv_text` stands for (its quote removed)."""
    if text.startswith(QUOTE) and needs_quote(text[1:]):
        return text[1:]
    return text


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with every text cell and column name made inert (numbers untouched).

    Returns `df` itself when nothing needs a quote (the common case: no copy).
    """
    columns = [str(c) for c in df.columns]
    renamed = [csv_text(c) for c in columns]
    changed: dict[Any, pd.Series] = {}
    for col in df.columns:
        series = df[col]
        if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
            continue
        mask = series.map(lambda v: isinstance(v, str) and needs_quote(v))
        if bool(mask.any()):
            changed[col] = series.where(~mask, QUOTE + series.astype(str))
    if not changed and renamed == columns:
        return df
    out = df.assign(**{str(k): v for k, v in changed.items()}) if changed else df.copy()
    if renamed != columns:
        out.columns = renamed
    return out


def plain_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Undo `csv_frame` in the text `columns` of a table read back from CSV."""
    for col in columns:
        if col in df.columns:
            df[col] = df[col].map(lambda v: plain(v) if isinstance(v, str) else v)
    return df


def sheet_text(text: str) -> str:
    """`text` as a workbook cell can hold it: characters it refuses written as escapes."""
    return _XLSX_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def format_literal(text: str) -> str:
    """`text` as a literal inside an Excel number format, whatever it contains.

    Plain text goes in double quotes (`"USD"`); text with a double quote or a
    backslash has every character escaped (`\\U\\S\\"`), since a quoted literal
    cannot hold a quote.
    """
    text = sheet_text(text)
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    return "".join("\\" + ch for ch in text)
