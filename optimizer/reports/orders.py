"""The order schedule: when to place each planned order, and what it costs.

One row per planned arrival (the plan's `orders` table), turned into a
purchase order line:

- `order_day` = max(0, (period - 1) * period_days - delay_days), counted
  from day 0 of the plan (DESIGN §5); `order_date` = horizon.start + the
  whole days of `order_day` (empty without a start date);
- `order_now` is "yes" when (period - 1) * period_days - delay_days < 0: its
  ideal order day lies before day 0, so it must be placed today. Placed today
  it still arrives within its period, because nothing is planned before the
  supplier's earliest arrival period; `arrival_day` / `arrival_date` say when
  it arrives if placed on its order day;
- reservations (kind `reservation`) are signed today; `call_day` /
  `call_date` say when a call must be placed to arrive in its period;
- `licence_needed` is "yes" when the supplier has an export licence wait.

Rows are sorted by order day, then supplier, material and arrival period, so
that the same plan gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from optimizer.model.solution import ZERO
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario
from optimizer.schema.tables import ORDER_COLUMNS


def order_schedule(plan: Plan) -> pd.DataFrame:
    """The order schedule of a plan (columns `ORDER_COLUMNS`): orders, then reservations."""
    orders = schedule_from_table(plan.orders, plan.scenario)
    if plan.reservations is None or plan.reservations.empty:
        return orders
    reserved = schedule_from_table(plan.reservations, plan.scenario, kind="reservation")
    keys = ["order_day", "kind", "supplier", "material", "arrival_period"]
    both = pd.concat([orders, reserved], ignore_index=True)
    return both.sort_values(keys, kind="stable").reset_index(drop=True)


def schedule_from_table(
    rows: pd.DataFrame, scenario: Scenario, kind: str = "order"
) -> pd.DataFrame:
    """The order schedule from plan rows (plan.csv columns) and the scenario they answer.

    `rows` needs material, supplier, country, period, quantity, landed_unit_cost
    and delay_days (lead time plus licence delay, in days), and for reservations
    cost (the fee). An order's ideal day is `(period - 1) * period_days - delay_days`;
    before day 0 it must be placed now (`order_now`), and `arrival_day` is when it
    arrives if placed on its order day. A reservation is signed now (day 0); its
    `call_day` is when a call must be placed to arrive in its period, and
    `line_total` is the fee.
    """
    horizon = scenario.horizon
    raw = (rows["period"].astype(int) - 1) * horizon.period_days - rows["delay_days"].astype(float)
    raw = raw.where(raw.abs() >= ZERO, 0.0)
    ideal = raw.clip(lower=0.0) + 0.0
    delay = rows["delay_days"].astype(float)
    licensed = {sid: s.license_delay_days > 0 for sid, s in scenario.suppliers.items()}
    reservation = kind == "reservation"
    day = ideal * 0.0 if reservation else ideal
    arrival = ideal + delay
    total = (
        rows["cost"].astype(float)
        if reservation
        else rows["quantity"].astype(float) * rows["landed_unit_cost"].astype(float)
    )
    out = pd.DataFrame(
        {
            "supplier": rows["supplier"].astype(str),
            "country": rows["country"].astype(str),
            "material": rows["material"].astype(str),
            "kind": kind,
            "order_day": day,
            "order_date": [order_date(horizon.start, d) for d in day],
            "arrival_day": arrival,
            "arrival_date": [order_date(horizon.start, d) for d in arrival],
            "arrival_period": rows["period"].astype(int),
            "quantity": rows["quantity"].astype(float),
            "unit_landed_cost": rows["landed_unit_cost"].astype(float),
            "line_total": total,
            "licence_needed": ["yes" if licensed.get(s, False) else "no" for s in rows["supplier"]],
            "order_now": ["yes" if (r < 0 or reservation) else "no" for r in raw],
            "call_day": ideal if reservation else ideal * math.nan,
            "call_date": [order_date(horizon.start, d) for d in ideal]
            if reservation
            else [""] * len(rows),
        },
        columns=ORDER_COLUMNS,
    )
    keys = ["order_day", "supplier", "material", "arrival_period"]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def order_date(start: dt.date | None, day: float) -> str:
    """Calendar date (YYYY-MM-DD) of `day` days after `start` (whole days; early, never late)."""
    if start is None:
        return ""
    return (start + dt.timedelta(days=math.floor(day + ZERO))).isoformat()
