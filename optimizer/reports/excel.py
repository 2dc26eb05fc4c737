"""The run as an Excel workbook (plan.xlsx), for procurement.

Sheets: Summary (KPIs, cost breakdown, materials), Orders (the order
schedule), Plan (plan.csv), Inventory (per scenario), Shares (by country and
supplier), Shadow prices (from the summary document, when it has them) and
Scenario (the resolved inputs: offers, materials, settings and policy,
disruptions). Every sheet's first row is a frozen header; numbers are numbers,
with number formats that show their unit ('#,##0 "USD"', '0.0%', ...); dates
are dates. Made from a run folder's files (`RunData`), like the HTML report.

Longer than 400 lines because it holds one function per sheet of one workbook,
sharing its styles and number formats.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.common.inert import format_literal, needs_quote, sheet_text
from optimizer.io.run_folder import RunData
from optimizer.schema.scenario import Scenario
from optimizer.schema.summary import ShadowPrice, fields_of

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
        self.unit_cost_period = f"#,##0 {format_literal(f'{currency}/{unit}/period')}"
        self.qty = f"#,##0.0## {format_literal(unit)}"
        self.qty_period = f"#,##0.0## {format_literal(f'{unit}/period')}"
        self.unit = unit
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


def _date(value: Any) -> dt.date | None:
    """A date from a table cell (YYYY-MM-DD), None when empty."""
    return dt.date.fromisoformat(str(value)) if value else None


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
    shadow_sheet(Sheet(wb, "Shadow prices"), run.summary.shadow_prices, fmt)
    scenario_sheet(Sheet(wb, "Scenario"), run.scenario, fmt)
    wb.save(path)


def summary_sheet(sh: Sheet, run: RunData, fmt: Formats) -> None:
    """KPIs, the expected cost breakdown and per-material figures."""
    doc = run.summary
    total = doc.total_cost
    sh.header([("item", None), ("value", None), ("share of total cost", None)])
    rows: list[tuple[str, Any, str | None]] = [
        ("scenario", doc.scenario, None),
        ("title", doc.title or "", None),
        ("status", doc.status, None),
        ("independently checked", "yes" if doc.checked else "no", None),
        ("objective", doc.objective, fmt.money),
        ("expected spend (money paid)", doc.spend, fmt.money),
        ("expected penalties (modelled, not paid)", doc.penalties, fmt.money),
        ("total cost (spend + penalties)", total, fmt.money),
    ]
    cvar = doc.cvar
    if cvar is not None and len(doc.scenarios) > 1:
        rows.append((f"tail cost (CVaR {cvar.alpha:g})", cvar.cvar, fmt.money))
        rows.append((f"value at risk ({cvar.alpha:g})", cvar.var, fmt.money))
    rows.append(("scenarios", len(doc.scenarios), fmt.period))
    solver = doc.solver
    rows.append(("solver", f"{solver.name} ({solver.status})", None))
    rows.append(("MIP gap", solver.gap, fmt.pct))
    for label, value, f in rows:
        sh.add([label, value, None], [None, f, None])
    sh.section(f"Expected cost breakdown ({run.currency})")
    costs = doc.costs
    for items, label in ((costs.spend, "money spent"), (costs.penalties, "penalties (not paid)")):
        for key, value in fields_of(items):
            sh.add(
                [f"{label}: {key.replace('_', ' ')}", value, value / total if total else None],
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
            ("end stock (plan)", fmt.qty),
            ("end stock target", fmt.qty),
            ("days of cover at the end", fmt.days),
            ("reserved", fmt.qty),
        ],
        (
            [
                mid,
                k.demand,
                k.volume,
                k.expected_shortage,
                k.worst_shortage,
                k.service_level,
                k.average_risk,
                k.end_position.closing,
                k.end_position.end_stock,
                k.end_position.days_of_cover,
                k.reserved,
            ]
            for mid, k in sorted(doc.materials.items())
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
            ("kind", None),
            ("order day", fmt.days),
            ("order date", fmt.date),
            ("arrival day", fmt.days),
            ("arrival date", fmt.date),
            ("arrival period", fmt.period),
            ("quantity", fmt.qty),
            ("unit landed cost", fmt.unit_cost),
            ("line total (reservations: the fee)", fmt.money),
            ("licence needed", None),
            ("place today", None),
            ("call date (reservations)", fmt.date),
        ],
        (
            [
                r["supplier"],
                r["country"],
                r["material"],
                r.get("kind", "order"),
                float(r["order_day"]),
                _date(r.get("order_date")),
                float(r["arrival_day"]),
                _date(r.get("arrival_date")),
                int(r["arrival_period"]),
                float(r["quantity"]),
                float(r["unit_landed_cost"]),
                float(r["line_total"]),
                r["licence_needed"],
                r["order_now"],
                _date(r.get("call_date")),
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
            ("cost (reservations: the fee)", fmt.money),
            ("kind", None),
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
                r.get("kind", "order"),
            ]
            for r in run.plan.to_dict("records")
        ),
    )
    sh.finish()


def inventory_sheet(sh: Sheet, run: RunData, fmt: Formats) -> None:
    """The balance per scenario, material and period."""
    q = fmt.qty
    names = ["opening", "arrivals", "spot", "called", "demand", "shortage", "closing", "inbound"]
    names += ["held_back", "safety_stock", "below_safety_stock"]
    names = [n for n in names if n in run.inventory.columns]
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
    for mid, k in sorted(run.summary.materials.items()):
        for level, by in (("country", k.share_by_country), ("supplier", k.share_by_supplier)):
            for name, share in sorted(by.items(), key=lambda kv: (-kv[1], kv[0])):
                rows.append([mid, level, name, share, share * k.volume])
    sh.table(
        [("material", None), ("by", None), ("name", None), ("share", fmt.pct), ("volume", fmt.qty)],
        rows,
    )
    sh.finish()

SHADOW_COLUMNS = (
    ("relaxing a binding limit by one step", "sentence"),
    ("constraint", "constraint"),
    ("material", "material"),
    ("supplier or country", "subject"),
    ("period", "period"),
    ("limit", "limit"),
    ("used", "used"),
    ("saving per step", "per_step"),
    ("step", "step"),
    ("holds from", "range_low"),
    ("holds to", "range_high"),
    ("unit of limit", "unit"),
    ("set by", "policy_path"),
)


def shadow_sheet(sh: Sheet, records: Sequence[ShadowPrice], fmt: Formats) -> None:
    """Shadow prices, one per row: what relaxing the limit by one step saves, and the range
    of the limit over which that holds, each number with its unit (a share, a score, or
    quantity per period); or a note when there are none."""
    if not records:
        sh.table([("note", None)], [["No shadow prices in this run (summary.json has none)."]])
        sh.finish(autofilter=False)
        return
    from optimizer.reports.console import shadow_sentence

    sh.header([(name, None) for name, _key in SHADOW_COLUMNS])
    for rec in records:
        unit = rec.unit
        limit_fmt = fmt.pct if unit == "share" else fmt.score if unit == "score" else fmt.qty_period
        row, formats = [], []
        for _name, key in SHADOW_COLUMNS:
            if key == "sentence":
                value: Any = shadow_sentence(rec, fmt.unit)
                f = None
            elif key in ("limit", "used", "step", "range_low", "range_high"):
                value = _finite(getattr(rec, key))
                f = limit_fmt
            elif key == "per_step":
                value, f = _finite(rec.per_step), fmt.money
            elif key == "period":
                value, f = rec.period, fmt.period
            else:
                value, f = getattr(rec, key), None
            row.append(value)
            formats.append(f)
        sh.add(row, formats)
    sh.finish()


def _finite(value: Any) -> float | None:
    """A number for a cell: None for missing, NaN or infinite (an open range)."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


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
            ("qualification", fmt.days),
            ("controlled by", None),
            ("reservation fee", fmt.unit_cost_period),
            ("exercise price", fmt.unit_cost),
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
            ("safety stock (days of cover)", fmt.days),
            ("safety stock penalty", fmt.unit_cost_period),
            ("end stock", fmt.qty),
            ("end stock penalty", fmt.unit_cost),
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
                ("extra delay", fmt.days),
                ("reach", None),
                ("from period", fmt.period),
                ("to period", fmt.period),
                ("from date", fmt.date),
                ("to date", fmt.date),
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
                    e.delay_days,
                    e.reach or ("own" if e.country else ""),
                    e.from_period,
                    e.to_period,
                    e.from_date,
                    e.to_date,
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
            s.qualification_days,
            ", ".join(s.controlled_by),
        ]
        for mid, o in sorted(s.offers.items()):
            lists = (o.price, o.capacity, o.reservation_fee, o.exercise_price)
            varies = any(isinstance(v, list) for v in lists)
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
                    None if o.reservation_fee is None else _per_period(o.reservation_fee, at),
                    None
                    if o.reservation_fee is None
                    else _per_period(o.price if o.exercise_price is None else o.exercise_price, at),
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
                m.safety_stock_days,
                m.penalty_below_safety_stock,
                m.end_stock,
                m.penalty_below_end_stock,
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
    out.extend(
        (f"max country exposure {c}", v, fmt.pct)
        for c, v in sorted(p.max_country_exposure.items())
    )
    if sc.sampling is not None:
        out.append(("sampled scenarios", sc.sampling.scenarios, fmt.period))
        out.append(("sampling seed", sc.sampling.seed, None))
    return [(k, "none" if v is None else v, f) for k, v, f in out]
