"""The plan's answer in a few plain sentences, for the top of a report.

Made from a run's summary document and tables only:

- the sourcing mix: the largest country share of each material
  ("Buy 80% of ndpr_oxide from China (CN)");
- shortages in the undisrupted case `base` (material, amount, periods);
- money spent apart from modelled penalties, and what the penalties stand for;
- the stock the plan hands to the next horizon, where it falls short of the
  end stock;
- with several scenarios, the worst one: its cost and shortage per material;
- orders to place today.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from optimizer.io.run_folder import RunData
from optimizer.reports.formatting import amount, money
from optimizer.schema.scenario import BASE_NAME
from optimizer.schema.summary import RunSummary, fields_of

BASE = BASE_NAME

SHORT = 1e-6

COUNTRY_NAMES = {
    "AR": "Argentina",
    "AU": "Australia",
    "BR": "Brazil",
    "CA": "Canada",
    "CL": "Chile",
    "CN": "China",
    "DE": "Germany",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "the United Kingdom",
    "GL": "Greenland",
    "ID": "Indonesia",
    "IN": "India",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "KZ": "Kazakhstan",
    "LA": "Laos",
    "MG": "Madagascar",
    "MM": "Myanmar",
    "MW": "Malawi",
    "MY": "Malaysia",
    "NA": "Namibia",
    "NL": "the Netherlands",
    "NO": "Norway",
    "PH": "the Philippines",
    "RU": "Russia",
    "SE": "Sweden",
    "TH": "Thailand",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "UK": "the United Kingdom",
    "US": "the United States",
    "VN": "Vietnam",
    "ZA": "South Africa",
}


def country_name(code: str) -> str:
    """`China (CN)` for a known code, else the code itself."""
    name = COUNTRY_NAMES.get(code)
    return f"{name} ({code})" if name else code


def listing(items: Sequence[str]) -> str:
    """a, b and c."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def period_start(start: dt.date | None, period: int, period_days: float) -> str:
    """` (from 2025-06-30)` when the horizon has a start date, else nothing."""
    if start is None:
        return ""
    day = start + dt.timedelta(days=math.floor((period - 1) * period_days + 1e-9))
    return f" (from {day.isoformat()})"


def answer(run: RunData) -> list[str]:
    """The headline sentences of a run, most important first."""
    out = [mix_sentence(run.summary), money_sentence(run.summary)]
    out.extend(shortage_sentences(run))
    out.extend(end_sentences(run.summary, run.unit))
    worst = worst_sentence(run, run.unit)
    if worst:
        out.append(worst)
    out.append(order_now_sentence(run))
    return [s for s in out if s]

PENALTY_MEANING = {
    "shortage": "demand not met",
    "delay": "days of lead time and licence wait",
    "safety_stock": "stock below the safety stock",
    "end_stock": "ending below the end stock",
}


def money_sentence(doc: RunSummary) -> str:
    """Spend 33.0 M USD; penalties 12.3 M USD (modelled, not paid: demand not met ...)."""
    cur = doc.currency
    text = f"Expected spend {money(doc.spend, cur)}"
    parts = [
        f"{PENALTY_MEANING[k]} {money(v, cur)}"
        for k, v in sorted(fields_of(doc.costs.penalties), key=lambda kv: (-kv[1], kv[0]))
        if v > 0.5
    ]
    if parts:
        text += f"; modelled penalties {money(doc.penalties, cur)}, not paid ({'; '.join(parts)})"
    else:
        text += "; no penalties"
    return text + "."


def end_sentences(doc: RunSummary, unit: str) -> list[str]:
    """Materials the plan hands to the next horizon below their end stock."""
    out = []
    for mid in sorted(doc.materials):
        end = doc.materials[mid].end_position
        if end.below_end_stock > SHORT:
            out.append(
                f"{mid} ends the horizon at {amount(end.closing, unit)}, "
                f"{amount(end.below_end_stock, unit)} below its end stock of "
                f"{amount(end.end_stock, unit)}."
            )
    return out


def mix_sentence(doc: RunSummary) -> str:
    """Buy 80% of a and b from China (CN); 60% of c from Malaysia (MY)."""
    groups: dict[tuple[str, int], list[str]] = {}
    unplanned = []
    for mid in sorted(doc.materials):
        shares = doc.materials[mid].share_by_country
        if not shares:
            unplanned.append(mid)
            continue
        country, share = min(shares.items(), key=lambda kv: (-kv[1], kv[0]))
        groups.setdefault((country, round(100 * share)), []).append(mid)
    parts = []
    for (country, pct), mats in sorted(groups.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        portion = "all" if pct >= 100 else f"{pct}%"
        parts.append(f"{portion} of {listing(mats)} from {country_name(country)}")
    text = "Buy " + "; ".join(parts) if parts else ""
    if unplanned:
        none = f"plan no purchase of {listing(unplanned)}"
        text = f"{text}; {none}" if text else none[0].upper() + none[1:]
    return text + "."


def shortage_sentences(run: RunData) -> list[str]:
    """Shortages in the undisrupted case, per material, with the periods they hit."""
    inv = run.inventory
    several = inv["scenario"].nunique() > 1
    base = inv[(inv["scenario"] == BASE) & (inv["shortage"] > SHORT)]
    horizon = run.scenario.horizon
    out = []
    for material, rows in base.groupby("material", sort=True):
        periods = sorted(int(p) for p in rows["period"])
        first, last = periods[0], periods[-1]
        when = f"period {first}" if first == last else f"periods {first}-{last}"
        if len(periods) != last - first + 1:
            when = f"{len(periods)} periods from period {first}"
        text = (
            f"{amount(float(rows['shortage'].sum()), run.unit)} of {material} short in {when}"
            f"{period_start(horizon.start, first, horizon.period_days)}"
        )
        out.append(text + (" even if no disruption hits." if several else "."))
    if not out and BASE in set(inv["scenario"]):
        total = float(inv["shortage"].sum())
        if not several or total <= SHORT:
            out.append("No shortage" + (" in any scenario." if several else "."))
        else:
            out.append("No shortage unless a disruption hits.")
    return out


def worst_sentence(run: RunData, unit: str) -> str:
    """With several scenarios: which one costs most, and what it leaves short, per
    material (tonnes of different materials are never added)."""
    doc = run.summary
    scenarios = doc.scenarios
    if len(scenarios) < 2:
        return ""
    worst = max(scenarios, key=lambda s: (s.cost, s.name))
    inv = run.inventory
    rows = inv[(inv["scenario"] == worst.name) & (inv["shortage"] > SHORT)]
    short = rows.groupby("material", sort=True)["shortage"].sum()
    gap = (
        " and leaves "
        + listing([f"{amount(float(v), unit)} of {m}" for m, v in short.items()])
        + " short"
        if len(short)
        else " with no shortage"
    )
    return (
        f"Worst of {len(scenarios)} scenarios: {worst.name} "
        f"(probability {100 * worst.probability:.0f}%) costs "
        f"{money(worst.cost, doc.currency)}{gap}."
    )


def order_now_sentence(run: RunData) -> str:
    """How many orders (and reservations) must be placed today."""
    now = run.orders[run.orders["order_now"] == "yes"]
    if now.empty:
        return "No order needs to be placed today."
    n = len(now)
    kinds = now["kind"] if "kind" in now else ["order"] * n
    reservations = sum(1 for k in kinds if k == "reservation")
    text = "1 order must" if n == 1 else f"{n} orders must"
    extra = f" ({reservations} of them reservations)" if reservations else ""
    return (
        f"{text} be placed today{extra}: {'its' if n == 1 else 'their'} lead time and licence "
        "wait reach back before day 0."
    )
