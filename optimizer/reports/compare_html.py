"""The compare report: one self-contained HTML page of plans side by side.

Made from a `Comparison` (optimizer.compare): the KPI table, the charts (cost
breakdown per plan, sourcing mix by country and by supplier, one bar per
material and plan, drawn with optimizer.charts) and the planned volume by
supplier and material with the differences against the first plan. No
script, nothing fetched, no timestamp: the same plans give the same bytes.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.analysis.compare import Comparison
from optimizer.reports import charts
from optimizer.reports.formatting import format_delta, format_value
from optimizer.reports.html import environment
from optimizer.results.plan import COST_KEYS, cost_items

TEMPLATE = "compare.html.j2"


def mix_rows(c: Comparison) -> pd.DataFrame:
    """Planned arrivals of every plan, grouped as "material · plan" for side-by-side bars."""
    frames = [
        df.assign(group=df["material"].astype(str) + " · " + label)
        for label, df in c.orders.items()
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def chart_set(c: Comparison) -> list[dict[str, str]]:
    """The page's charts: id, heading, caption and inline SVG."""
    columns = zip(c.labels, c.summaries, strict=True)
    costs = pd.DataFrame(
        {label: list(cost_items(s.costs).values()) for label, s in columns},
        index=list(COST_KEYS),
    )
    rows = mix_rows(c)
    out = [
        {
            "id": "costs",
            "heading": "Cost breakdown",
            "caption": f"Fixed and expected cost by item ({c.currency}), one bar per plan.",
            "svg": charts.cost_chart(
                costs, currency=c.currency, chart_id="chart-costs", label="Cost by item per plan"
            ),
        }
    ]
    for segment in ("country", "supplier"):
        out.append(
            {
                "id": f"mix-{segment}",
                "heading": f"Sourcing mix by {segment}",
                "caption": f"Share of each material's planned volume by {segment}, one bar "
                f"per material and plan (total planned volume in {c.unit} under each name).",
                "svg": charts.share_bars(
                    rows,
                    group="group",
                    segment=segment,
                    value="quantity",
                    unit=c.unit,
                    chart_id=f"chart-mix-{segment}",
                    label=f"Sourcing mix by {segment}, per material and plan",
                ),
            }
        )
    return out


def context(c: Comparison) -> dict[str, Any]:
    """Everything the template shows, formatted."""
    kpis = [
        {
            "kpi": "optimises",
            "unit": "",
            "values": [s.optimises.text() for s in c.summaries],
        }
    ] + [
        {
            "kpi": r["kpi"],
            "unit": r["unit"],
            "values": [format_value(r[label], r["unit"], c.currency) for label in c.labels],
        }
        for r in c.kpis.to_dict(orient="records")
    ]
    keys = ("supplier", "material", "country")
    value_columns = [col for col in c.volumes.columns if col not in keys]
    volumes = [
        {
            "supplier": r["supplier"],
            "material": r["material"],
            "country": r["country"],
            "values": [
                format_delta(r[col]) if " - " in col else f"{float(r[col]):,.2f}"
                for col in value_columns
            ],
        }
        for r in c.volumes.to_dict(orient="records")
    ]
    return {
        "labels": c.labels,
        "plans": list(zip(c.labels, c.summaries, strict=True)),
        "country": c.country,
        "cur": c.currency,
        "unit": c.unit,
        "kpis": kpis,
        "volume_columns": value_columns,
        "volumes": volumes,
        "charts": chart_set(c),
    }


def render(c: Comparison) -> str:
    """The compare page as HTML text."""
    text = files("optimizer.reports").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    return environment().from_string(text).render(**context(c))


def write_compare_report(c: Comparison, path: Path) -> None:
    """Write the compare page to `path` (inside a folder being written all or nothing)."""
    path.write_text(render(c), encoding="utf-8", newline="\n")
