"""The run report: one self-contained HTML page (inline CSS and SVG, no script, no fonts).

Made from a run folder's files only (`optimizer.run_folder.RunData`): the
answer first (total expected cost, status, the plan in a few sentences), then
the charts (sourcing mix, inventory runway, cost breakdown), then the tables
(order schedule, materials, scenarios). The page carries no timestamp, so the
same folder always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from optimizer.io.run_folder import RunData, read_run
from optimizer.reports import charts
from optimizer.reports.evaluation import decomposition_line, evaluation_caption, evaluation_rows
from optimizer.reports.formatting import amount, money
from optimizer.reports.headline import PENALTY_MEANING, answer
from optimizer.results.plan import COST_KEYS, PENALTY_KEYS, SPEND_KEYS, cost_items
from optimizer.schema.summary import RunSummary, ScenarioSummary

REPORT = "report.html"

RUNWAY_MOST_LIKELY = 2

SCENARIO_ROWS = 12


def environment() -> jinja2.Environment:
    """The Jinja environment of the report pages (escaping on, undefined names are errors)."""
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    return env


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def _pct(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{100 * float(value):.{digits}f}%"


def runway_scenarios(
    rows: Sequence[ScenarioSummary], most_likely: int = RUNWAY_MOST_LIKELY
) -> list[str]:
    """The scenarios to draw: the most likely ones, then the costliest if not among them."""
    if not rows:
        return []
    likely = sorted(rows, key=lambda r: (-r.probability, r.name))[:most_likely]
    names = [r.name for r in likely]
    worst = max(rows, key=lambda r: (r.cost, r.name)).name
    return names if worst in names else [*names, worst]


def scenario_titles(rows: Sequence[ScenarioSummary]) -> dict[str, str]:
    """Panel titles: name, probability, and which scenario is the worst."""
    if len(rows) < 2:
        return {r.name: r.name for r in rows}
    worst = max(rows, key=lambda r: (r.cost, r.name)).name
    return {
        r.name: ("worst: " if r.name == worst else "") + f"{r.name} ({100 * r.probability:.0f}%)"
        for r in rows
    }


def safety_levels(run: RunData) -> dict[str, float]:
    """The safety stock per material for the runway chart (its largest target over the
    periods, when it is given in days of cover)."""
    inv = run.inventory
    if "safety_stock" in inv.columns and not inv.empty:
        return {str(m): float(v) for m, v in inv.groupby("material")["safety_stock"].max().items()}
    return {m: float(v.safety_stock or 0.0) for m, v in run.scenario.materials.items()}


def chart_set(run: RunData) -> list[dict[str, str]]:
    """The page's charts: id, heading, caption and inline SVG."""
    doc, unit, cur = run.summary, run.unit, run.currency
    mix = charts.share_bars(
        run.plan,
        group="material",
        segment="country",
        value="quantity",
        unit=unit,
        chart_id="chart-mix",
        label="Sourcing mix: share of planned volume by country, per material",
    )
    names = runway_scenarios(doc.scenarios)
    safety = safety_levels(run)
    runway = charts.runway_chart(
        run.inventory,
        scenarios=names,
        safety_stock=safety,
        unit=unit,
        titles=scenario_titles(doc.scenarios),
        chart_id="chart-runway",
        label="Inventory runway per material: stock at the end of each period and shortage",
    )
    costs = pd.DataFrame(
        {doc.scenario: list(cost_items(doc.costs).values())}, index=list(COST_KEYS)
    )
    cost = charts.cost_chart(
        costs, currency=cur, chart_id="chart-costs", label="Expected cost by cost item"
    )
    several = len(doc.scenarios) > 1
    runway_caption = (
        f"Stock at the end of each period ({unit}, blue) and demand not met (red, below "
        "zero); the dashed line is the safety stock; hatched orange above the stock: "
        "shipments due that period that a delay (a licence backlog) holds back. "
        + (
            f"Columns: the {RUNWAY_MOST_LIKELY} most likely scenarios and the costliest."
            if several
            else ""
        )
    )
    return [
        {
            "id": "mix",
            "heading": "Sourcing mix",
            "caption": "Share of each material's planned volume by supplier country "
            f"(total planned volume in {unit} under each name).",
            "svg": mix,
        },
        {"id": "runway", "heading": "Inventory runway", "caption": runway_caption, "svg": runway},
        {
            "id": "costs",
            "heading": "Cost breakdown",
            "caption": f"Expected cost by item ({cur}); the table below gives the figures.",
            "svg": cost,
        },
    ]


def context(run: RunData) -> dict[str, Any]:
    """Everything the template shows."""
    doc = run.summary
    total = doc.total_cost
    scenarios = sorted(doc.scenarios, key=lambda r: (-r.probability, r.name))
    shown = scenarios[:SCENARIO_ROWS]
    worst = max(scenarios, key=lambda r: (r.cost, r.name)) if scenarios else None
    if worst is not None and worst not in shown:
        shown.append(worst)
    cvar = doc.cvar if len(scenarios) > 1 else None
    items = cost_items(doc.costs)
    orders = run.orders.to_dict("records")
    return {
        "doc": doc,
        "title": doc.title or doc.scenario,
        "cur": run.currency,
        "unit": run.unit,
        "total": total,
        "total_text": money(total, run.currency),
        "cvar": cvar,
        "cvar_text": money(cvar.cvar, run.currency) if cvar else "",
        "spend_text": money(doc.spend, run.currency),
        "penalties_text": money(doc.penalties, run.currency),
        "penalty_note": penalty_note(doc),
        "shortage_cost": items["shortage"],
        "shortage_text": shortage_text(doc, run.unit),
        "shortage_note": "demand not met, per material (expected over the scenarios)",
        "sentences": answer(run),
        "charts": chart_set(run),
        "costs": [
            (k.replace("_", " "), "spend" if k in SPEND_KEYS else "penalty", v)
            for k, v in items.items()
        ],
        "orders": orders,
        "orders_total": float(run.orders["line_total"].sum()) if orders else 0.0,
        "dated": bool(run.scenario.horizon.start),
        "start": run.scenario.horizon.start,
        "scenarios": shown,
        "more_scenarios": max(0, len(scenarios) - len(shown)),
        "worst": worst.name if worst and len(scenarios) > 1 else None,
        "materials": sorted(doc.materials.items()),
        "survive": survive_section(run),
        "top": _top,
        "evaluation": evaluation_section(doc),
        "decomposition": decomposition_line(doc.model),
    }


def evaluation_section(doc: RunSummary) -> dict[str, Any] | None:
    """`run --evaluate`: the plan out of sample (rows with 95% intervals, and a caption)."""
    if doc.evaluation is None:
        return None
    return {
        "rows": evaluation_rows(doc.evaluation),
        "caption": evaluation_caption(doc.evaluation, doc.currency),
    }


def penalty_note(doc: RunSummary) -> str:
    """What the penalties stand for, largest first."""
    items = cost_items(doc.costs)
    parts = sorted(
        ((PENALTY_MEANING[k], items[k]) for k in PENALTY_KEYS if items[k] > 0.5),
        key=lambda kv: -kv[1],
    )
    return "; ".join(f"{m} {money(v, doc.currency)}" for m, v in parts) or "none"


def shortage_text(doc: RunSummary, unit: str) -> str:
    """Expected shortage per material (tonnes of different materials are never added)."""
    parts = [
        f"{amount(k.expected_shortage, unit)} {mid}"
        for mid, k in sorted(doc.materials.items())
        if k.expected_shortage > 1e-6
    ]
    return ", ".join(parts) if parts else "none"


def survive_section(run: RunData) -> dict[str, Any] | None:
    """Time to survive per stopped supplier and country, when the run has survive.csv."""
    if run.survive is None or run.survive.empty:
        return None
    from optimizer.analysis.survive import SurviveReport
    from optimizer.reports.survive_html import context as survive_context

    sc = run.scenario
    report = SurviveReport(
        sc.name,
        "",
        sc.horizon.periods * sc.horizon.period_days,
        run.currency,
        run.unit,
        run.survive,
    )
    return survive_context(report)


def _top(shares: dict[str, float | None], n: int = 4) -> str:
    items = sorted(shares.items(), key=lambda kv: (-(kv[1] or 0.0), kv[0]))[:n]
    return ", ".join(f"{k} {100 * (v or 0.0):.0f}%" for k, v in items)


def render(run: RunData) -> str:
    """The report page as HTML text."""
    text = (
        files("optimizer.reports")
        .joinpath("templates", "report.html.j2")
        .read_text(encoding="utf-8")
    )
    return environment().from_string(text).render(**context(run))


def rewrite_report(folder: Path) -> Path:
    """(Re)write a run folder's report from its files (`sourcing report RUN_DIR`)."""
    return write_report(read_run(folder), folder / REPORT)


def write_report(data: RunData, target: Path) -> Path:
    """Write the report of a run; the file is replaced atomically."""
    from optimizer.reports.folder import write_file

    html = render(data)
    return write_file(target, lambda p: p.write_bytes(html.encode("utf-8")))
