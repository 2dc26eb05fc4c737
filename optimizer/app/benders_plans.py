"""A plan priced by the recourse subproblems of the scenario decomposition: its exact
objective (an upper bound), the cuts it gives, and the whole solution at the best plan.

The value of block (m, k), `phi[m,k](x, r)`, is convex piecewise linear in the
plan, and the reduced costs of its fixed columns x and r are a subgradient: every
block whose estimate in the master is too low gets the optimality cut
`theta >= phi(x^) + g'(x - x^) + h'(r - r^)` (multi-cut). There are no feasibility
cuts: shortage is allowed at its cost, so every block is feasible for every plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from optimizer.app.benders_pool import Pool
from optimizer.model.benders_blocks import ChunkSpec, Cut, Master, MaterialBlocks
from optimizer.model.parameters import Parameters
from optimizer.model.solution import Solution, clean
from optimizer.results.risk import cvar_of
from optimizer.solve.benders_chunks import ChunkAnswer

IN_OUT = 0.5  # weight of the master's plan in the point the subproblems are asked about


@dataclass
class Bounds:
    """Where the loop stands."""

    lower: float = -math.inf
    upper: float = math.inf
    rounds: int = 0
    cuts: int = 0
    master_seconds: float = 0.0
    sub_seconds: float = 0.0
    history: list[tuple[float, float]] = field(default_factory=list)

    def gap(self) -> float:
        """Relative gap between the bounds."""
        if not math.isfinite(self.upper) or not math.isfinite(self.lower):
            return math.inf
        return max(0.0, self.upper - self.lower) / max(1.0, abs(self.upper))


@dataclass
class Evaluated:
    """A plan the subproblems have priced: its master values and every block's value."""

    values: np.ndarray  # master column values
    phi: list[np.ndarray]  # per material, per block
    upper: float  # its exact objective (F + expected cost + CVaR term)
    x: np.ndarray  # the plan (O, T) the subproblems were asked about
    r: np.ndarray


def plan_shares(
    master: Master, mats: list[MaterialBlocks], specs: list[ChunkSpec], values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """The plan (x, r) in the master's values, and each chunk's share of it."""
    built = master.built
    x = clean(built.value(built.x, values))
    r = clean(built.value(built.r, values))
    x = np.maximum(x, 0.0)
    r = np.maximum(r, 0.0)
    plans = {}
    for spec in specs:
        offers = mats[spec.material].offers
        plans[spec.key] = (x[offers], r[offers])
    return x, r, plans


def block_values(
    mats: list[MaterialBlocks], specs: list[ChunkSpec], answers: list[ChunkAnswer]
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Block values and subgradients per material, in the order of its blocks."""
    by_key = {s.key: s for s in specs}
    pos = [mb.position() for mb in mats]
    phi = [np.zeros(len(mb.blocks)) for mb in mats]
    nx = [int(mb.params.deliverable().sum()) for mb in mats]
    nr = [int((mb.params.deliverable() & mb.params.reservable[:, None]).sum()) for mb in mats]
    gx = [np.zeros((len(mb.blocks), n)) for mb, n in zip(mats, nx, strict=True)]
    gr = [np.zeros((len(mb.blocks), n)) for mb, n in zip(mats, nr, strict=True)]
    for a in answers:
        spec = by_key[a.key]
        i = spec.material
        rows = pos[i][list(spec.ks)]
        phi[i][rows] = a.value
        gx[i][rows] = a.gx
        gr[i][rows] = a.gr
    return phi, gx, gr


def scenario_costs(
    p: Parameters, mats: list[MaterialBlocks], phi: list[np.ndarray], base_cost: float
) -> np.ndarray:
    """C[w] of every scenario: w0's from the master, the others' as sums of their blocks."""
    base = next(w for w, out in enumerate(p.outcomes) if out.is_base)
    costs = np.zeros(len(p.outcomes))
    for mb, values in zip(mats, phi, strict=True):
        pos = mb.position()[mb.outcome_of]
        costs += np.where(pos >= 0, values[np.maximum(pos, 0)], 0.0)
    costs[base] = base_cost
    return costs


def exact_objective(
    p: Parameters,
    master: Master,
    mats: list[MaterialBlocks],
    values: np.ndarray,
    phi: list[np.ndarray],
) -> float:
    """The exact objective of the plan in `values`: F + p0 C[w0] from the master,
    expected recourse from the blocks, and the CVaR term of the exact C[w]."""
    cost = master.built.cost
    keep = np.ones(len(cost), dtype=bool)
    keep[master.recourse_cols] = False
    first = float(cost[keep] @ values[keep])
    expected = sum(float(mb.probability @ v) for mb, v in zip(mats, phi, strict=True))
    objective = p.scenario.objective
    if objective.risk_measure != "cvar":
        return first + expected
    cols, coefs = master.base_cost
    base_cost = float(coefs @ values[cols])
    costs = scenario_costs(p, mats, phi, base_cost)
    probs = np.array([o.probability for o in p.outcomes])
    tail = cvar_of(costs, probs, objective.cvar_alpha)["cvar"]
    return first + expected + objective.cvar_weight * tail


def start_vector(
    p: Parameters, master: Master, mats: list[MaterialBlocks], best: Evaluated
) -> np.ndarray:
    """The best plan as a feasible point of the master: estimates at their exact values,
    eta at the VaR and cv at the excess of each scenario (a start for the MILP)."""
    v = best.values.copy()
    for cols, values in zip(master.theta, best.phi, strict=True):
        v[cols] = values
    if master.eta >= 0:
        cols, coefs = master.base_cost
        costs = scenario_costs(p, mats, best.phi, float(coefs @ v[cols]))
        probs = np.array([o.probability for o in p.outcomes])
        var = cvar_of(costs, probs, p.scenario.objective.cvar_alpha)["var"]
        v[master.eta] = var
        v[master.cv] = np.maximum(costs[master.cv_scenario] - var, 0.0)
    return v


def blend(values: np.ndarray, center: np.ndarray) -> np.ndarray:
    """The point between the master's solution and the stability center."""
    return IN_OUT * values + (1.0 - IN_OUT) * center


def price_plan(
    p: Parameters,
    master: Master,
    mats: list[MaterialBlocks],
    specs: list[ChunkSpec],
    pool: Pool,
    point: np.ndarray,
) -> tuple[Evaluated, list[np.ndarray], list[np.ndarray]]:
    """Ask the subproblems about the plan in a master point: its exact objective, every
    block's value and subgradients."""
    x, r, plans = plan_shares(master, mats, specs, point)
    answers = pool.solve(plans)
    phi, gx, gr = block_values(mats, specs, answers)
    upper = exact_objective(p, master, mats, point, phi)
    return Evaluated(point, phi, upper, x, r), gx, gr


CUT_TOLERANCE = 1e-9  # relative: a block whose estimate is this close needs no cut


def new_cuts(
    master: Master,
    mats: list[MaterialBlocks],
    values: np.ndarray,
    evaluated: Evaluated,
    gx: list[np.ndarray],
    gr: list[np.ndarray],
) -> list[Cut]:
    """The cut of every block at the evaluated plan, where it cuts off the master's point
    (`values`): `theta >= phi(x^) + g'(x - x^) + h'(r - r^)` above the master's estimate."""
    built = master.built
    x_m = np.maximum(clean(built.value(built.x, values)), 0.0)
    r_m = np.maximum(clean(built.value(built.r, values)), 0.0)
    fresh = []
    for i, mb in enumerate(mats):
        if not mb.blocks:
            continue
        ok = mb.params.deliverable()
        r_ok = ok & mb.params.reservable[:, None]
        xv, rv = evaluated.x[mb.offers][ok], evaluated.r[mb.offers][r_ok]
        const = evaluated.phi[i] - gx[i] @ xv - gr[i] @ rv
        at_master = const + gx[i] @ x_m[mb.offers][ok] + gr[i] @ r_m[mb.offers][r_ok]
        theta = values[master.theta[i]]
        scale = np.maximum(1.0, np.abs(evaluated.phi[i]))
        for j in np.flatnonzero(at_master - theta > CUT_TOLERANCE * scale).tolist():
            fresh.append(Cut(i, j, float(const[j]), gx[i][j].copy(), gr[i][j].copy()))
    return fresh


def assemble_solution(
    p: Parameters,
    master: Master,
    mats: list[MaterialBlocks],
    specs: list[ChunkSpec],
    pool: Pool,
    best: Evaluated,
) -> Solution:
    """The whole solution at the best plan: the plan and w0 from the master, every other
    scenario's recourse from its blocks (solved again at that plan)."""
    built = master.built
    values = best.values
    x, r, plans = plan_shares(master, mats, specs, values)
    pool.solve(plans)  # the chunks keep the recourse of their last solve
    parts = pool.solution()
    n_w, n_m, n_t = len(p.outcomes), len(p.materials), p.periods
    base = next(w for w, out in enumerate(p.outcomes) if out.is_base)
    y = np.zeros((n_w, len(p.offers), n_t))
    calls = np.zeros_like(y)
    inv = np.zeros((n_w, n_m, n_t))
    short = np.zeros_like(inv)
    inv[base] = clean(built.value(built.inv[0], values))
    short[base] = clean(built.value(built.short[0], values))
    others = np.array([w for w in range(n_w) if w != base], dtype=np.int64)
    for i, mb in enumerate(mats):
        n_o = len(mb.offers)
        ys = np.zeros((len(mb.blocks), n_o, n_t))
        os_ = np.zeros_like(ys)
        invs = np.zeros((len(mb.blocks), n_t))
        shorts = np.zeros_like(invs)
        pos = mb.position()
        for spec in specs:
            if spec.material != i:
                continue
            rows = pos[list(spec.ks)]
            ys[rows], os_[rows], invs[rows], shorts[rows] = parts[spec.key]
        if not others.size or not mb.blocks:
            continue
        where = pos[mb.outcome_of[others]]
        y[np.ix_(others, mb.offers)] = ys[where]
        calls[np.ix_(others, mb.offers)] = os_[where]
        inv[others, mb.material] = invs[where]
        short[others, mb.material] = shorts[where]
    return Solution(p, p.outcomes, x, clean(y), inv, short, r, clean(calls))
