"""The survive page: time to survive per stopped supplier and country, as one
self-contained HTML page (inline CSS and SVG, no script, nothing fetched).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from optimizer.analysis.survive import SurviveReport, wide
from optimizer.reports import charts
from optimizer.reports.html import environment

TEMPLATE = "survive.html.j2"


def context(report: SurviveReport) -> dict[str, Any]:
    """What the page shows: the chart, and per node its TTR and TTS per material."""
    table = wide(report)
    materials = [str(c)[5:] for c in table.columns if str(c).startswith("tts: ")]
    rows = []
    for r in table.to_dict(orient="records"):
        ttr = r["ttr_days"]
        has_ttr = ttr is not None and not (isinstance(ttr, float) and math.isnan(ttr))
        cells = []
        for m in materials:
            v = float(r[f"tts: {m}"])
            beyond = math.isinf(v)
            cells.append(
                ("beyond" if beyond else f"{v:,.0f}", has_ttr and not beyond and v < float(ttr))
            )
        rows.append(
            {
                "node": r["node"],
                "kind": r["kind"],
                "ttr": f"{float(ttr):,.0f}" if has_ttr else "–",
                "cells": cells,
                "at_risk": bool(r["at_risk"]),
                "total_cost": r["total_cost"],
            }
        )
    svg = charts.survive_chart(
        report.table,
        horizon_days=report.horizon_days,
        chart_id="chart-survive",
        label="Time to survive per stopped supplier and country, per material",
    )
    return {
        "report": report,
        "materials": materials,
        "rows": rows,
        "svg": svg,
        "risky": report.at_risk(),
    }


def render(report: SurviveReport) -> str:
    """The survive page as HTML text."""
    text = files("optimizer.reports").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    return environment().from_string(text).render(**context(report))


def write_survive_report(report: SurviveReport, path: Path) -> None:
    """Write the page (inside a folder being written all or nothing)."""
    path.write_text(render(report), encoding="utf-8", newline="\n")


def survive_files(report: SurviveReport) -> dict[str, Callable[[Path], None]]:
    """The files of `survive --out`: survive.csv (one row per node and material) and
    survive.html (the table and a chart of time to survive against time to recover)."""
    from optimizer.reports.csv_files import write_table
    from optimizer.schema.tables import SURVIVE_COLUMNS

    return {
        "survive.csv": lambda p: write_table(report.table, p, SURVIVE_COLUMNS),
        "survive.html": lambda p: write_survive_report(report, p),
    }
