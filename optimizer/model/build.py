"""Scenario parameters -> the model of DESIGN §4, and a fixed plan's replay (stress).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence

import numpy as np

from optimizer.model.builder import BuiltModel, Complement, ModelBuilder
from optimizer.model.first_stage import (
    add_average_risk,
    add_country_exposure,
    add_country_share,
    add_fixed_cost,
    add_fixed_plan,
    add_min_order,
    add_min_suppliers,
    add_plan_variables,
    add_reservations,
    add_supplier_share,
)
from optimizer.model.objective import add_objective
from optimizer.model.outcomes import Outcome
from optimizer.model.parameters import Parameters
from optimizer.model.pulp_problem import PulpForm
from optimizer.model.second_stage import (
    add_balance,
    add_calls,
    add_scenario_variables,
    add_spot_capacity,
    add_stock_before_shortage,
    add_targets,
)


def build_model(
    params: Parameters, name: str = "sourcing", *, complement: Complement = frozenset()
) -> BuiltModel:
    """Build the whole model of DESIGN §4 for the scenario's outcome set.

    `complement` lists the (material, period) pairs of w0 at which stock
    before shortage is imposed with a binary (`add_stock_before_shortage`).
    """
    enabled = gc.isenabled()
    gc.disable()  # many small objects: the collector only costs time here
    try:
        built = _build(params, params.outcomes, name, complement)
        # The model lives as long as its answer is read; moving its objects out of
        # the collector's reach avoids one full scan of them right after the build.
        gc.freeze()
        return built
    finally:
        if enabled:
            gc.enable()


def _build(
    params: Parameters, outcomes: Sequence[Outcome], name: str, complement: Complement
) -> BuiltModel:
    b = ModelBuilder(name)
    m = _empty_model(b, params, outcomes)
    add_plan_variables(b, m)
    add_reservations(b, m)
    _second_stage(b, m, complement)
    add_supplier_share(b, m)
    add_country_share(b, m)
    add_country_exposure(b, m)
    add_average_risk(b, m)
    add_min_order(b, m)
    add_fixed_cost(b, m)
    add_min_suppliers(b, m)
    add_objective(b, m)
    return _close(b, m)


def _second_stage(b: ModelBuilder, m: BuiltModel, complement: Complement) -> None:
    """Every scenario's recourse and balance, and the plan's own targets in w0."""
    for w in range(len(m.outcomes)):
        add_scenario_variables(b, m, w)
        add_spot_capacity(b, m, w)
        add_calls(b, m, w)
        add_balance(b, m, w)
    add_targets(b, m)
    add_stock_before_shortage(b, m, complement)


def build_replay(
    params: Parameters,
    x_plan: np.ndarray,
    r_plan: np.ndarray | None = None,
    name: str = "replay",
    *,
    complement: Complement = frozenset(),
) -> BuiltModel:
    """A fixed plan replayed under another scenario (DESIGN §5 `stress`).

    `x_plan` and `r_plan` (O, T) are the plan's arrivals and reservations on
    `params`' offers and periods. They stand only where the scenario lets them:
    `x_eff = min(x_plan, capacity)` for `t >= e[s]`, else 0, and
    `r_eff = min(r_plan, capacity - x_eff)` on offers with a reservation fee
    (`replay_arrivals`), as fixed columns (lower = upper). The second stage is
    that of §4 with spot buys and calls open in every scenario, w0 included; no
    policy rows (the plan is fixed, not chosen). Objective: F (the fixed cost of
    the suppliers the replayed plan orders from or reserves at, the fees, and
    the targets measured in this file's w0) plus `sum_w p[w] * C[w]`. Why no
    CVaR term: with the plan fixed the scenarios share no decision, so the
    recourse that minimises each C[w] minimises any tail too.
    """
    b = ModelBuilder(name)
    m = _empty_model(b, params, params.outcomes)
    m.spot_in_base = True
    x_eff, r_eff = replay_arrivals(params, x_plan, r_plan)
    add_fixed_plan(b, m, x_eff, r_eff)
    _second_stage(b, m, complement)
    add_objective(b, m, with_cvar=False)
    used = np.zeros(len(params.suppliers), dtype=bool)
    used[params.offer_supplier[(x_eff + r_eff).sum(axis=1) > 0]] = True
    fees = float((params.reservation_fee * r_eff).sum())
    return _close(b, m, constant=float(params.fixed_cost[used].sum()) + fees)


def replay_arrivals(
    params: Parameters, x_plan: np.ndarray, r_plan: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`x_eff = min(x_plan, capacity)` for `t >= e[s]`, else 0, and `r_eff =
    min(r_plan, capacity - x_eff)` where the offer takes reservations, else 0 (O, T)."""
    ok = params.deliverable()
    x_eff = np.where(ok, np.minimum(np.maximum(x_plan, 0.0), params.capacity), 0.0)
    if r_plan is None:
        return x_eff, np.zeros_like(x_eff)
    room = np.maximum(params.capacity - x_eff, 0.0)
    r_ok = ok & params.reservable[:, None]
    r_eff = np.where(r_ok, np.minimum(np.maximum(r_plan, 0.0), room), 0.0)
    return x_eff, r_eff


def _empty_model(b: ModelBuilder, params: Parameters, outcomes: Sequence[Outcome]) -> BuiltModel:
    """A model with no columns yet: every index array at -1."""
    n_o, n_t = params.capacity.shape
    n_m, n_s, n_w = len(params.materials), len(params.suppliers), len(outcomes)

    def none(*shape: int) -> np.ndarray:
        return np.full(shape, -1, dtype=np.int64)

    base = next((w for w, out in enumerate(outcomes) if out.is_base), 0)
    return BuiltModel(
        make_pulp=PulpForm,
        name=b.name,
        params=params,
        outcomes=tuple(outcomes),
        col_names=b.col_names,
        row_names=b.row_names,
        cost=np.zeros(0),
        x=none(n_o, n_t),
        r=none(n_o, n_t),
        y=none(n_w, n_o, n_t),
        o=none(n_w, n_o, n_t),
        inv=none(n_w, n_m, n_t),
        short=none(n_w, n_m, n_t),
        below=none(n_m, n_t),
        endshort=none(n_m),
        z=none(n_o, n_t),
        u=none(n_s),
        v=none(n_o),
        q=none(n_m, n_t),
        eta=-1,
        cvar=none(n_w),
        spot_row=none(n_w, n_o, n_t),
        cap_row=none(n_o, n_t),
        base=base,
    )


def _close(b: ModelBuilder, m: BuiltModel, constant: float = 0.0) -> BuiltModel:
    """Finish the model: the recorded matrix, with the objective's constant."""
    m.row_info = b.row_info
    m.matrix = b.recorded_matrix(offset=constant)
    m.cost = m.matrix.cost
    return m
