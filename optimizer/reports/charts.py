"""Charts of plans as inline SVG: functions of DataFrames, for the run report and later ones.

matplotlib draws through `Figure` objects only (no pyplot, so no global
backend or state); text becomes paths, so the SVG needs no font. The output is
deterministic (fixed hash salt, no date, no metadata) and every id is
prefixed with the chart's id, so that several charts can sit in one page.

Each function returns an `<svg>` element ready to inline in HTML:

- `share_bars`: one bar per group (a material, or a plan and material), split
  into segments (countries or suppliers) by share of the volume;
- `runway_chart`: stock at the end of each period and shortage (red, below
  zero), one row of panels per material and one column per scenario;
- `cost_chart`: cost per cost item, one bar per plan (column).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

STYLE: Any = {  # matplotlib rc parameters
    "svg.hashsalt": "sourcing",
    "svg.fonttype": "path",
    # Text is text: a currency or unit like `$\frac{a}{b$` from a scenario file is drawn as
    # written, never handed to the math-text parser (which failed on it: exit 1).
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#9c755f",
    "#ff9da7",
    "#bab0ac",
    "#e15759",
)

STOCK = "#4e79a7"

SHORT = "#d62728"

LATE = "#f28e2b"  # shipments held back by a delay

WIDTH = 7.6  # inches, about the width of an A4 page's text


def to_svg(fig: Figure, chart_id: str, label: str, *, tight: bool = True) -> str:
    """The figure as an inline `<svg>` element with ids prefixed by `chart_id`.

    `tight` crops the figure to what is drawn (one extra drawing pass); figures
    with many panels set their margins themselves instead.
    """
    buf = io.StringIO()
    with rc_context(STYLE):
        fig.savefig(
            buf, format="svg", metadata={"Date": None}, bbox_inches="tight" if tight else None
        )
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{chart_id}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart_id}-\1)", text)
    head, rest = text.split(">", 1)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    head += f' id="{chart_id}" class="chart" role="img" aria-label="{label}"'
    return f"{head}>{rest.rstrip()}\n"


def colours(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per name (in the given order), cycling through the palette."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def share_bars(
    rows: pd.DataFrame,
    *,
    group: str,
    segment: str,
    value: str,
    unit: str,
    chart_id: str,
    label: str,
) -> str:
    """Horizontal 100% bars: per `group`, the share of `value` by `segment`.

    Segments are ordered by their total volume (largest first, left); each bar
    is labelled with its group and total volume in `unit`.
    """
    with rc_context(STYLE):
        totals = rows.groupby(segment, sort=True)[value].sum().sort_values(ascending=False)
        segments = [str(s) for s in totals.index]
        palette = colours(segments)
        table = rows.pivot_table(index=group, columns=segment, values=value, aggfunc="sum")
        table = table.reindex(columns=segments).fillna(0.0).sort_index(ascending=False)
        n = max(len(table), 1)
        fig = Figure(figsize=(WIDTH, 0.42 * n + 1.0))
        ax = fig.subplots()
        if table.empty:
            _nothing(ax, "nothing planned")
            return to_svg(fig, chart_id, label)
        volume = table.sum(axis=1)
        shares = table.div(volume.where(volume > 0, 1.0), axis=0)
        left = pd.Series(0.0, index=shares.index)
        for seg in segments:
            width = shares[seg]
            ax.barh(range(n), width, left=left, color=palette[seg], label=seg, height=0.7)
            for i, (w, x0) in enumerate(zip(width, left, strict=True)):
                if w >= 0.08:
                    ax.text(
                        x0 + w / 2,
                        i,
                        f"{seg} {w:.0%}",
                        ha="center",
                        va="center",
                        color="white",
                        fontsize=7.5,
                    )
            left = left + width
        ax.set_yticks(range(n), [f"{g}\n{v:,.4g} {unit}" for g, v in volume.items()])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0%}")
        ax.set_xlabel(f"share of planned volume by {segment}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, title=segment)
        return to_svg(fig, chart_id, label)


def runway_chart(
    inventory: pd.DataFrame,
    *,
    scenarios: Sequence[str],
    safety_stock: Mapping[str, float],
    unit: str,
    chart_id: str,
    label: str,
    titles: Mapping[str, str] | None = None,
) -> str:
    """Small multiples: stock at the end of each period, shortage in red below zero, and
    shipments held back by a delay (outlined in orange above the stock).

    One row per material, one column per scenario in `scenarios`; `inventory`
    has scenario, material, period, closing and shortage (and `held_back`, the volume
    due in the period that a delay moves later). A dashed line marks each material's
    safety stock.
    """
    with rc_context(STYLE):
        materials = sorted(inventory["material"].unique())
        n_r, n_c = max(len(materials), 1), max(len(scenarios), 1)
        fig = Figure(figsize=(WIDTH, 1.45 * n_r + 0.7))
        axes = fig.subplots(n_r, n_c, sharex=True, sharey="row", squeeze=False)
        for c, name in enumerate(scenarios):
            axes[0][c].annotate(
                (titles or {}).get(name, name),
                xy=(0.5, 1.0),
                xycoords="axes fraction",
                xytext=(0, 13),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontweight="bold",
                fontsize=9,
            )
            for r, material in enumerate(materials):
                here = (inventory["scenario"] == name) & (inventory["material"] == material)
                rows = inventory[here]
                _runway_panel(axes[r][c], rows, safety_stock.get(material, 0.0), unit)
                if c == 0:
                    axes[r][c].set_ylabel(f"{material}\n({unit})")
        shown = inventory[inventory["scenario"].isin(list(scenarios))]
        for r, material in enumerate(materials):
            rows = shown[shown["material"] == material]
            _row_limits(axes[r][0], rows, safety_stock.get(material, 0.0))
        for ax in axes[-1]:
            ax.set_xlabel("period")
        height = fig.get_figheight()
        fig.subplots_adjust(
            left=0.8 / WIDTH,
            right=0.99,
            bottom=0.5 / height,
            top=1 - 0.5 / height,
            hspace=0.4,
            wspace=0.12,
        )
        return to_svg(fig, chart_id, label, tight=False)


def _runway_panel(ax: Axes, rows: pd.DataFrame, safety: float, unit: str) -> None:
    periods = rows["period"].astype(int).tolist()
    short = rows["shortage"].astype(float)
    closing = rows["closing"].astype(float).tolist()
    _columns(ax, periods, closing, STOCK)
    _columns(ax, periods, (-short).tolist(), SHORT)
    if "held_back" in rows.columns:
        late = rows["held_back"].astype(float).tolist()
        if any(v > 1e-9 for v in late):
            _outlines(ax, periods, closing, late, LATE)
    ax.axhline(0, color="#333333", linewidth=0.6)
    if safety > 0:
        ax.axhline(safety, color="#777777", linewidth=0.8, linestyle="--")
    total = float(short.sum())
    if total > 0:
        ax.set_title(f"short {total:,.3g} {unit}", loc="right", color=SHORT, fontsize=7.5, pad=2)
    if periods:
        step = max(1, len(periods) // 12)
        ax.set_xticks(periods[::step])
        ax.set_xlim(min(periods) - 0.6, max(periods) + 0.6)
    ax.tick_params(labelsize=7)


def _outlines(
    ax: Axes, xs: Sequence[float], bases: Sequence[float], heights: Sequence[float], colour: str
) -> None:
    """Outlined bars from `bases` up by `heights` (volume that did not arrive in time)."""
    half = 0.375
    verts = [
        [(x - half, b), (x - half, b + h), (x + half, b + h), (x + half, b)]
        for x, b, h in zip(xs, bases, heights, strict=True)
        if h > 1e-9
    ]
    ax.add_collection(
        PolyCollection(verts, facecolors="none", edgecolors=colour, linewidths=1.0, hatch="///")
    )


def _row_limits(ax: Axes, rows: pd.DataFrame, safety: float) -> None:
    """One y range for a row of panels: from the largest shortage to the largest stock (and
    the volume held back above it)."""
    stock = rows["closing"].astype(float)
    if "held_back" in rows.columns:
        stock = stock + rows["held_back"].astype(float)
    top = max(float(stock.max()) if len(rows) else 0.0, safety, 0.0)
    bottom = -(float(rows["shortage"].max()) if len(rows) else 0.0)
    span = top - bottom if top - bottom > 1e-9 else 1.0
    ax.set_ylim(bottom - 0.08 * span if bottom < 0 else 0.0, top + 0.08 * span)


def _columns(ax: Axes, xs: Sequence[float], heights: Sequence[float], colour: str) -> None:
    """Bars from zero as one collection (many panels of `Axes.bar` are slow to draw)."""
    half = 0.375
    verts = [
        [(x - half, 0.0), (x - half, h), (x + half, h), (x + half, 0.0)]
        for x, h in zip(xs, heights, strict=True)
    ]
    ax.add_collection(PolyCollection(verts, facecolors=colour, edgecolors="none"))


def cost_chart(costs: pd.DataFrame, *, currency: str, chart_id: str, label: str) -> str:
    """Horizontal bars: one row per cost item (index), one bar per plan (column)."""
    with rc_context(STYLE):
        items = [str(i).replace("_", " ") for i in costs.index]
        plans = [str(c) for c in costs.columns]
        peak = float(costs.abs().to_numpy().max()) if costs.size else 0.0
        scale, suffix = (1e6, "M") if peak >= 1e6 else (1e3, "k") if peak >= 1e3 else (1.0, "")
        fig = Figure(figsize=(WIDTH, 0.3 * len(items) * max(len(plans), 1) + 1.0))
        ax = fig.subplots()
        height = 0.8 / max(len(plans), 1)
        palette = colours(plans)
        for j, plan in enumerate(plans):
            ys = [i + (j - (len(plans) - 1) / 2) * height for i in range(len(items))]
            values = costs[plan].astype(float) / scale
            ax.barh(ys, values, height=height * 0.9, color=palette[plan], label=plan)
            for y, v in zip(ys, values, strict=True):
                ax.text(
                    v, y, f" {v:,.{1 if scale > 1 else 0}f}", va="center", ha="left", fontsize=7.5
                )
        ax.set_yticks(range(len(items)), items)
        ax.invert_yaxis()
        ax.set_xlabel(f"expected cost ({suffix} {currency})".replace("( ", "("))
        ax.margins(x=0.12)
        if len(plans) > 1:
            ax.legend(loc="lower right")
        return to_svg(fig, chart_id, label)


def _nothing(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def survive_chart(
    table: pd.DataFrame, *, horizon_days: float, chart_id: str, label: str
) -> str:
    """Time to survive per node (one panel per material): a bar per stopped supplier or
    country up to the day the material first runs short (to the horizon's end when it
    never does, lighter), and a black tick at the node's time to recover; red bars run dry
    before the node recovers.

    `table` has node, kind, material, tts_days, beyond_horizon, ttr_days (survive.COLUMNS).
    """
    with rc_context(STYLE):
        materials = sorted(table["material"].unique())
        nodes = list(dict.fromkeys(table["node"]))
        n = max(len(materials), 1)
        fig = Figure(figsize=(WIDTH, 0.22 * len(nodes) * 1 + 1.2))
        axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
        ys = range(len(nodes))
        for ax, material in zip(axes, materials, strict=False):
            rows = table[table["material"] == material].set_index("node").reindex(nodes)
            for y, (_node, r) in zip(ys, rows.iterrows(), strict=True):
                tts = float(r["tts_days"])
                ttr = r["ttr_days"]
                has_ttr = ttr is not None and not pd.isna(ttr)
                red = has_ttr and not bool(r["beyond_horizon"]) and tts < float(ttr)
                colour = SHORT if red else STOCK
                alpha = 0.35 if bool(r["beyond_horizon"]) else 1.0
                ax.barh(y, tts, height=0.7, color=colour, alpha=alpha)
                if has_ttr:
                    ax.plot([float(ttr)] * 2, [y - 0.4, y + 0.4], color="black", linewidth=1.4)
            ax.set_xlim(0, horizon_days * 1.05)
            ax.set_title(material, fontsize=8.5)
            ax.set_xlabel("days")
            ax.tick_params(labelsize=7)
        axes[0].set_yticks(list(ys), nodes)
        axes[0].invert_yaxis()
        return to_svg(fig, chart_id, label)
