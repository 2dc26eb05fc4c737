"""How good is a plan out of sample? (`sourcing run --evaluate N [--seed S]`)

A plan solved on sampled outcomes (sample average approximation, DESIGN §4
`sampling`) is optimal for its sample, not for the risks. This module holds
the plan (x, r) fixed and prices it on N fresh outcomes of the file's
`risks`, drawn as §4 draws them (`numpy.random.default_rng(S).random((N, K))
< q`) with another seed S: each outcome's cost C[w] is the recourse of §4
there (spot buys and calls outside w0, stock, shortage), solved per material
like the subproblems of the scenario decomposition (`optimizer.app.benders`).
From the N costs it reports, with 95% confidence intervals (normal
approximation; for CVaR the asymptotic variance of the Rockafellar-Uryasev
estimator, the sample variance of `VaR + (C - VaR)+ / (1 - alpha)`):

- the expected cost F + E[C] (spend + penalties),
- the CVaR of F + C at the file's `cvar_alpha`,
- the objective of §4 (with `cvar`: F + E[C] + cvar_weight * CVaR(C)),

and the optimality gap of the sampled problem (Mak, Morton and Wood 1999):
a lower bound on the true optimum from M independent replications of the
sampled problem (each solved on its own draws of the file's N outcomes;
E[optimum of a sample] <= true optimum), and an upper bound from the
evaluation (the plan's true objective is at most the mean of
`F + C + cvar_weight * (eta + (C - eta)+ / (1 - alpha))` at the plan's own
eta, an unbiased estimate). gap = upper - lower, with a 95% upper confidence
bound.

With `disruptions`, enumerated `risks` or no risks at all, the file's
outcomes are the whole distribution: the evaluation is exact (intervals of
width 0) and there is no sampling gap.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from optimizer.app.benders_pool import pool_for
from optimizer.app.executor import Executor
from optimizer.model.benders_blocks import balance, base_index, chunk_specs, material_blocks
from optimizer.model.outcomes import build_outcomes
from optimizer.model.parameters import Parameters
from optimizer.results.plan import PLAN_KEYS, Plan
from optimizer.results.risk import cvar_of
from optimizer.schema.scenario import Sampling
from optimizer.schema.summary import Evaluation
from optimizer.solve.status import SolverOptions

Z95 = 1.959963984540054  # two-sided 95%
Z95_ONE_SIDED = 1.6448536269514722
# Student t quantiles for small numbers of replications (df = M - 1): 0.975 and 0.95.
T975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    15: 2.131,
    20: 2.086,
    30: 2.042,
}
T95 = {
    1: 6.314,
    2: 2.920,
    3: 2.353,
    4: 2.132,
    5: 2.015,
    6: 1.943,
    7: 1.895,
    8: 1.860,
    9: 1.833,
    10: 1.812,
    15: 1.753,
    20: 1.725,
    30: 1.697,
}
REPLICATIONS = 5
SEED_OFFSET = 1000  # default evaluation seed: the file's sampling seed + this


def _t(table: dict[int, float], df: int, z: float) -> float:
    if df <= 0:
        return math.inf
    if df in table:
        return table[df]
    below = [k for k in table if k < df]
    return table[max(below)] if df < 30 else z


def _interval(mean: float, stderr: float, q: float = Z95) -> dict[str, float]:
    return {
        "value": float(mean),
        "stderr": float(stderr),
        "ci95_low": float(mean - q * stderr),
        "ci95_high": float(mean + q * stderr),
    }


def _weighted_stats(values: np.ndarray, weights: np.ndarray, n: int) -> tuple[float, float]:
    """Mean and standard error of n draws given as distinct values with weights count/n."""
    mean = float(weights @ values)
    if n <= 1:
        return mean, 0.0
    var = float(weights @ (values - mean) ** 2) * n / (n - 1)
    return mean, math.sqrt(max(var, 0.0) / n)


def evaluation_outcomes(p: Parameters, n: int, seed: int) -> tuple[Parameters, str]:
    """The outcomes to price the plan on: N fresh draws of the file's risks with `seed`
    (merged where identical, probabilities count/N), or the file's own outcomes when
    they are the whole distribution ("exact")."""
    sc = p.scenario
    if not sc.risks or sc.sampling is None:
        return p, "exact"
    fresh = sc.model_copy(update={"sampling": Sampling(scenarios=n, seed=seed)})
    outcomes = build_outcomes(fresh, p.offers, p.periods)
    return dataclasses.replace(p, outcomes=tuple(outcomes)), "sampled"


def scenario_costs(p: Parameters, plan: Plan, executor: Executor | None = None) -> np.ndarray:
    """C[w] of the plan's x and r in every outcome of `p`: the recourse of §4 solved per
    material and distinct outcome (w0's cost is the plan's own, w0 being the same in
    every outcome set)."""
    x, r = _plan_arrays(p, plan)
    mats = material_blocks(p)
    pool = pool_for(executor)
    specs = chunk_specs(mats, pool.workers)
    costs = np.zeros(len(p.outcomes))
    base = base_index(p)
    try:
        pool.start(balance(specs, pool.workers))
        plans = {s.key: (x[mats[s.material].offers], r[mats[s.material].offers]) for s in specs}
        answers = {a.key: a for a in pool.solve(plans)}
    finally:
        pool.close()
    for mb in mats:
        phi = np.zeros(len(mb.blocks))
        pos = mb.position()
        for s in specs:
            if s.material == mb.material:
                phi[pos[list(s.ks)]] = answers[s.key].value
        where = pos[mb.outcome_of]
        costs += np.where(where >= 0, phi[np.maximum(where, 0)], 0.0)
    costs[base] = _base_cost(plan)
    return costs


def _plan_arrays(p: Parameters, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """The plan's x and r as (O, T) arrays on `p`'s offers."""
    index = {offer: o for o, offer in enumerate(p.offers)}
    x = np.zeros((len(p.offers), p.periods))
    r = np.zeros_like(x)
    for table, into in ((plan.orders, x), (plan.reservations, r)):
        if table is None or table.empty:
            continue
        for row in table.itertuples(index=False):
            into[index[(str(row.supplier), str(row.material))], int(row.period) - 1] += float(
                row.quantity
            )
    return x, r


def _plan_cost(plan: Plan) -> float:
    """F: the plan's own cost (reservations, fixed costs, targets in w0)."""
    return float(sum(plan.costs[k] for k in PLAN_KEYS))


def _base_cost(plan: Plan) -> float:
    """C[w0] of the plan (its scenario cost without F)."""
    rows = plan.scenarios
    base = next(i for i, o in enumerate(plan.params.outcomes) if o.is_base)
    return float(rows["cost"].iloc[base]) - _plan_cost(plan)


def evaluate_plan(
    plan: Plan,
    n: int,
    seed: int | None = None,
    *,
    options: SolverOptions | None = None,
    executor: Executor | None = None,
    replications: int = REPLICATIONS,
    decompose: str = "auto",
) -> Evaluation:
    """Price the plan out of sample and estimate the gap of the sampled problem (see the
    module's docstring). Returns the `evaluation` of summary.json."""
    p = plan.params
    sc = p.scenario
    if seed is None:
        seed = (sc.sampling.seed if sc.sampling is not None else 0) + SEED_OFFSET
    fresh, method = evaluation_outcomes(p, n, seed)
    costs = scenario_costs(fresh, plan, executor)
    probs = np.array([o.probability for o in fresh.outcomes])
    draws = n if method == "sampled" else 0
    F = _plan_cost(plan)
    objective = sc.objective
    alpha, weight = objective.cvar_alpha, objective.cvar_weight
    cvar_on = objective.risk_measure == "cvar"
    total = F + costs

    def stats(values: np.ndarray) -> tuple[float, float]:
        if method == "exact":
            return float(probs @ values), 0.0
        return _weighted_stats(values, probs, n)

    expected, se_expected = stats(total)
    tail = cvar_of(total, probs, alpha)
    var_c = tail["var"] - F
    influence = var_c + np.maximum(costs - var_c, 0.0) / (1.0 - alpha)
    _, se_cvar = stats(influence)
    doc: dict[str, Any] = {
        "method": method,
        "outcomes": int(draws) if method == "sampled" else len(fresh.outcomes),
        "distinct_outcomes": len(fresh.outcomes),
        "seed": int(seed) if method == "sampled" else None,
        "expected_cost": _interval(expected, se_expected),
        "cvar": {
            "alpha": alpha,
            **_interval(F + float(cvar_of(costs, probs, alpha)["cvar"]), se_cvar),
        },
    }
    if cvar_on:
        term = float(cvar_of(costs, probs, alpha)["cvar"])
        obj_values = costs + weight * influence
        _, se_obj = stats(obj_values)
        doc["objective"] = _interval(expected + weight * term, se_obj)
    else:
        doc["objective"] = dict(doc["expected_cost"])
    doc["in_sample_objective"] = float(plan.objective)
    if method == "sampled" and replications > 0:
        doc["saa"] = _saa_gap(
            plan, costs, probs, n, seed, options, executor, replications, decompose
        )
    else:
        doc["saa"] = None
    return Evaluation.model_validate(doc)


def _saa_gap(
    plan: Plan,
    costs: np.ndarray,
    probs: np.ndarray,
    n: int,
    seed: int,
    options: SolverOptions | None,
    executor: Executor | None,
    replications: int,
    decompose: str,
) -> dict[str, Any]:
    """Lower bound from `replications` independent sampled problems, upper bound from the
    evaluation at the plan's own eta, and the gap between them."""
    from optimizer.app.pipeline import run_scenario

    sc = plan.params.scenario
    assert sc.sampling is not None
    objective = sc.objective
    F = _plan_cost(plan)
    if objective.risk_measure == "cvar":
        eta = float((plan.cvar or {}).get("var", 0.0)) - F  # the plan's own VaR of C
        upper_values = (
            F
            + costs
            + objective.cvar_weight
            * (eta + np.maximum(costs - eta, 0.0) / (1.0 - objective.cvar_alpha))
        )
    else:
        upper_values = F + costs
    upper, se_upper = _weighted_stats(upper_values, probs, n)
    seeds = [seed + 1 + j for j in range(replications)]
    lows = []
    for s in seeds:
        variant = sc.model_copy(
            update={"sampling": Sampling(scenarios=sc.sampling.scenarios, seed=s)}
        )
        run = run_scenario(variant, options, decompose=decompose, executor=executor)
        lows.append(float(run.plan.objective))
    m = len(lows)
    lower = float(np.mean(lows))
    se_lower = float(np.std(lows, ddof=1) / math.sqrt(m)) if m > 1 else math.inf
    gap = upper - lower
    return {
        "replications": m,
        "replication_seeds": seeds,
        "replication_scenarios": sc.sampling.scenarios,
        "replication_objectives": lows,
        "lower_bound": _interval(lower, se_lower, _t(T975, m - 1, Z95)),
        "upper_bound": _interval(upper, se_upper),
        "gap": float(gap),
        "gap_relative": float(gap / max(1.0, abs(upper))),
        "gap_upper95": float(
            gap + Z95_ONE_SIDED * se_upper + _t(T95, m - 1, Z95_ONE_SIDED) * se_lower
        ),
    }
