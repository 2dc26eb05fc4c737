"""The frontier's files: frontier.csv and a chart of cost and shortage against the cap.

frontier.csv (and `frontier --json`, the same records): share, status,
objective, total_cost, shortage_cost (the expected shortage penalty, money),
`shortage: MATERIAL` per material (expected shortage in the scenario's unit;
tonnes of different materials are never added), average_risk, country_share,
max_material_share, message.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from optimizer.analysis.frontier import (
    BEFORE_SHORTAGES,
    COLUMNS,
    FrontierPoint,
    shortage_column,
)


def materials_of(points: Sequence[FrontierPoint]) -> list[str]:
    """Every material of the points with a plan, sorted."""
    return sorted({m for p in points for m in p.shortage_by_material})


def frontier_table(points: Sequence[FrontierPoint]) -> pd.DataFrame:
    """The points as a table, in the order given: COLUMNS with a `shortage: MATERIAL`
    column per material after shortage_cost (empty where a point has no plan)."""
    materials = materials_of(points)
    per_material = [shortage_column(m) for m in materials]
    columns = [*COLUMNS[:BEFORE_SHORTAGES], *per_material, *COLUMNS[BEFORE_SHORTAGES:]]
    rows = []
    for p in points:
        row: dict[str, Any] = {c: getattr(p, c) for c in COLUMNS}
        for m, col in zip(materials, per_material, strict=True):
            row[col] = p.shortage_by_material.get(m) if p.has_plan else None
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def frontier_png(points: Sequence[FrontierPoint], country: str, currency: str, unit: str) -> bytes:
    """Cost (left axis) and expected shortage per material (right axis, one line per
    material that is short at some cap) against the cap, as a PNG.

    The cap runs from loose (left) to tight (right); infeasible points are
    marked on the axis. Drawn on a `Figure` (Agg, no pyplot state); no date in
    the file, so the same points give the same bytes.
    """
    ok = sorted((p for p in points if p.has_plan), key=lambda p: -p.share)
    bad = [p for p in points if not p.has_plan]
    style: dict[str, Any] = {"font.size": 9, "axes.spines.top": False, "svg.hashsalt": "sourcing"}
    with rc_context({**style, "text.parse_math": False}):  # type: ignore[dict-item]  # `$...$` in a currency is text
        fig = Figure(figsize=(7.0, 4.2), dpi=100)
        ax = fig.subplots()
        peak = max((p.total_cost or 0.0 for p in ok), default=0.0)
        scale, suffix = (1e6, "M ") if peak >= 1e6 else (1e3, "k ") if peak >= 1e3 else (1.0, "")
        xs = [p.share for p in ok]
        ax.plot(
            xs, [(p.total_cost or 0.0) / scale for p in ok], "o-", color="#4e79a7", label="cost"
        )
        for p in ok:
            ax.annotate(
                f"{country} {100 * (p.country_share or 0.0):.0f}%",
                ((p.share), (p.total_cost or 0.0) / scale),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=7.5,
            )
        for p in bad:
            ax.plot([p.share], [0.0], "x", color="#d62728")
            ax.annotate(p.status, (p.share, 0.0), xytext=(0, 6), textcoords="offset points")
        ax.set_xlabel(f"cap on {country}'s share of each material")
        ax.set_ylabel(f"fixed + expected cost ({suffix}{currency})")
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        ax.invert_xaxis()
        right = ax.twinx()
        short = [m for m in materials_of(ok) if any(p.shortage_by_material[m] > 1e-6 for p in ok)]
        markers = "s^vD<>ph*"
        for i, m in enumerate(short):
            right.plot(
                xs,
                [p.shortage_by_material[m] for p in ok],
                f"{markers[i % len(markers)]}--",
                color=f"C{(i + 3) % 10}",
                label=f"shortage: {m}",
            )
        right.set_ylabel(f"expected shortage per material ({unit})")
        right.set_ylim(bottom=0.0)
        ax.set_title(f"Cost of diversifying away from {country}", loc="left", fontweight="bold")
        fig.legend(loc="upper left", bbox_to_anchor=(0.1, 0.88), frameon=False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def frontier_files(
    points: Sequence[FrontierPoint], country: str, currency: str, unit: str
) -> dict[str, Any]:
    """Writers of frontier.csv and frontier.png for `report.write_folder`."""
    table = frontier_table(points)
    png = frontier_png(points, country, currency, unit)

    from optimizer.reports.csv_files import write_csv

    return {
        "frontier.csv": lambda path: write_csv(table, path, uniform="%.6f"),
        "frontier.png": lambda path: path.write_bytes(png),
    }
