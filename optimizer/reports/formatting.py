"""How figures are written for people, in every report: money, quantities and shares
(console tables, the HTML pages, the headline)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def _missing(v: Any) -> bool:
    return v is None or bool(pd.isna(v))


def money_cell(v: Any) -> str:
    """Money in a table cell, to the unit: 36,095,981 (or - when missing)."""
    return "-" if _missing(v) else f"{float(v):,.0f}"


def pct_cell(v: Any) -> str:
    """A fraction in a table cell as a percentage: 80.0% (or -)."""
    return "-" if _missing(v) else f"{100 * float(v):.1f}%"


def qty_cell(v: Any) -> str:
    """A quantity in a table cell, to 0.01: 1,234.50 (or -)."""
    return "-" if _missing(v) else f"{float(v):,.2f}"


def amount(value: float, unit: str) -> str:
    """A quantity to three significant digits: 1,250 t, 24.5 t, 11 t, 0.463 t."""
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{text} {unit}"


def money(value: float, currency: str) -> str:
    """An amount in millions or thousands: 60.8 M USD, 612 k USD."""
    v = abs(value)
    if v >= 1e6:
        return f"{value / 1e6:,.1f} M {currency}"
    if v >= 1e4:
        return f"{value / 1e3:,.0f} k {currency}"
    return f"{value:,.0f} {currency}"


def format_value(value: Any, unit: str, currency: str) -> str:
    """A KPI for people: money to the unit, shares in %, risk to 2 digits, volumes to 0.01."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if unit == "text" or isinstance(value, str):
        return str(value)
    v = float(value)
    if unit == "share":
        return f"{100 * v:.1f}%"
    if unit == "score":
        return f"{v:.2f}"
    if unit == "count":
        return f"{v:.0f}"
    if unit == currency or unit.startswith(f"{currency}/"):
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def format_delta(value: Any) -> str:
    """A volume difference with its sign (0 as 0)."""
    v = float(value)
    return "0" if abs(v) < 5e-7 else f"{v:+,.2f}"
