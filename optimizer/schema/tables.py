"""The columns of the tables a run folder holds, in order (DESIGN §5 and §7).
"""

from __future__ import annotations

PLAN_COLUMNS = [
    "material",
    "supplier",
    "country",
    "period",
    "order_day",
    "quantity",
    "landed_unit_cost",
    "delay_days",
    "cost",
    "kind",
]

SPOT_COLUMNS = ["scenario", "material", "supplier", "period", "quantity", "unit_cost", "kind"]

SCENARIO_COLUMNS = ["scenario", "probability", "cost", "shortage", "spot", "called"]

INVENTORY_COLUMNS = [
    "scenario",
    "material",
    "period",
    "opening",
    "arrivals",
    "spot",
    "demand",
    "shortage",
    "closing",
    "inbound",
    "below_safety_stock",
    "probability",
    "called",
    "held_back",
    "safety_stock",
]

ORDER_COLUMNS = [
    "supplier",
    "country",
    "material",
    "kind",
    "order_day",
    "order_date",
    "arrival_day",
    "arrival_date",
    "arrival_period",
    "quantity",
    "unit_landed_cost",
    "line_total",
    "licence_needed",
    "order_now",
    "call_day",
    "call_date",
]

# survive.csv: one row per stopped node and material (`sourcing survive`)
SURVIVE_COLUMNS = [
    "node",
    "kind",
    "material",
    "tts_days",
    "beyond_horizon",
    "ttr_days",
    "at_risk",
    "shortage",
    "spend",
    "penalties",
    "total_cost",
]
