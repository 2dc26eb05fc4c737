"""Where an effect of a disruption or risk applies: its window of periods (dates turned
into periods, clipped to the horizon) and the offers it hits (reach).
"""

from __future__ import annotations

import datetime as dt
import math

from optimizer.schema.scenario import Effect, Horizon, Scenario


def date_period(date: dt.date, start: dt.date, period_days: float) -> int:
    """The period that contains a date: `floor((date - start).days / D) + 1` (may lie
    outside 1..P; DESIGN §4)."""
    return math.floor((date - start).days / period_days) + 1


def effect_window(eff: Effect, horizon: Horizon) -> tuple[int, int] | None:
    """First and last period (1-based, inclusive) an effect hits, clipped to the horizon;
    None when the window lies wholly outside it (DESIGN §4)."""
    periods = horizon.periods
    first, last = eff.from_period or 1, eff.to_period or periods
    if eff.from_date is not None and horizon.start is not None:
        first = date_period(eff.from_date, horizon.start, horizon.period_days)
    if eff.to_date is not None and horizon.start is not None:
        last = date_period(eff.to_date, horizon.start, horizon.period_days)
    first, last = max(first, 1), min(last, periods)
    return (first, last) if first <= last else None


def hits(sc: Scenario, eff: Effect, supplier: str, material: str) -> bool:
    """Whether an effect hits one offer: its supplier (or country, with `reach: controlled`
    also the suppliers controlled by it) and its material."""
    sup = sc.suppliers[supplier]
    if eff.supplier is not None and eff.supplier != supplier:
        return False
    controlled = eff.reach == "controlled" and eff.country in sup.controlled_by
    if eff.country is not None and sup.country != eff.country and not controlled:
        return False
    return eff.materials is None or material in eff.materials
