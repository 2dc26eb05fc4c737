"""A run's summary as readable tables on the console (rich); nothing is ever cut."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from optimizer.reports.evaluation import decomposition_line, evaluation_caption, evaluation_rows
from optimizer.reports.formatting import money_cell as _money
from optimizer.reports.formatting import pct_cell as _pct
from optimizer.schema.summary import RunSummary, ShadowPrice, fields_of


def print_summary(doc: RunSummary, console: Console, *, written: bool = False) -> None:
    """Print a run's summary as readable tables (`written`: the run folder exists, so the
    tables may point at its files for what they leave out)."""
    cur = doc.currency
    title = doc.title or doc.scenario
    head = Table.grid(padding=(0, 2))
    head.add_row("Scenario", f"{title} ({doc.scenario})")
    head.add_row("Status", f"{doc.status} (checked: {'yes' if doc.checked else 'no'})")
    head.add_row("Objective", f"{_money(doc.objective)} {cur}")
    head.add_row("Expected spend", f"{_money(doc.spend)} {cur} (money paid)")
    head.add_row("Expected penalties", f"{_money(doc.penalties)} {cur} (modelled, not paid)")
    if doc.cvar is not None and len(doc.scenarios) > 1:
        cv = doc.cvar
        head.add_row(
            f"Tail cost (CVaR {cv.alpha:g})",
            f"{_money(cv.cvar)} {cur} (VaR {_money(cv.var)})",
        )
    console.print(head)
    _print_costs(doc, console)
    _print_materials(doc, console)
    if len(doc.scenarios) > 1:
        _print_scenarios(doc, console, written=written)
    if doc.shadow_prices:
        _print_shadow_prices(doc, console, written=written)
    if doc.evaluation is not None:
        _print_evaluation(doc, console)
    s = doc.solver
    gap = "" if s.gap in (None, 0.0) else f", gap {s.gap:.2%}"
    m = doc.model
    console.print(
        f"Solver: {s.name} {s.status}{gap} in {s.seconds:.2f} s; model {m.kind}: "
        f"{m.variables:,} variables, {m.rows:,} rows, {m.nonzeros:,} non-zeros"
        + (f", {m.binaries:,} binaries" if m.binaries else "")
    )
    line = decomposition_line(m)
    if line:
        console.print(line, markup=False)


def _print_evaluation(doc: RunSummary, console: Console) -> None:
    """`run --evaluate`: the plan out of sample, with 95% intervals."""
    assert doc.evaluation is not None
    t = Table(title="Out of sample", title_justify="left")
    t.add_column("figure")
    for col in (f"value ({doc.currency})", "95% from", "95% to"):
        t.add_column(col, justify="right")
    for row in evaluation_rows(doc.evaluation):
        t.add_row(row["label"], _money(row["value"]), _money(row["low"]), _money(row["high"]))
    console.print(t)
    console.print(evaluation_caption(doc.evaluation, doc.currency), markup=False)


PENALTY_NOTES = {
    "delay": "days of lead time and licence wait",
    "shortage": "demand not met",
    "safety_stock": "plan below its safety stock",
    "end_stock": "plan ends below its end stock",
}


def _print_costs(doc: RunSummary, console: Console) -> None:
    """Money spent, then modelled penalties, each with its items and share of the total."""
    cur = doc.currency
    costs = doc.costs
    table = Table(title=f"Expected cost ({cur})", title_justify="left")
    table.add_column("item", overflow="fold")
    table.add_column("cost", justify="right", overflow="fold")
    table.add_column("share", justify="right", overflow="fold")
    table.add_column("what it is", overflow="fold")
    total = doc.total_cost
    groups: tuple[tuple[str, float, BaseModel, dict[str, str]], ...] = (
        ("money spent", doc.spend, costs.spend, {}),
        ("penalties (not paid)", doc.penalties, costs.penalties, PENALTY_NOTES),
    )
    for label, subtotal, items, notes in groups:
        for item, value in fields_of(items):
            share = _pct(value / total if total else None)
            table.add_row(f"  {item.replace('_', ' ')}", _money(value), share, notes.get(item, ""))
        share = _pct(subtotal / total if total else None)
        table.add_row(label, _money(subtotal), share, "", style="bold")
    table.add_row("total", _money(total), "100.0%" if total else "-", "", style="bold")
    console.print(table)


def _print_materials(doc: RunSummary, console: Console) -> None:
    """Per material: volume, risk, shortage, service, end position and the sourcing mix."""
    unit = doc.quantity_unit
    mats = Table(title="Materials", title_justify="left")
    for col in (
        "material",
        f"volume ({unit})",
        "avg risk",
        f"exp. shortage ({unit})",
        f"worst ({unit})",
        "service",
        f"end stock ({unit})",
        "by country",
        "by supplier",
    ):
        left = col in ("material", "by country", "by supplier")
        mats.add_column(col, justify="left" if left else "right", overflow="fold")
    for mid, k in doc.materials.items():
        end = k.end_position
        end_text = f"{end.closing:,.1f}"
        if end.end_stock:
            end_text += f" / {end.end_stock:,.1f}"
        mats.add_row(
            mid,
            f"{k.volume:,.1f}",
            "-" if k.average_risk is None else f"{k.average_risk:.2f}",
            f"{k.expected_shortage:,.1f}",
            f"{k.worst_shortage:,.1f}",
            _pct(k.service_level),
            end_text,
            ", ".join(f"{c} {_pct(v)}" for c, v in _top(k.share_by_country)),
            ", ".join(f"{s} {_pct(v)}" for s, v in _top(k.share_by_supplier)),
        )
    mats.caption = "end stock: closing stock of the plan / its end-stock target"
    console.print(mats)


def _top(shares: dict[str, float], n: int = 4) -> list[tuple[str, float]]:
    return sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _print_scenarios(
    doc: RunSummary, console: Console, limit: int = 12, *, written: bool = False
) -> None:
    t = Table(title="Scenarios", title_justify="left")
    for col in ("scenario", "probability", f"cost ({doc.currency})", "shortage", "spot"):
        t.add_column(col, justify="left" if col == "scenario" else "right", overflow="fold")
    rows = sorted(doc.scenarios, key=lambda r: -r.probability)
    for r in rows[:limit]:
        t.add_row(
            r.name,
            f"{r.probability:.3f}",
            _money(r.cost),
            f"{r.shortage:,.1f}",
            f"{r.spot:,.1f}",
        )
    if len(rows) > limit:
        where = " in scenarios.csv" if written else " (all of them with --out or --json)"
        t.caption = f"{len(rows) - limit} more scenarios{where}"
    console.print(t)


def shadow_sentence(rec: ShadowPrice, unit: str, where: str | None = None) -> str:
    """What relaxing a binding cap or capacity by one step means, in words, and for how
    far the value holds ("for the next 0.05 t/period"); `where`: the periods it holds in
    (" in periods 5-12"), else its own period."""
    if where is None:
        where = f" in period {rec.period}" if rec.period else ""
    kind = rec.constraint
    high, limit = rec.range_high, rec.limit
    room = None if high is None else high - limit
    if kind in ("country_share", "supplier_share", "country_exposure"):
        label = {
            "country_share": "from",
            "supplier_share": "from supplier",
            "country_exposure": "exposed to",
        }[kind]
        text = (
            f"one more point of {rec.material} {label} {rec.subject} (cap {_pct(rec.limit)}){where}"
        )
        return text + (f", up to {_pct(high)}" if room is not None and room < 1 else "")
    if kind == "average_risk":
        text = f"0.01 more average risk allowed on {rec.material} (cap {rec.limit:g}){where}"
        return text + (f", up to {high:.3g}" if room is not None and room < 1 else "")
    text = f"one more {unit} of {rec.material} capacity at {rec.subject}{where}"
    if room is not None and math.isfinite(room):
        text += f", for the next {room:,.3g} {unit}/period"
    return text


def _group_periods(records: list[ShadowPrice]) -> list[tuple[ShadowPrice, str | None]]:
    """Merge rows that differ only by period and have the same value ("periods 5-12"):
    the first row of each group, and its periods when there are several."""
    groups: dict[tuple[Any, ...], tuple[ShadowPrice, list[int]]] = {}
    for rec in records:
        key = (rec.constraint, rec.material, rec.subject, round(rec.per_step, 2))
        if key not in groups:
            groups[key] = (rec, [])
        if rec.period:
            groups[key][1].append(rec.period)
    out: list[tuple[ShadowPrice, str | None]] = []
    for rec, periods in groups.values():
        periods = sorted(periods)
        where = None
        if len(periods) > 1:
            run = periods == list(range(periods[0], periods[-1] + 1))
            span = f"{periods[0]}-{periods[-1]}" if run else ", ".join(map(str, periods))
            where = f" in periods {span}"
        out.append((rec, where))
    return out


def _print_shadow_prices(
    doc: RunSummary, console: Console, limit: int = 8, *, written: bool = False
) -> None:
    t = Table(title=f"Shadow prices ({doc.shadow_prices_note or 'LP duals'})", title_justify="left")
    t.add_column("relaxing a binding limit by one step", overflow="fold")
    t.add_column(f"saves ({doc.currency})", justify="right", overflow="fold")
    records = _group_periods(doc.shadow_prices)
    for rec, where in records[:limit]:
        t.add_row(shadow_sentence(rec, doc.quantity_unit, where), _money(rec.per_step))
    if len(records) > limit:
        where = " in summary.json" if written else " (all of them with --out or --json)"
        t.caption = f"{len(records) - limit} more{where}"
    console.print(t)


def print_batch(results: list[Any], console: Console) -> None:
    """One line per file of a batch: status, cost, shortage, time."""
    t = Table(title="Batch", title_justify="left")
    for col in (
        "file",
        "scenario",
        "status",
        "objective",
        "total cost",
        "exp. shortage",
        "seconds",
    ):
        left = col in ("file", "scenario", "status")
        t.add_column(col, justify="left" if left else "right", overflow="fold")
    for r in results:
        if not r.ok:
            t.add_row(
                r.path, "-", f"failed (exit {r.exit_code})", "-", "-", "-", f"{r.seconds:.1f}"
            )
            continue
        d: RunSummary = r.summary
        shortage = sum(k.expected_shortage for k in d.materials.values())
        t.add_row(
            r.path,
            d.scenario,
            d.status,
            _money(d.objective),
            _money(d.total_cost),
            f"{shortage:,.1f}",
            f"{r.seconds:.1f}",
        )
    console.print(t)
