"""The run as an Excel workbook (plan.xlsx), for procurement.

Sheets: Summary (KPIs, cost breakdown, materials), Orders (the order
schedule), Plan (plan.csv), Inventory (per scenario), Shares (by country and
supplier), Shadow prices (from the summary document, when it has them) and
Scenario (the resolved inputs: offers, materials, settings and policy,
disruptions). Every sheet's first row is a frozen header; numbers are numbers,
with number formats that show their unit ('#,##0 "USD"', '0.0%', ...); dates
are dates. Made from a run folder's files (`RunData`), like the HTML report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.inert import format_literal, needs_quote, sheet_text
from optimizer.plan import COST_KEYS
from optimizer.run_folder import RunData
from optimizer.scenario import Scenario

SHEETS = ("Summary", "Orders", "Plan", "Inventory", "Shares", "Shadow prices", "Scenario")
HEAD_FONT = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="E8EDF3")
HEAD_BORDER = Border(bottom=Side(style="thin", color="7F8C9A"))
SECTION_FONT = Font(bold=True, size=12)
MAX_WIDTH = 48
Column = tuple[str, str | None]  # header, number format (None: text or general)


class Formats:
    """Number formats that carry the run's units (as literals no text can break)."""

    def __init__(self, currency: str, unit: str) -> None:
        self.money = f"#,##0 {format_literal(currency)}"
        self.unit_cost = f"#,##0 {format_literal(f'{currency}/{unit}')}"
        self.qty = f"#,##0.0## {format_literal(unit)}"
        self.days = '#,##0 "d"'
        self.pct = "0.0%"
        self.score = "0.00"
        self.period = "0"
        self.date = "yyyy-mm-dd"
        self.factor = '0.00"x"'
        self.number = "#,##0.00##"


class Sheet:
    """A worksheet written row by row, remembering column widths."""

    def __init__(self, wb: Workbook, title: str) -> None:
        self.ws: Worksheet = wb.create_sheet(title)
        self.row = 1
        self.widths: dict[int, int] = {}

    def cell(self, column: int, value: Any) -> Cell:
        """Write one cell: numbers and dates as such, text always as inert text."""
        if isinstance(value, str):
            cell = self.ws.cell(self.row, column)
            cell.value = sheet_text(value)
            cell.data_type = "s"  # never a formula, whatever the text starts with
            if needs_quote(value):
                cell.quotePrefix = True  # editing it in Excel keeps it text
            return cell
        return self.ws.cell(self.row, column, value)

    def header(self, columns: Sequence[Column]) -> None:
        """A header row (bold, shaded)."""
        for c, (name, _fmt) in enumerate(columns, 1):
            cell = self.cell(c, name)
            cell.font, cell.fill, cell.border = HEAD_FONT, HEAD_FILL, HEAD_BORDER
            self._fit(c, len(name))
        self.row += 1

    def section(self, title: str) -> None:
        """A blank row, then a section title."""
        self.row += 1
        self.cell(1, title).font = SECTION_FONT
        self.row += 1

    def add(self, values: Sequence[Any], formats: Sequence[str | None]) -> None:
        """One row of values with their number formats."""
        for c, (value, fmt) in enumerate(zip(values, formats, strict=True), 1):
            cell = self.cell(c, value)
            if fmt and isinstance(value, (int, float, dt.date)):
                cell.number_format = fmt
            self._fit(c, _shown_width(value, fmt))
        self.row += 1

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
        """A header and its rows."""
        self.header(columns)
        formats = [fmt for _name, fmt in columns]
        for values in rows:
            self.add(values, formats)

    def finish(self, autofilter: bool = True) -> None:
        """Freeze the header row, filter the first table, set column widths."""
        self.ws.freeze_panes = "A2"
        if autofilter and self.ws.max_row > 1:
            self.ws.auto_filter.ref = self.ws.dimensions
        for c, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(c)].width = min(width + 2, MAX_WIDTH)

    def _fit(self, column: int, width: int) -> None:
        self.widths[column] = max(self.widths.get(column, 8), width)


def _shown_width(value: Any, fmt: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, (int, float)):
        return len(f"{value:,.2f}") + len(_format_unit(fmt)) + 1
    return len(str(value))


def _format_unit(fmt: str | None) -> str:
    """The literal text of a number format (`USD` of `#,##0 "USD"` or `#,##0 \\U\\S\\D`)."""
    if not fmt:
        return ""
    if "\\" in fmt:
        return fmt.split(" ", 1)[-1][1::2]
    return fmt.split('"')[1] if '"' in fmt else ""


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def write_workbook(run: RunData, path: Path) -> None:
    """Write the workbook of a run to `path`."""
    wb = Workbook()
    wb.remove(wb.active)
    fmt = Formats(run.currency, run.unit)
    summary_sheet(Sheet(wb, "Summary"), run, fmt)
    orders_sheet(Sheet(wb, "Orders"), run, fmt)
    plan_sheet(Sheet(wb, "Plan"), run, fmt)
    inventory_sheet(Sheet(wb, "Inventory"), run, fmt)
    shares_sheet(Sheet(wb, "Shares"), run, fmt)
    shadow_sheet(Sheet(wb, "Shadow prices"), run.summary.get("shadow_prices") or [], fmt)
    scenario_sheet(Sheet(wb, "Scenario"), run.scenario, fmt)
    wb.save(path)


def summary_sheet(sh: Sheet, run: RunData, fmt: Formats) -> None:
    """KPIs, the expected cost breakdown and per-material figures."""
    doc = run.summary
    total = _num(doc["total_cost"]) or 0.0
    sh.header([("item", None), ("value", None), ("share of total cost", None)])
    rows: list[tuple[str, Any, str | None]] = [
        ("scenario", doc["scenario"], None),
        ("title", doc.get("title") or "", None),
        ("status", doc["status"], None),
        ("independently checked", "yes" if doc.get("checked") else "no", None),
        ("objective", _num(doc["objective"]), fmt.money),
        ("total cost (fixed + expected)", total, fmt.money),
    ]
    cvar = doc.get("cvar")
    if cvar and len(doc.get("scenarios") or []) > 1:
        rows.append((f"tail cost (CVaR {cvar['alpha']:g})", _num(cvar["cvar"]), fmt.money))
        rows.append((f"value at risk ({cvar['alpha']:g})", _num(cvar["var"]), fmt.money))
    shortage = sum(_num(k["expected_shortage"]) or 0.0 for k in doc["materials"].values())
    rows.append(("expected shortage, all materials", shortage, fmt.qty))
    rows.append(("scenarios", len(doc.get("scenarios") or []), fmt.period))
    solver = doc.get("solver") or {}
    rows.append(("solver", f"{solver.get('name', '')} ({solver.get('status', '')})", None))
    rows.append(("MIP gap", _num(solver.get("gap")), fmt.pct))
    for label, value, f in rows:
        sh.add([label, value, None], [None, f, None])
    sh.section(f"Expected cost breakdown ({run.currency})")
    for key in COST_KEYS:
        value = _num(doc["costs"][key]) or 0.0
        sh.add(
            [key.replace("_", " "), value, value / total if total else None],
            [None, fmt.money, fmt.pct],
        )
    sh.add(["total", total, 1.0 if total else None], [None, fmt.money, fmt.pct])
    sh.section("Materials")
    sh.table(
        [
            ("material", None),
            ("demand", fmt.qty),
            ("planned volume", fmt.qty),
            ("expected shortage", fmt.qty),
            ("worst shortage", fmt.qty),
            ("service level", fmt.pct),
            ("average risk", fmt.score),
        ],
        (
            [
                mid,
                _num(k["demand"]),
                _num(k["volume"]),
                _num(k["expected_shortage"]),
                _num(k["worst_shortage"]),
                _num(k["service_level"]),
                _num(k["average_risk"]),
            ]
            for mid, k in sorted(doc["materials"].items())
        ),
    )
    sh.finish(autofilter=False)


def orders_sheet(sh: Sheet, run: RunData, fmt: Formats) -> None:
    """The order schedule, with real dates."""
    sh.table(
        [
            ("supplier", None),
            ("country", None),
            ("material", None),
            ("order day", fmt.days),
            ("order date", fmt.date),
            ("arrival period", fmt.period),
            ("quantity", fmt.qty),
            ("unit landed cost", fmt.unit_cost),
            ("line total", fmt.money),
            ("licence needed", None),
            ("overdue", None),
            ("overdue by", fmt.days),
        ],
        (
            [
                r["supplier"],
                r["country"],
                r["material"],
                float(r["order_day"]),
                dt.date.fromisoformat(r["order_date"]) if r["order_date"] else None,
                int(r["arrival_period"]),
                float(r["quantity"]),
                float(r["unit_landed_cost"]),
                float(r["line_total"]),
                r["licence_needed"],
                r["overdue"],
                float(r["overdue_days"]),
            ]
            for r in run.orders.to_dict("records")
        ),
    )
    sh.finish()


def plan_sheet(sh: Sheet, run: RunData, fmt: Formats) -> None:
    """plan.csv: one row per planned arrival."""
    sh.table(
        [
            ("material", None),
            ("supplier", None),
            ("country", None),
            ("period", fmt.period),
            ("order day", fmt.days),
            ("quantity", fmt.qty),
            ("landed unit cost", fmt.unit_cost),
            ("delay", fmt.days),
            ("cost", fmt.money),
        ],
        (
            [
                r["material"],
                r["supplier"],
                r["country"],
                int(r["period"]),
                float(r["order_day"]),
                float(r["quantity"]),
                float(r["landed_unit_cost"]),
                float(r["delay_days"]),
                float(r["cost"]),
            ]
            for r in run.plan.to_dict("records")
        ),
    )
    sh.finish()


def inventory_sheet(sh: Sheet, run: RunData, fmt: Formats) -> None:
    """The balance per scenario, material and period."""
    q = fmt.qty
    names = ["opening", "arrivals", "spot", "demand", "shortage", "closing", "inbound"]
    names.append("below_safety_stock")
    columns: list[Column] = [("scenario", None), ("probability", fmt.pct), ("material", None)]
    columns.append(("period", fmt.period))
    columns.extend((n.replace("_", " "), q) for n in names)
    inv = run.inventory
    sh.table(
        columns,
        (
            [r["scenario"], float(r["probability"]), r["material"], int(r["period"])]
            + [float(r[n]) for n in names]
            for r in inv.to_dict("records")
        ),
    )
    sh.finish()


def shares_sheet(sh: Sheet, run: RunData, fmt: Formats) -> None:
    """Per material: the share and volume by country, then by supplier."""
    rows = []
    for mid, k in sorted(run.summary["materials"].items()):
        volume = _num(k["volume"]) or 0.0
        for level, key in (("country", "share_by_country"), ("supplier", "share_by_supplier")):
            shares = sorted(k[key].items(), key=lambda kv: (-(kv[1] or 0.0), kv[0]))
            for name, share in shares:
                rows.append([mid, level, name, _num(share), (_num(share) or 0.0) * volume])
    sh.table(
        [("material", None), ("by", None), ("name", None), ("share", fmt.pct), ("volume", fmt.qty)],
        rows,
    )
    sh.finish()


def shadow_sheet(sh: Sheet, records: list[dict[str, Any]], fmt: Formats) -> None:
    """Shadow prices as records (their keys are the columns), or a note when there are none."""
    if not records:
        sh.table([("note", None)], [["No shadow prices in this run (summary.json has none)."]])
        sh.finish(autofilter=False)
        return
    keys: list[str] = []
    for rec in records:
        keys.extend(k for k in rec if k not in keys)
    rows = [[rec.get(k) for k in keys] for rec in records]
    sh.table([(k, fmt.number) for k in keys], rows)
    sh.finish()


def scenario_sheet(sh: Sheet, sc: Scenario, fmt: Formats) -> None:
    """The resolved inputs: offers (suppliers x materials), materials, settings, disruptions."""
    sh.table(
        [
            ("supplier", None),
            ("country", None),
            ("material", None),
            ("period", fmt.period),
            ("price", fmt.unit_cost),
            ("capacity", fmt.qty),
            ("min order", fmt.qty),
            ("tariff", fmt.pct),
            ("freight", fmt.unit_cost),
            ("risk", fmt.score),
            ("lead time", fmt.days),
            ("licence delay", fmt.days),
            ("fixed cost", fmt.money),
            ("max share", fmt.pct),
        ],
        _offer_rows(sc),
    )
    sh.section("Materials")
    sh.table(
        [
            ("material", None),
            ("period", fmt.period),
            ("demand", fmt.qty),
            ("inbound", fmt.qty),
            ("initial inventory", fmt.qty),
            ("shortage cost", fmt.unit_cost),
            ("holding cost", fmt.unit_cost),
            ("safety stock", fmt.qty),
            ("safety stock penalty", fmt.unit_cost),
        ],
        _material_rows(sc),
    )
    sh.section("Settings and policy")
    sh.header([("setting", None), ("value", None)])
    for key, value, f in _settings(sc, fmt):
        sh.add([key, value], [None, f])
    events = [("disruption", d) for d in sc.disruptions] + [("risk", r) for r in sc.risks]
    if events:
        sh.section("Disruptions and risks")
        sh.table(
            [
                ("name", None),
                ("kind", None),
                ("probability", fmt.pct),
                ("country", None),
                ("supplier", None),
                ("materials", None),
                ("availability", fmt.pct),
                ("price factor", fmt.factor),
                ("from period", fmt.period),
                ("to period", fmt.period),
            ],
            (
                [
                    ev.name,
                    kind,
                    ev.probability,
                    e.country or "",
                    e.supplier or "",
                    ", ".join(e.materials) if e.materials else "all",
                    e.availability,
                    e.price_factor,
                    e.from_period,
                    e.to_period or sc.horizon.periods,
                ]
                for kind, ev in events
                for e in ev.effects
            ),
        )
    sh.finish(autofilter=False)


def _per_period(value: float | list[float], t: int) -> float:
    return float(value[t]) if isinstance(value, list) else float(value)


def _offer_rows(sc: Scenario) -> Iterable[list[Any]]:
    for sid, s in sorted(sc.suppliers.items()):
        terms = [
            sc.supplier_tariff(sid),
            s.freight,
            sc.supplier_risk(sid),
            s.lead_time_days,
            s.license_delay_days,
            s.fixed_cost,
            sc.supplier_max_share(sid),
        ]
        for mid, o in sorted(s.offers.items()):
            varies = isinstance(o.price, list) or isinstance(o.capacity, list)
            periods: Sequence[int | None] = range(sc.horizon.periods) if varies else [None]
            for t in periods:
                at = t or 0
                yield [
                    sid,
                    s.country,
                    mid,
                    "all" if t is None else t + 1,
                    _per_period(o.price, at),
                    _per_period(o.capacity, at),
                    o.min_order,
                    *terms,
                ]


def _material_rows(sc: Scenario) -> Iterable[list[Any]]:
    for mid, m in sorted(sc.materials.items()):
        varies = isinstance(m.demand, list) or any(m.inbound)
        periods: Sequence[int | None] = range(sc.horizon.periods) if varies else [None]
        for t in periods:
            inbound = m.inbound[t] if t is not None and t < len(m.inbound) else 0.0
            yield [
                mid,
                "all" if t is None else t + 1,
                _per_period(m.demand, t or 0),
                float(inbound),
                m.initial_inventory,
                m.shortage_cost,
                m.holding_cost,
                m.safety_stock,
                m.penalty_below_safety_stock,
            ]


def _settings(sc: Scenario, fmt: Formats) -> list[tuple[str, Any, str | None]]:
    p = sc.policy
    delay = f"#,##0.00 {format_literal(f'{sc.currency}/{sc.quantity_unit}/d')}"
    out: list[tuple[str, Any, str | None]] = [
        ("currency", sc.currency, None),
        ("quantity unit", sc.quantity_unit, None),
        ("periods", sc.horizon.periods, fmt.period),
        ("period length", sc.horizon.period_days, '0.0## "d"'),
        ("start (day 0)", sc.horizon.start, fmt.date),
        ("spot premium", sc.spot_premium, fmt.pct),
        ("risk measure", sc.objective.risk_measure, None),
        ("CVaR level", sc.objective.cvar_alpha, fmt.pct),
        ("CVaR weight", sc.objective.cvar_weight, fmt.factor),
        ("delay cost", p.delay_cost_per_day, delay),
        ("max supplier share", p.max_supplier_share, fmt.pct),
        ("min suppliers", p.min_suppliers, fmt.period),
        ("min supplier share", p.min_supplier_share, fmt.pct),
        ("max average risk", p.max_average_risk, fmt.score),
        ("share basis", p.share_basis, None),
    ]
    out.extend(
        (f"max country share {c}", v, fmt.pct) for c, v in sorted(p.max_country_share.items())
    )
    if sc.sampling is not None:
        out.append(("sampled scenarios", sc.sampling.scenarios, fmt.period))
        out.append(("sampling seed", sc.sampling.seed, None))
    return [(k, "none" if v is None else v, f) for k, v, f in out]
