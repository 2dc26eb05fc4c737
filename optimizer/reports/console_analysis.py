"""Readable tables of compare, stress and frontier (rich), for the command line.

Each function takes the library's result and a console; numbers are
formatted for people (money to the unit, shares in %, volumes to 0.01).
"""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table

from optimizer.analysis.compare import Comparison
from optimizer.analysis.fixed_plan import EXPECTED, MATERIAL_FIGURES, material_column
from optimizer.analysis.frontier import FrontierPoint
from optimizer.analysis.stress import StressReport, figures_table, regret_table, stress_materials
from optimizer.analysis.survive import SurviveReport, wide
from optimizer.reports.formatting import format_delta, format_value
from optimizer.reports.formatting import money_cell as _money
from optimizer.reports.formatting import pct_cell as _pct
from optimizer.reports.formatting import qty_cell as _qty


def _fits(table: Table, console: Console) -> bool:
    """Whether a table fits the console's width at its natural width (nothing folded)."""
    wide = console.options.update(width=100_000, max_width=100_000)
    return console.measure(table, options=wide).maximum <= console.width


def print_comparison(c: Comparison, console: Console) -> None:
    """The KPI table and the volume table, a column per plan; when the plans do not fit
    the width side by side, one figure per row (nothing is ever cut)."""
    kpis = Table(title=f"Plans compared ({c.currency}, {c.unit})", title_justify="left")
    kpis.add_column("figure", overflow="fold")
    kpis.add_column("unit", overflow="fold")
    for label in c.labels:
        kpis.add_column(label, justify="right", no_wrap=True, overflow="fold")
    records = c.kpis.to_dict(orient="records")
    kpis.add_row("optimises", "", *[s.optimises.text() for s in c.summaries])
    for r in records:
        values = [format_value(r[label], r["unit"], c.currency) for label in c.labels]
        kpis.add_row(r["kpi"], r["unit"], *values)
    if _fits(kpis, console):
        console.print(kpis)
    else:
        long = Table(title=f"Plans compared ({c.currency}, {c.unit})", title_justify="left")
        for col in ("figure", "unit", "plan", "value"):
            right = col == "value"
            long.add_column(
                col, justify="right" if right else "left", overflow="fold", no_wrap=right
            )
        for label, s in zip(c.labels, c.summaries, strict=True):
            long.add_row("optimises", "", label, s.optimises.text())
        for r in records:
            for label in c.labels:
                value = format_value(r[label], r["unit"], c.currency)
                long.add_row(r["kpi"], r["unit"], label, value)
        console.print(long)
    vols = Table(title=f"Planned volume by supplier and material ({c.unit})", title_justify="left")
    keys = ("supplier", "material", "country")
    columns = [col for col in c.volumes.columns if col not in keys]
    for col in (*keys, *columns):
        vols.add_column(
            col,
            justify="left" if col in keys else "right",
            no_wrap=col not in keys,
            overflow="fold",
        )
    rows = c.volumes.to_dict(orient="records")
    for r in rows:
        cells = [format_delta(r[col]) if " - " in col else _qty(r[col]) for col in columns]
        vols.add_row(str(r["supplier"]), str(r["material"]), str(r["country"]), *cells)
    if _fits(vols, console):
        console.print(vols)
        return
    long = Table(title=f"Planned volume by supplier and material ({c.unit})", title_justify="left")
    for col in ("supplier", "material", "country", "plan", "volume"):
        right = col == "volume"
        long.add_column(col, justify="right" if right else "left", overflow="fold", no_wrap=right)
    for r in rows:
        for col in columns:
            value = format_delta(r[col]) if " - " in col else _qty(r[col])
            long.add_row(str(r["supplier"]), str(r["material"]), str(r["country"]), col, value)
    console.print(long)


def print_stress(report: StressReport, currency: str, console: Console) -> None:
    """Per scenario: the plan's own run, then each replay, a row per material (volumes of
    different materials are never added); then the regret per file."""
    unit = report.plan.unit
    t = Table(
        title=f"Plan {report.plan.name} in its own run and replayed ({currency}, {unit})",
        title_justify="left",
    )
    for col in (
        "run",
        "scenario",
        "prob.",
        "cost",
        "service level",
        "material",
        "delivered",
        "spot",
        "shortage",
    ):
        left = col in ("run", "scenario", "material")
        wraps = col == "service level"  # the header only; nothing else folds at 120 columns
        t.add_column(col, justify="left" if left else "right", overflow="fold", no_wrap=not wraps)
    materials = stress_materials(report)
    records = figures_table(report).to_dict(orient="records")
    for i, r in enumerate(records):
        style = "bold" if r["scenario"] == EXPECTED else None
        present = [m for m in materials if not pd.isna(r[material_column("spot", m)])]
        for j, m in enumerate(present or [""]):
            first = j == 0
            t.add_row(
                str(r["run"]) if first else "",
                str(r["scenario"]) if first else "",
                f"{float(r['probability']):.3f}" if first else "",
                _money(r["cost"]) if first else "",
                _pct(r["service_level"]) if first else "",
                m,
                *(_qty(r.get(material_column(f, m))) if m else "-" for f in MATERIAL_FIGURES),
                style=style,
                end_section=j == len(present or [""]) - 1 and i < len(records) - 1,
            )
    t.caption = (
        "service level: the lowest over materials; delivered: planned volume delivered; "
        "volumes per material, never added up"
    )
    console.print(t)
    g = Table(title=f"Regret ({currency})", title_justify="left")
    for col in (
        "under",
        "plan's own cost",
        "replayed cost",
        "optimal cost there",
        "regret",
        "regret on its objective",
        "caps broken",
    ):
        g.add_column(col, justify="left" if col == "under" else "right", overflow="fold")
    notes = []
    for r in regret_table(report).to_dict(orient="records"):
        g.add_row(
            str(r["under"]),
            _money(r["plan_cost"]),
            _money(r["replayed_cost"]),
            _money(r["optimal_cost"]),
            _money(r["regret"]),
            _money(r["objective_regret"]),
            str(r["caps_broken"]),
        )
        if r["note"]:
            notes.append(f"{r['under']}: {r['note']}")
    g.caption = (
        "regret = replayed cost (spend + penalties) - that of the scenario's own optimal plan; "
        "on its objective: with CVaR, the tail term included"
    )
    console.print(g)
    for u in report.unders:
        for line in u.breach_lines:
            notes.append(line)
    for note in notes:
        console.print(note, markup=False)


def shortages_text(by_material: dict[str, float], sep: str = ", ") -> str:
    """The materials short, each in its own figure ("1.40 dy_oxide, 0.35 tb_oxide";
    tonnes of different materials are never added); "none" when nothing is short."""
    parts = [f"{_qty(v)} {m}" for m, v in sorted(by_material.items()) if v > 1e-6]
    return sep.join(parts) if parts else "none"


def print_frontier(
    points: list[FrontierPoint], country: str, currency: str, unit: str, console: Console
) -> None:
    """One row per cap: status, cost, the shortage penalty and the expected shortage per
    material (a line each, the materials short only), average risk and the actual share."""
    t = Table(title=f"Cost of capping {country}'s share ({currency})", title_justify="left")
    for col in (
        f"cap on {country}",
        "status",
        "total cost",
        "shortage cost",
        f"exp. shortage ({unit})",
        "avg risk",
        f"{country} share",
        "largest per material",
    ):
        left = col in ("status", f"exp. shortage ({unit})")
        wraps = col == "largest per material"  # the header only
        t.add_column(col, justify="left" if left else "right", overflow="fold", no_wrap=not wraps)
    for p in points:
        t.add_row(
            _pct(p.share),
            p.status,
            _money(p.total_cost),
            _money(p.shortage_cost),
            shortages_text(p.shortage_by_material, "\n") if p.has_plan else "-",
            "-" if p.average_risk is None else f"{p.average_risk:.2f}",
            _pct(p.country_share),
            _pct(p.max_material_share),
        )
    console.print(t)
    for p in points:
        if p.message:
            console.print(f"cap {_pct(p.share)}: {p.status}: {p.message}", markup=False)


def print_survive(report: SurviveReport, console: Console) -> None:
    """One row per node: its time to recover and, per material, the days it survives
    (red where that is shorter than the time to recover)."""
    wide_table = wide(report)
    t = Table(
        title=f"Time to survive, plan of {report.scenario} (days from day 0; horizon "
        f"{report.horizon_days:,.0f} days)",
        title_justify="left",
    )
    materials = [c for c in wide_table.columns if str(c).startswith("tts: ")]
    for col in ("stopped", "kind", "time to recover", *(m[5:] for m in materials), "total cost"):
        left = col in ("stopped", "kind")
        t.add_column(col, justify="left" if left else "right", overflow="fold")
    for r in wide_table.to_dict(orient="records"):
        ttr = r["ttr_days"]
        has_ttr = ttr is not None and not pd.isna(ttr)
        cells = []
        for m in materials:
            v = float(r[m])
            text = "beyond" if math.isinf(v) else f"{v:,.0f}"
            red = has_ttr and not math.isinf(v) and v < float(ttr)
            cells.append(f"[red]{text}[/red]" if red else text)
        t.add_row(
            str(r["node"]),
            str(r["kind"]),
            f"{float(ttr):,.0f}" if has_ttr else "-",
            *cells,
            _money(r["total_cost"]),
            style="bold red" if r["at_risk"] else None,
        )
    t.caption = (
        "time to survive: days until the material first runs short with the node stopped "
        "(beyond: not within the horizon); red: shorter than the node's recovery_days"
    )
    console.print(t)
    risky = report.at_risk()
    if risky:
        console.print(f"At risk (run dry before they recover): {', '.join(risky)}", markup=False)
