"""The summary of a run (`summary.json`, DESIGN §5) made from its checked plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from optimizer.results.plan import PENALTY_KEYS, SPEND_KEYS, Plan

V1_COST_KEYS = ("purchase", "delay", "spot", "holding", "shortage", "safety_stock", "fixed")


def _num(value: float | None) -> float | None:
    """A number for JSON: None for NaN and for an unbounded value (a shadow price's range
    with no end; JSON has no infinity), 0 within 1e-9 of zero, 12 significant digits (so
    that float noise like 3.599999999999999 reads 3.6)."""
    if value is None or not math.isfinite(float(value)):
        return None
    v = float(value)
    if abs(v) < 1e-9:
        return 0.0
    return float(f"{v:.12g}")


def cost_document(plan: Plan) -> dict[str, Any]:
    """`costs` of summary.json: money spent apart from modelled penalties (DESIGN §5),
    expected over the scenarios (F included), the CVaR term, and the item names of
    version 1 at the top level (purchase, delay, spot, holding, shortage, safety_stock,
    fixed) for programs that read them."""
    costs = plan.costs
    spend = {k: _num(costs[k]) for k in SPEND_KEYS}
    penalties = {k: _num(costs[k]) for k in PENALTY_KEYS}
    term = (plan.cvar or {}).get("term", 0.0)
    return {
        "spend": spend,
        "penalties": penalties,
        "total_spend": _num(plan.spend),
        "total_penalties": _num(plan.penalties),
        "cvar_term": _num(term),
        **{k: _num(costs[k]) for k in V1_COST_KEYS},
    }


@dataclass(frozen=True)
class SolveFacts:
    """How a plan was obtained: the solver's answer, the model's size, the timings."""

    solver: str
    status: str
    message: str
    gap: float | None
    seconds: float
    model: Mapping[str, int | str]
    checked: bool
    timings: Mapping[str, float] = field(default_factory=dict)


def summary(
    plan: Plan,
    facts: SolveFacts,
    *,
    file: str | None = None,
    content_hash: str | None = None,
    versions: dict[str, str] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The `summary.json` document of a run (DESIGN §5)."""
    sc = plan.scenario
    materials = {}
    probs = dict(zip(plan.scenarios["scenario"], plan.scenarios["probability"], strict=True))
    for mid, k in plan.materials.items():
        called = {w: q for w, q in k["called"].items() if q > 0}
        materials[mid] = {
            "volume": _num(k["volume"]),
            "demand": _num(k["demand"]),
            "planned_cost": _num(k["planned_cost"]),
            "average_unit_cost": _num(k["average_unit_cost"]),
            "share_by_supplier": {s: _num(v) for s, v in k["share_by_supplier"].items()},
            "share_by_country": {c: _num(v) for c, v in k["share_by_country"].items()},
            "exposure_by_country": {c: _num(v) for c, v in k["exposure_by_country"].items()},
            "average_risk": _num(k["average_risk"]),
            "expected_shortage": _num(k["expected_shortage"]),
            "expected_shortage_cost": _num(k["expected_shortage_cost"]),
            "worst_shortage": _num(k["worst_shortage"]),
            "service_level": _num(k["service_level"]),
            "end_position": {e: _num(v) for e, v in k["end_position"].items()},
            "reserved": _num(k["reserved"]),
            "expected_called": _num(sum(probs[w] * q for w, q in called.items())),
            "called_by_scenario": {w: _num(q) for w, q in called.items()},
        }
    all_timings = {**facts.timings, **(timings or {})}
    return {
        "scenario": sc.name,
        "title": sc.title,
        "file": file,
        "content_hash": content_hash,
        "status": plan.status,
        "objective": _num(plan.objective),
        "total_cost": _num(plan.total_cost),
        "spend": _num(plan.spend),
        "penalties": _num(plan.penalties),
        "currency": sc.currency,
        "quantity_unit": sc.quantity_unit,
        "costs": cost_document(plan),
        "optimises": {
            "risk_measure": sc.objective.risk_measure,
            "cvar_alpha": sc.objective.cvar_alpha,
            "cvar_weight": sc.objective.cvar_weight,
        },
        "cvar": None
        if plan.cvar is None
        else {k: _num(v) for k, v in plan.cvar.items() if k != "term"},
        "materials": materials,
        "suppliers_used": plan.suppliers_used,
        "scenarios": [
            {
                "name": str(r.scenario),
                "probability": _num(r.probability),
                "cost": _num(r.cost),
                "shortage": _num(r.shortage),
                "spot": _num(r.spot),
                "called": _num(r.called),
            }
            for r in plan.scenarios.itertuples(index=False)
        ],
        "model": dict(facts.model),
        "solver": {
            "name": facts.solver,
            "status": facts.status,
            "message": facts.message,
            "gap": _num(facts.gap),
            "seconds": round(facts.seconds, 4),
            "timings": {k: round(v, 4) for k, v in all_timings.items()},
        },
        "checked": bool(facts.checked),
        "shadow_prices": _shadow_records(plan.shadow_prices),
        "shadow_prices_note": plan.shadow_note,
        "versions": versions or {},
    }


def _shadow_records(table: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Shadow prices as plain records (period null on the horizon basis)."""
    if table is None or table.empty:
        return []
    out = []
    for rec in table.to_dict(orient="records"):
        period = rec.get("period")
        rec["period"] = None if period is None or pd.isna(period) else int(period)
        for key in ("limit", "used", "marginal", "per_step", "step", "range_low", "range_high"):
            if key in rec:
                rec[key] = _num(rec[key])
        out.append(rec)
    return out
