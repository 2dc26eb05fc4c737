"""Solved model -> `Plan`: pandas tables of the plan and its KPIs.

A `Plan` knows nothing of the solver or of files: it holds

- `orders`: planned arrivals x (one row per non-zero), with landed cost,
  delay and order day;
- `spot`: spot buys y per scenario;
- `inventory`: per scenario, material and period the balance of §4
  (opening + arrivals + spot + shortage - demand = closing);
- `scenarios`: the scenario set with probabilities and each scenario's cost;
- `costs`: the expected cost breakdown, and per-material KPIs.

Values within 1e-9 of zero are 0, so that the same plan gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimizer.model import BuiltModel
from optimizer.parameters import Outcome, Parameters

ZERO = 1e-9
COST_KEYS = ("purchase", "delay", "spot", "holding", "shortage", "safety_stock", "fixed")


def clean(a: np.ndarray) -> np.ndarray:
    """Values within 1e-9 of zero become 0 (and -0.0 becomes 0.0)."""
    a = np.asarray(a, dtype=float)
    return np.where(np.abs(a) < ZERO, 0.0, a) + 0.0


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
    cvar: dict[str, float] | None = None  # VaR and CVaR of fixed + C[w] at cvar_alpha
    shadow_prices: pd.DataFrame | None = None  # see optimizer.shadow
    shadow_note: str = ""
    suppliers_used: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> Any:
        """The scenario this plan answers."""
        return self.params.scenario

    @property
    def total_cost(self) -> float:
        """Fixed plus expected cost (the objective without the CVaR term)."""
        return float(sum(self.costs[k] for k in COST_KEYS))


def order_day(period: int, period_days: float, delay_days: float) -> float:
    """When to place an order that arrives in `period`: max(0, (period-1)*D - delay)."""
    return max(0.0, (period - 1) * period_days - delay_days)


@dataclass
class Solution:
    """Solved values as arrays over the scenario's index sets (not the solver's columns).

    x (O, T): planned arrivals; y (W, O, T): spot buys; inv, short, below (W, M, T).
    """

    params: Parameters
    outcomes: tuple[Outcome, ...]
    x: np.ndarray
    y: np.ndarray
    inv: np.ndarray
    short: np.ndarray
    below: np.ndarray


def solution_of(built: BuiltModel, values: np.ndarray) -> Solution:
    """Map solver values (in the model's column order) onto the scenario's index sets."""
    vals = clean(values)
    return Solution(
        built.params,
        built.outcomes,
        x=clean(built.value(built.x, vals)),
        y=clean(built.value(built.y, vals)),
        inv=clean(built.value(built.inv, vals)),
        short=clean(built.value(built.short, vals)),
        below=clean(built.value(built.below, vals)),
    )


def extract_plan(sol: Solution, status: str, objective: float) -> Plan:
    """Turn a solution into a `Plan`: tables, cost breakdown and KPIs."""
    p = sol.params
    x, y, short = sol.x, sol.y, sol.short
    orders = _orders(p, x)
    spot = _spot(p, sol.outcomes, y)
    inventory = _inventory(sol)
    parts = _cost_parts(sol)  # (W, 7)
    probs = np.array([o.probability for o in sol.outcomes])
    per_scenario = parts.sum(axis=1)
    costs = dict(zip(COST_KEYS, (probs @ parts).tolist(), strict=True))
    used = [p.suppliers[s] for s in range(len(p.suppliers)) if x[p.offer_supplier == s].sum() > 0]
    costs["fixed"] = float(sum(p.fixed_cost[p.suppliers.index(s)] for s in used))
    scenarios = pd.DataFrame(
        {
            "scenario": [o.name for o in sol.outcomes],
            "probability": probs,
            "cost": per_scenario + costs["fixed"],
            "shortage": short.sum(axis=(1, 2)),
            "spot": y.sum(axis=(1, 2)),
        }
    )
    # The tail of the cost distribution, for every plan (the objective uses it with cvar).
    tail = cvar_of(per_scenario + costs["fixed"], probs, p.scenario.objective.cvar_alpha)
    return Plan(
        params=p,
        status=status,
        objective=float(objective),
        orders=orders,
        spot=spot,
        inventory=inventory,
        scenarios=scenarios,
        costs=costs,
        materials=_material_kpis(p, x, short, probs),
        cvar=tail,
        suppliers_used=used,
    )


def cvar_of(costs: np.ndarray, probs: np.ndarray, alpha: float) -> dict[str, float]:
    """VaR and CVaR at level alpha of a discrete cost distribution (Rockafellar-Uryasev).

    CVaR = min_eta eta + 1/(1-alpha) * sum p * max(0, C - eta); the minimum is at
    eta = VaR, the smallest cost whose cumulative probability reaches alpha.
    """
    order = np.argsort(costs, kind="stable")
    cum = np.cumsum(probs[order])
    k = int(np.searchsorted(cum, alpha - 1e-12, side="left"))
    var = float(costs[order][min(k, len(order) - 1)])
    excess = np.maximum(costs - var, 0.0)
    return {"alpha": alpha, "var": var, "cvar": var + float(probs @ excess) / (1.0 - alpha)}


def _orders(p: Parameters, x: np.ndarray) -> pd.DataFrame:
    o_idx, t_idx = np.nonzero(x > 0)
    s_idx = p.offer_supplier[o_idx]
    delay = p.delay_days[s_idx]
    qty = x[o_idx, t_idx]
    landed = p.landed[o_idx, t_idx]
    df = pd.DataFrame(
        {
            "material": [p.offers[o][1] for o in o_idx],
            "supplier": [p.offers[o][0] for o in o_idx],
            "country": [p.country[s] for s in s_idx],
            "period": t_idx + 1,
            "order_day": [
                order_day(t + 1, p.period_days, d) for t, d in zip(t_idx, delay, strict=True)
            ],
            "quantity": qty,
            "landed_unit_cost": landed,
            "delay_days": delay,
            "cost": qty * landed,
        }
    )
    return df.sort_values(["material", "supplier", "period"], kind="stable").reset_index(drop=True)


def _spot(p: Parameters, outcomes: tuple[Outcome, ...], y: np.ndarray) -> pd.DataFrame:
    w_idx, o_idx, t_idx = np.nonzero(y > 0)
    premium = 1.0 + p.scenario.spot_premium
    unit = np.array(
        [
            outcomes[w].price[o, t] * p.landed[o, t] * premium
            for w, o, t in zip(w_idx, o_idx, t_idx, strict=True)
        ]
    )
    return pd.DataFrame(
        {
            "scenario": [outcomes[w].name for w in w_idx],
            "material": [p.offers[o][1] for o in o_idx],
            "supplier": [p.offers[o][0] for o in o_idx],
            "period": t_idx + 1,
            "quantity": y[w_idx, o_idx, t_idx],
            "unit_cost": unit if unit.size else np.zeros(0),
        }
    )


def _inventory(sol: Solution) -> pd.DataFrame:
    p, x, y, inv, short, below = sol.params, sol.x, sol.y, sol.inv, sol.short, sol.below
    _, n_m, n_t = inv.shape
    frames = []
    for w, out in enumerate(sol.outcomes):
        planned = np.zeros((n_m, n_t))
        spot = np.zeros((n_m, n_t))
        np.add.at(planned, p.offer_material, out.avail * x)
        np.add.at(spot, p.offer_material, y[w])
        arrivals = planned + p.inbound
        opening = np.concatenate([p.initial[:, None], inv[w][:, :-1]], axis=1)
        frames.append(
            pd.DataFrame(
                {
                    "scenario": out.name,
                    "material": np.repeat(p.materials, n_t),
                    "period": np.tile(np.arange(1, n_t + 1), n_m),
                    "opening": opening.ravel(),
                    "arrivals": clean(arrivals).ravel(),
                    "spot": spot.ravel(),
                    "demand": p.demand.ravel(),
                    "shortage": short[w].ravel(),
                    "closing": inv[w].ravel(),
                    "inbound": p.inbound.ravel(),
                    "below_safety_stock": below[w].ravel(),
                    "probability": out.probability,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _cost_parts(sol: Solution) -> np.ndarray:
    """Per scenario: purchase, delay, spot, holding, shortage, safety_stock (and 0 fixed)."""
    p, x, y, inv, short, below = sol.params, sol.x, sol.y, sol.inv, sol.short, sol.below
    outcomes = sol.outcomes
    delay = p.delay_cost[:, None]
    premium = 1.0 + p.scenario.spot_premium
    rows = []
    for w, out in enumerate(outcomes):
        gl = out.price * p.landed
        delivered = out.avail * x
        rows.append(
            [
                float((gl * delivered).sum()),
                float((delay * (delivered + y[w])).sum()),
                float((gl * premium * y[w]).sum()),
                float((p.holding[:, None] * inv[w]).sum()),
                float((p.shortage_cost[:, None] * short[w]).sum()),
                float((p.safety_penalty[:, None] * below[w]).sum()),
                0.0,
            ]
        )
    return np.array(rows).reshape(len(outcomes), len(COST_KEYS))


def _material_kpis(
    p: Parameters, x: np.ndarray, short: np.ndarray, probs: np.ndarray
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    live = probs > 0
    for mi, mid in enumerate(p.materials):
        offers = p.offers_of(mi)
        vol = x[offers].sum(axis=1)
        total = float(vol.sum())
        by_supplier: dict[str, float] = {}
        by_country: dict[str, float] = {}
        risk = 0.0
        for o, v in zip(offers, vol, strict=True):
            if v <= 0:
                continue
            s = p.offer_supplier[o]
            by_supplier[p.suppliers[s]] = float(v / total)
            by_country[p.country[s]] = by_country.get(p.country[s], 0.0) + float(v / total)
            risk += float(p.risk[s] * v)
        shortage = short[:, mi, :].sum(axis=1)
        demand = float(p.demand[mi].sum())
        expected = float(probs @ shortage)
        out[mid] = {
            "volume": total,
            "demand": demand,
            "share_by_supplier": dict(sorted(by_supplier.items())),
            "share_by_country": dict(sorted(by_country.items())),
            "average_risk": risk / total if total > 0 else None,
            "expected_shortage": expected,
            "worst_shortage": float(shortage[live].max()) if live.any() else 0.0,
            "service_level": 1.0 - expected / demand if demand > 0 else 1.0,
        }
    return out
