"""The summary of a run (`summary.json`, DESIGN §5) made from its checked plan, as a
`RunSummary` (optimizer.schema.summary): the one form of a summary in memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from optimizer.results.plan import PENALTY_KEYS, SPEND_KEYS, Plan
from optimizer.schema.summary import (
    Costs,
    EndPosition,
    MaterialSummary,
    ModelSize,
    Optimises,
    PenaltyCosts,
    RunSummary,
    ScenarioSummary,
    ShadowPrice,
    SolverSummary,
    SpendCosts,
    Tail,
)


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


def _amount(value: float) -> float:
    """`_num` of a figure that must be a finite number (a cost, a quantity, a share)."""
    out = _num(value)
    if out is None:
        raise ValueError(f"a summary figure is not a finite number: {value!r}")
    return out


def _amounts(values: Mapping[str, float]) -> dict[str, float]:
    return {k: _amount(v) for k, v in values.items()}


def cost_document(plan: Plan) -> Costs:
    """`costs` of summary.json: money spent apart from modelled penalties (DESIGN §5),
    expected over the scenarios (F included), the CVaR term, and the item names of
    version 1 at the top level (purchase, delay, spot, holding, shortage, safety_stock,
    fixed) for programs that read them."""
    costs = plan.costs
    term = (plan.cvar or {}).get("term", 0.0)
    return Costs(
        spend=SpendCosts(**{k: _amount(costs[k]) for k in SPEND_KEYS}),
        penalties=PenaltyCosts(**{k: _amount(costs[k]) for k in PENALTY_KEYS}),
        total_spend=_amount(plan.spend),
        total_penalties=_amount(plan.penalties),
        cvar_term=_amount(term),
        purchase=_amount(costs["purchase"]),
        delay=_amount(costs["delay"]),
        spot=_amount(costs["spot"]),
        holding=_amount(costs["holding"]),
        shortage=_amount(costs["shortage"]),
        safety_stock=_amount(costs["safety_stock"]),
        fixed=_amount(costs["fixed"]),
    )


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
    table_hashes: dict[str, str] | None = None,
) -> RunSummary:
    """The summary of a run (`summary.json`, DESIGN §5); `table_hashes`: the SHA-256 of
    the tables as they are written (`optimizer.reports.csv_files.table_hashes`)."""
    sc = plan.scenario
    probs = dict(zip(plan.scenarios["scenario"], plan.scenarios["probability"], strict=True))
    materials = {mid: _material(k, probs) for mid, k in plan.materials.items()}
    all_timings = {**facts.timings, **(timings or {})}
    cvar = plan.cvar
    return RunSummary(
        scenario=sc.name,
        title=sc.title,
        file=file,
        content_hash=content_hash,
        status=plan.status,  # type: ignore[arg-type]  # a checked plan: optimal or feasible
        objective=_amount(plan.objective),
        total_cost=_amount(plan.total_cost),
        spend=_amount(plan.spend),
        penalties=_amount(plan.penalties),
        currency=sc.currency,
        quantity_unit=sc.quantity_unit,
        costs=cost_document(plan),
        optimises=Optimises(
            risk_measure=sc.objective.risk_measure,
            cvar_alpha=sc.objective.cvar_alpha,
            cvar_weight=sc.objective.cvar_weight,
        ),
        cvar=None
        if cvar is None
        else Tail(
            alpha=_amount(cvar["alpha"]), var=_amount(cvar["var"]), cvar=_amount(cvar["cvar"])
        ),
        materials=materials,
        suppliers_used=plan.suppliers_used,
        scenarios=[
            ScenarioSummary(
                name=str(r.scenario),
                probability=_amount(r.probability),
                cost=_amount(r.cost),
                shortage=_amount(r.shortage),
                spot=_amount(r.spot),
                called=_amount(r.called),
            )
            for r in plan.scenarios.itertuples(index=False)
        ],
        model=ModelSize.model_validate(dict(facts.model)),
        solver=SolverSummary(
            name=facts.solver,
            status=facts.status,
            message=facts.message,
            gap=_num(facts.gap),
            seconds=round(facts.seconds, 4),
            timings={k: round(v, 4) for k, v in all_timings.items()},
        ),
        checked=bool(facts.checked),
        shadow_prices=_shadow_records(plan.shadow_prices),
        shadow_prices_note=plan.shadow_note,
        versions=versions or {},
        table_hashes=table_hashes,
    )


def _material(k: Mapping[str, Any], probs: Mapping[str, float]) -> MaterialSummary:
    """One material's figures (`Plan.materials`), rounded for JSON."""
    called = {w: q for w, q in k["called"].items() if q > 0}
    end = k["end_position"]
    return MaterialSummary(
        volume=_amount(k["volume"]),
        demand=_amount(k["demand"]),
        planned_cost=_amount(k["planned_cost"]),
        average_unit_cost=_num(k["average_unit_cost"]),
        share_by_supplier=_amounts(k["share_by_supplier"]),
        share_by_country=_amounts(k["share_by_country"]),
        exposure_by_country=_amounts(k["exposure_by_country"]),
        average_risk=_num(k["average_risk"]),
        expected_shortage=_amount(k["expected_shortage"]),
        expected_shortage_cost=_amount(k["expected_shortage_cost"]),
        worst_shortage=_amount(k["worst_shortage"]),
        service_level=_amount(k["service_level"]),
        end_position=EndPosition(
            closing=_amount(end["closing"]),
            end_stock=_amount(end["end_stock"]),
            below_end_stock=_amount(end["below_end_stock"]),
            days_of_cover=_num(end["days_of_cover"]),
        ),
        reserved=_amount(k["reserved"]),
        expected_called=_amount(sum(probs[w] * q for w, q in called.items())),
        called_by_scenario=_amounts(called),
    )


def _shadow_records(table: pd.DataFrame | None) -> list[ShadowPrice]:
    """Shadow prices (period null on the horizon basis, a range without end null)."""
    if table is None or table.empty:
        return []
    out = []
    for r in table.itertuples(index=False):
        period = r.period
        out.append(
            ShadowPrice(
                constraint=str(r.constraint),
                material=str(r.material),
                subject=str(r.subject),
                period=None if period is None or pd.isna(period) else int(period),
                limit=_amount(r.limit),
                used=_amount(r.used),
                marginal=_amount(r.marginal),
                per_step=_amount(r.per_step),
                step=_amount(r.step),
                policy_path=str(r.policy_path),
                range_low=_num(r.range_low),
                range_high=_num(r.range_high),
                unit=str(r.unit),
            )
        )
    return out
