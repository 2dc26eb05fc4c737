"""The cost of each scenario and the objective of DESIGN §4 (F + expected cost + CVaR).
"""

from __future__ import annotations

import numpy as np

from optimizer.model.builder import GE, BuiltModel, ModelBuilder


def scenario_cost_terms(m: BuiltModel, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and coefficients of the cost of scenario w, C[w] of DESIGN §4, over the
    shipments that arrive within the horizon (t + k <= P):

    `C[w] = sum (g*l + delta*(d + N))*a*x + sum (l_ex + delta*(d + N))*o
    + sum (g*l*(1 + spot_premium) + delta*(d + N))*y + sum holding*inv + sum shortage_cost*short`.
    """
    p = m.params
    out = m.outcomes[w]
    delay = p.delay_cost_in(out)
    premium = 1.0 + p.scenario.spot_premium
    gl = out.price * p.landed
    delivered = p.delivered(out)
    parts = [
        (np.where(delivered, m.x, -1), (gl + delay) * out.avail),
        (m.o[w], p.exercise_landed + delay),
        (m.y[w], gl * premium + delay),
        (m.inv[w], np.broadcast_to(p.holding[:, None], m.inv[w].shape)),
        (m.short[w], np.broadcast_to(p.shortage_cost[:, None], m.short[w].shape)),
    ]
    cols = np.concatenate([c[c >= 0] for c, _ in parts])
    coefs = np.concatenate([k[c >= 0] for c, k in parts])
    return cols, coefs


def add_objective(b: ModelBuilder, m: BuiltModel, *, with_cvar: bool = True) -> None:
    """Objective: `F + sum_w p[w] * C[w]` (F, the plan's own cost, is already on its
    columns), plus with `cvar` (unless `with_cvar` is False):
    `cvar_weight * (eta + 1/(1 - cvar_alpha) * sum_w p[w] * u[w])`, `u[w] >= C[w] - eta`,
    `u[w] >= 0`."""
    objective = m.params.scenario.objective
    cvar = with_cvar and objective.risk_measure == "cvar"
    if cvar:
        m.eta = b.var("eta", None, None)
        b.cost[m.eta] += objective.cvar_weight
    for w, out in enumerate(m.outcomes):
        cols, coefs = scenario_cost_terms(m, w)
        b.add_cost(cols, out.probability * coefs)
        if cvar:
            j = b.var(f"cv_{w}", 0.0)
            m.cvar[w] = j
            weight = objective.cvar_weight * out.probability / (1.0 - objective.cvar_alpha)
            b.cost[j] += weight
            terms = [(j, 1.0), (m.eta, 1.0), *zip(cols.tolist(), (-coefs).tolist(), strict=True)]
            b.row(f"cvar_{w}", terms, GE, 0.0)
