"""The order schedule: when to place each planned order, and what it costs.

One row per planned arrival (the plan's `orders` table), turned into a
purchase order line:

- `order_day` = max(0, (period - 1) * period_days - delay_days), counted
  from day 0 of the plan (DESIGN §5); `order_date` = horizon.start + the
  whole days of `order_day` (empty without a start date);
- an order is *overdue* when (period - 1) * period_days - delay_days < 0: it
  should have been placed before day 0. Placed now, it still arrives within
  its period, because nothing is planned before the supplier's earliest
  arrival period floor(delay_days / period_days) + 1; `overdue_days` says by
  how many days it is late;
- `licence_needed` is "yes" when the supplier has an export licence wait.

Rows are sorted by order day, then supplier, material and arrival period, so
that the same plan gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from optimizer.plan import ZERO, Plan
from optimizer.scenario import Scenario

ORDER_COLUMNS = [
    "supplier",
    "country",
    "material",
    "order_day",
    "order_date",
    "arrival_period",
    "quantity",
    "unit_landed_cost",
    "line_total",
    "licence_needed",
    "overdue",
    "overdue_days",
]


def order_schedule(plan: Plan) -> pd.DataFrame:
    """The order schedule of a plan (columns `ORDER_COLUMNS`)."""
    return schedule_from_table(plan.orders, plan.scenario)


def schedule_from_table(rows: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The order schedule from plan rows (plan.csv columns) and the scenario they answer.

    `rows` needs material, supplier, country, period, quantity, landed_unit_cost
    and delay_days (lead time plus licence delay, in days).
    """
    horizon = scenario.horizon
    raw = (rows["period"].astype(int) - 1) * horizon.period_days - rows["delay_days"].astype(float)
    raw = raw.where(raw.abs() >= ZERO, 0.0)
    day = raw.clip(lower=0.0) + 0.0
    licensed = {sid: s.license_delay_days > 0 for sid, s in scenario.suppliers.items()}
    out = pd.DataFrame(
        {
            "supplier": rows["supplier"].astype(str),
            "country": rows["country"].astype(str),
            "material": rows["material"].astype(str),
            "order_day": day,
            "order_date": [order_date(horizon.start, d) for d in day],
            "arrival_period": rows["period"].astype(int),
            "quantity": rows["quantity"].astype(float),
            "unit_landed_cost": rows["landed_unit_cost"].astype(float),
            "line_total": rows["quantity"].astype(float) * rows["landed_unit_cost"].astype(float),
            "licence_needed": ["yes" if licensed.get(s, False) else "no" for s in rows["supplier"]],
            "overdue": ["yes" if r < 0 else "no" for r in raw],
            "overdue_days": (-raw).clip(lower=0.0) + 0.0,
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
