"""Solution -> `Plan`: pandas tables of the plan and its KPIs.

A `Plan` knows nothing of the solver or of files: it holds

- `orders`: planned arrivals x (one row per non-zero), with landed cost,
  delay and order day; `reservations`: capacity reserved r, likewise;
- `spot`: spot buys y and calls o of reserved capacity per scenario;
- `inventory`: per scenario, material and period the balance of §4
  (opening + arrivals + spot + called + shortage - demand = closing), with
  the volume held back by a delay;
- `scenarios`: the scenario set with probabilities and each scenario's cost;
- `costs`: the expected cost breakdown, money spent apart from modelled
  penalties, and per-material KPIs.

Values within 1e-9 of zero are 0, so that the same plan gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimizer.model.outcomes import Outcome
from optimizer.model.parameters import Parameters
from optimizer.model.solution import Solution, arrivals, clean, held_back
from optimizer.results.risk import cvar_of
from optimizer.schema.summary import Costs, fields_of

SPEND_KEYS = ("purchase", "spot", "reservation", "called", "fixed", "holding")

PENALTY_KEYS = ("delay", "shortage", "safety_stock", "end_stock")

COST_KEYS = SPEND_KEYS + PENALTY_KEYS

SCENARIO_KEYS = ("purchase", "spot", "called", "holding", "delay", "shortage")  # in C[w]

PLAN_KEYS = ("reservation", "fixed", "safety_stock", "end_stock")  # in F


def cost_items(costs: Costs) -> dict[str, float]:
    """Every cost item of a summary's `costs` (spend and penalties), in COST_KEYS order."""
    items = dict(fields_of(costs.spend) + fields_of(costs.penalties))
    return {k: float(items[k]) for k in COST_KEYS}


@dataclass
class Plan:
    """A sourcing plan and what it costs, in the scenario's terms."""

    params: Parameters
    status: str
    objective: float
    orders: pd.DataFrame
    spot: pd.DataFrame
    inventory: pd.DataFrame
    scenarios: pd.DataFrame
    costs: dict[str, float]
    materials: dict[str, dict[str, Any]]
    cvar: dict[str, float] | None = None  # VaR and CVaR of F + C[w] at cvar_alpha
    shadow_prices: pd.DataFrame | None = None  # see optimizer.shadow
    shadow_note: str = ""
    suppliers_used: list[str] = field(default_factory=list)
    reservations: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def scenario(self) -> Any:
        """The scenario this plan answers."""
        return self.params.scenario

    @property
    def total_cost(self) -> float:
        """F plus expected cost (the objective without the CVaR term): spend + penalties."""
        return float(sum(self.costs[k] for k in COST_KEYS))

    @property
    def spend(self) -> float:
        """Expected money spent (purchase, spot, reservation, called, fixed, holding)."""
        return float(sum(self.costs[k] for k in SPEND_KEYS))

    @property
    def penalties(self) -> float:
        """Expected modelled penalties (delay, shortage, safety stock, end stock)."""
        return float(sum(self.costs[k] for k in PENALTY_KEYS))


def order_day(period: int, period_days: float, delay_days: float) -> float:
    """When to place an order that arrives in `period`: max(0, (period-1)*D - delay)."""
    return max(0.0, (period - 1) * period_days - delay_days)


def objective_of(sol: Solution) -> float:
    """The objective of §4 recomputed from a solution: F + sum_w p[w] C[w] + the CVaR term."""
    probs = np.array([o.probability for o in sol.outcomes])
    per_scenario = _cost_parts(sol).sum(axis=1)
    plan_costs, _ = _plan_costs(sol)
    tail = _cvar_term(sol.params, per_scenario, probs)
    return float(sum(plan_costs.values()) + probs @ per_scenario + tail)


def extract_plan(sol: Solution, status: str, objective: float) -> Plan:
    """Turn a solution into a `Plan`: tables, cost breakdown and KPIs."""
    p = sol.params
    x, y, short = sol.x, sol.y, sol.short
    assert sol.r is not None and sol.o is not None
    orders = _orders(p, x)
    reservations = _reservations(p, sol.r)
    spot = _spot(p, sol.outcomes, y, sol.o)
    inventory = _inventory(sol)
    parts = _cost_parts(sol)  # (W, len(SCENARIO_KEYS))
    probs = np.array([o.probability for o in sol.outcomes])
    plan_costs, used = _plan_costs(sol)
    per_scenario = parts.sum(axis=1)
    costs = dict(zip(SCENARIO_KEYS, (probs @ parts).tolist(), strict=True))
    costs.update(plan_costs)
    costs = {k: float(costs[k]) for k in COST_KEYS}
    fixed_part = float(sum(plan_costs.values()))
    scenarios = pd.DataFrame(
        {
            "scenario": [o.name for o in sol.outcomes],
            "probability": probs,
            "cost": per_scenario + fixed_part,
            "shortage": short.sum(axis=(1, 2)),
            "spot": y.sum(axis=(1, 2)),
            "called": sol.o.sum(axis=(1, 2)),
        }
    )
    # The tail of the cost distribution, for every plan (the objective uses it with cvar).
    tail = cvar_of(per_scenario + fixed_part, probs, p.scenario.objective.cvar_alpha)
    tail["term"] = _cvar_term(p, per_scenario, probs)
    return Plan(
        params=p,
        status=status,
        objective=float(objective),
        orders=orders,
        spot=spot,
        inventory=inventory,
        scenarios=scenarios,
        costs=costs,
        materials=_material_kpis(sol, probs),
        cvar=tail,
        suppliers_used=used,
        reservations=reservations,
    )


def _cvar_term(p: Parameters, per_scenario: np.ndarray, probs: np.ndarray) -> float:
    """The objective's CVaR term: cvar_weight * CVaR(C[w]) with cvar, else 0."""
    objective = p.scenario.objective
    if objective.risk_measure != "cvar":
        return 0.0
    return objective.cvar_weight * cvar_of(per_scenario, probs, objective.cvar_alpha)["cvar"]


def _orders(p: Parameters, x: np.ndarray) -> pd.DataFrame:
    """Planned volume: one row per offer and period with x > 0, at its landed unit cost."""
    return _plan_rows(p, x, p.landed, p.landed)


def _reservations(p: Parameters, r: np.ndarray) -> pd.DataFrame:
    """Capacity reserved: like orders, with the exercise price as unit cost and the fee as
    cost (what is paid whether or not the capacity is called)."""
    return _plan_rows(p, r, p.exercise_landed, p.reservation_fee)


def _plan_rows(
    p: Parameters, q: np.ndarray, unit_cost: np.ndarray, cost_rate: np.ndarray
) -> pd.DataFrame:
    """Rows of plan.csv for the offer x period quantities `q` > 0: `unit_cost` per unit
    (landed_unit_cost) and `cost` = quantity * `cost_rate`."""
    o_idx, t_idx = np.nonzero(q > 0)
    s_idx = p.offer_supplier[o_idx]
    delay = p.delay_days[s_idx]
    qty = q[o_idx, t_idx]
    df = pd.DataFrame(
        {
            "material": [p.offers[o][1] for o in o_idx],
            "supplier": [p.offers[o][0] for o in o_idx],
            "country": [p.country[s] for s in s_idx],
            "period": t_idx + 1,
            "order_day": [
                order_day(int(t) + 1, p.period_days, d) for t, d in zip(t_idx, delay, strict=True)
            ],
            "quantity": qty,
            "landed_unit_cost": unit_cost[o_idx, t_idx],
            "delay_days": delay,
            "cost": qty * cost_rate[o_idx, t_idx],
        }
    )
    return df.sort_values(["material", "supplier", "period"], kind="stable").reset_index(drop=True)


def _spot(
    p: Parameters, outcomes: tuple[Outcome, ...], y: np.ndarray, calls: np.ndarray
) -> pd.DataFrame:
    """Spot buys (kind `spot`, at g*l*(1 + premium)) and calls of reserved capacity (kind
    `call`, at the exercise price) per scenario."""
    premium = 1.0 + p.scenario.spot_premium
    frames = []
    for kind, vol in (("spot", y), ("call", calls)):
        w_idx, o_idx, t_idx = np.nonzero(vol > 0)
        if kind == "spot":
            unit = [
                outcomes[w].price[o, t] * p.landed[o, t] * premium
                for w, o, t in zip(w_idx, o_idx, t_idx, strict=True)
            ]
        else:
            unit = p.exercise_landed[o_idx, t_idx].tolist()
        frames.append(
            pd.DataFrame(
                {
                    "scenario": [outcomes[w].name for w in w_idx],
                    "material": [p.offers[o][1] for o in o_idx],
                    "supplier": [p.offers[o][0] for o in o_idx],
                    "period": t_idx + 1,
                    "quantity": vol[w_idx, o_idx, t_idx],
                    "unit_cost": np.asarray(unit, dtype=float),
                    "kind": kind,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _inventory(sol: Solution) -> pd.DataFrame:
    p, x, y, inv, short = sol.params, sol.x, sol.y, sol.inv, sol.short
    assert sol.o is not None
    _, n_m, n_t = inv.shape
    frames = []
    for w, out in enumerate(sol.outcomes):
        planned = arrivals(p, out, out.avail * x)
        spot = arrivals(p, out, y[w])
        called = arrivals(p, out, sol.o[w])
        late = held_back(p, out, out.avail * x + sol.o[w] + y[w])
        opening = np.concatenate([p.initial[:, None], inv[w][:, :-1]], axis=1)
        below = np.maximum(p.safety_stock - inv[w], 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "scenario": out.name,
                    "material": np.repeat(p.materials, n_t),
                    "period": np.tile(np.arange(1, n_t + 1), n_m),
                    "opening": opening.ravel(),
                    "arrivals": clean(planned + p.inbound).ravel(),
                    "spot": clean(spot).ravel(),
                    "demand": p.demand.ravel(),
                    "shortage": short[w].ravel(),
                    "closing": inv[w].ravel(),
                    "inbound": p.inbound.ravel(),
                    "below_safety_stock": clean(below).ravel(),
                    "probability": out.probability,
                    "called": clean(called).ravel(),
                    "held_back": clean(late).ravel(),
                    "safety_stock": p.safety_stock.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _cost_parts(sol: Solution) -> np.ndarray:
    """Per scenario, the parts of C[w] in SCENARIO_KEYS order: purchase, spot, called,
    holding, delay, shortage (over shipments that arrive within the horizon)."""
    p, x, y, inv, short = sol.params, sol.x, sol.y, sol.inv, sol.short
    assert sol.o is not None
    premium = 1.0 + p.scenario.spot_premium
    rows = []
    for w, out in enumerate(sol.outcomes):
        ok = p.delivered(out)
        gl = out.price * p.landed
        delivered = np.where(ok, out.avail * x, 0.0)
        spot = np.where(ok, y[w], 0.0)
        calls = np.where(ok, sol.o[w], 0.0)
        delay = p.delay_cost_in(out)
        rows.append(
            [
                float((gl * delivered).sum()),
                float((gl * premium * spot).sum()),
                float((p.exercise_landed * calls).sum()),
                float((p.holding[:, None] * inv[w]).sum()),
                float((delay * (delivered + spot + calls)).sum()),
                float((p.shortage_cost[:, None] * short[w]).sum()),
            ]
        )
    return np.array(rows).reshape(len(sol.outcomes), len(SCENARIO_KEYS))


def _plan_costs(sol: Solution) -> tuple[dict[str, float], list[str]]:
    """F by part (reservation, fixed, safety_stock, end_stock) and the suppliers used
    (planned from or reserved at)."""
    p = sol.params
    assert sol.r is not None
    inv0 = sol.inv[sol.base]
    below = np.maximum(p.safety_stock - inv0, 0.0)
    endshort = np.maximum(p.end_stock - inv0[:, -1], 0.0)
    booked = sol.x + sol.r
    used = [
        p.suppliers[s] for s in range(len(p.suppliers)) if booked[p.offer_supplier == s].sum() > 0
    ]
    costs = {
        "reservation": float((p.reservation_fee * sol.r).sum()),
        "fixed": float(sum(p.fixed_cost[p.suppliers.index(s)] for s in used)),
        "safety_stock": float((p.safety_penalty[:, None] * clean(below)).sum()),
        "end_stock": float((p.end_penalty * clean(endshort)).sum()),
    }
    return costs, used


def _material_kpis(sol: Solution, probs: np.ndarray) -> dict[str, dict[str, Any]]:
    p, x, short = sol.params, sol.x, sol.short
    assert sol.r is not None
    out: dict[str, dict[str, Any]] = {}
    live = probs > 0
    inv0 = sol.inv[sol.base]
    for mi, mid in enumerate(p.materials):
        offers = p.offers_of(mi)
        vol = x[offers].sum(axis=1)
        total = float(vol.sum())
        planned_cost = float((x[offers] * p.landed[offers]).sum())
        by_supplier: dict[str, float] = {}
        by_country: dict[str, float] = {}
        exposure: dict[str, float] = {}
        risk = 0.0
        for o, v in zip(offers, vol, strict=True):
            if v <= 0:
                continue
            s = p.offer_supplier[o]
            by_supplier[p.suppliers[s]] = float(v / total)
            by_country[p.country[s]] = by_country.get(p.country[s], 0.0) + float(v / total)
            for code in {p.country[s], *p.controlled_by[s]}:
                exposure[code] = exposure.get(code, 0.0) + float(v / total)
            risk += float(p.risk[s] * v)
        shortage = short[:, mi, :].sum(axis=1)
        demand = float(p.demand[mi].sum())
        expected = float(probs @ shortage)
        closing = float(inv0[mi, -1])
        last_demand = float(p.demand[mi, -1])
        reserved = float(sol.r[offers].sum())
        out[mid] = {
            "volume": total,
            "demand": demand,
            "planned_cost": planned_cost,
            "average_unit_cost": planned_cost / total if total > 0 else None,
            "share_by_supplier": dict(sorted(by_supplier.items())),
            "share_by_country": dict(sorted(by_country.items())),
            "exposure_by_country": dict(sorted(exposure.items())),
            "average_risk": risk / total if total > 0 else None,
            "expected_shortage": expected,
            "expected_shortage_cost": expected * float(p.shortage_cost[mi]),
            "worst_shortage": float(shortage[live].max()) if live.any() else 0.0,
            "service_level": 1.0 - expected / demand if demand > 0 else 1.0,
            "end_position": {
                "closing": closing,
                "end_stock": float(p.end_stock[mi]),
                "below_end_stock": max(0.0, float(p.end_stock[mi]) - closing),
                "days_of_cover": (
                    closing / last_demand * p.period_days if last_demand > 0 else None
                ),
            },
            "reserved": reserved,
            "called": {
                o.name: float(sol.o[w][offers].sum())  # type: ignore[index]
                for w, o in enumerate(sol.outcomes)
                if reserved > 0
            },
        }
    return out
