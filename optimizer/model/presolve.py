"""Policy infeasibility found before the solver (DESIGN §4, last paragraph).

The model is always feasible on demand (shortage is allowed at its cost); only
the policy can make it infeasible (`min_suppliers` above the suppliers that
offer a material), or leave a material that must be bought no admissible
supplier mix at all, so that the plan buys none of it. Both are found here,
per material (the mix with a small LP over shares), and reported with the
policy's field path so that the command line can name the file and line that
set it. Whether a plan that buys none matters is decided by the pipeline: it
does when the scenario without those caps would buy some (DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.model.parameters import Parameters

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyConflict:
    """A policy that leaves a material no feasible or no admissible plan.

    `hard`: no plan at all (min_suppliers above the suppliers that offer the
    material). Otherwise the policy only leaves a plan that buys none of the
    material, which matters only where the scenario without it would buy some.
    """

    material: str
    policy: str
    paths: tuple[PathKey, ...]
    message: str
    hard: bool = False


def policy_conflicts(p: Parameters) -> list[PolicyConflict]:
    """Every policy conflict, per material, found without calling a solver."""
    out: list[PolicyConflict] = []
    for mi, mid in enumerate(p.materials):
        out.extend(_min_suppliers(p, mi, mid))
        if _needs_purchases(p, mi):
            out.extend(_admissible_mix(p, mi, mid))
    return out


def _needs_purchases(p: Parameters, mi: int) -> bool:
    """Demand over the horizon exceeds the stock at hand plus what is already inbound."""
    return float(p.demand[mi].sum()) > float(p.initial[mi] + p.inbound[mi].sum()) + 1e-9


def _min_suppliers(p: Parameters, mi: int, mid: str) -> list[PolicyConflict]:
    policy = p.scenario.policy
    k = policy.min_suppliers
    if not k or p.demand[mi].sum() <= 0:
        return []
    offering = [p.offers[o][0] for o in p.offers_of(mi)]
    if k > len(offering):
        names = ", ".join(offering) or "none"
        return [
            PolicyConflict(
                mid,
                "min_suppliers",
                (("policy", "min_suppliers"),),
                f"min_suppliers is {k} but only {len(offering)} supplier(s) offer {mid} ({names})",
                hard=True,
            )
        ]
    share = policy.min_supplier_share
    if k * share > 1 + 1e-12 and _needs_purchases(p, mi):
        return [
            PolicyConflict(
                mid,
                "min_suppliers",
                (("policy", "min_suppliers"), ("policy", "min_supplier_share")),
                f"{k} suppliers each carrying at least {share:g} of {mid} is more than the "
                "whole volume; nothing could be bought",
            )
        ]
    return []


def _admissible_mix(p: Parameters, mi: int, mid: str) -> list[PolicyConflict]:
    """Can any mix of the suppliers able to deliver respect the share, exposure and risk caps?

    A small LP over the shares `f[o]` of the offers that can deliver (in some
    period on the horizon basis; on the period basis, the best period counts):
    `f <= max_share`, per country `sum f <= max_country_share`, per exposure
    `sum f <= max_country_exposure`; first the largest `sum f` (admissible when
    it reaches 1), then with `sum f = 1` the lowest average risk.
    """
    policy = p.scenario.policy
    deliverable: np.ndarray = p.deliverable()
    windows: list[np.ndarray] = (
        [np.asarray(deliverable.any(axis=1))]
        if policy.share_basis == "horizon"
        else [deliverable[:, t] for t in range(p.periods)]
    )
    offers_all = p.offers_of(mi)
    best_fill, best_risk, names = 0.0, float("inf"), ""
    for window in windows:
        offers = [int(o) for o in offers_all if window[o]]
        if not offers:
            continue
        fill, risk = _share_lp(p, offers)
        if fill > best_fill + 1e-12 or (fill >= best_fill - 1e-12 and risk < best_risk):
            best_fill, best_risk = max(fill, best_fill), min(risk, best_risk)
            names = ", ".join(p.offers[o][0] for o in offers)
    if not names:
        return []  # nothing can arrive: the plan is all shortage, which is feasible
    if best_fill < 1.0 - 1e-9:
        paths: list[PathKey] = [("policy", "max_supplier_share")]
        paths += [("policy", "max_country_share", c) for c in sorted(policy.max_country_share)]
        exposure = sorted(policy.max_country_exposure)
        paths += [("policy", "max_country_exposure", c) for c in exposure]
        return [
            PolicyConflict(
                mid,
                "max_supplier_share/max_country_share/max_country_exposure",
                tuple(paths),
                f"the supplier, country and exposure caps let at most {best_fill:.0%} of {mid} "
                f"be placed with the suppliers able to deliver it ({names}); no admissible mix",
            )
        ]
    limit = policy.max_average_risk
    if limit is not None and best_risk > limit + 1e-9:
        return [
            PolicyConflict(
                mid,
                "max_average_risk",
                (("policy", "max_average_risk"),),
                f"the lowest average risk any admissible mix of {mid} reaches is {best_risk:.3g}, "
                f"above max_average_risk {limit:g} (suppliers: {names})",
            )
        ]
    return []


def _share_lp(p: Parameters, offers: list[int]) -> tuple[float, float]:
    """Largest admissible total share of `offers`, and the lowest average risk of a full mix
    (inf when none), under the supplier, country and exposure caps."""
    policy = p.scenario.policy
    n = len(offers)
    sup = [int(p.offer_supplier[o]) for o in offers]
    upper = [1.0 if np.isnan(p.max_share[s]) else float(p.max_share[s]) for s in sup]
    groups: list[tuple[list[int], float]] = []
    for code, cap in sorted(policy.max_country_share.items()):
        groups.append(([i for i, s in enumerate(sup) if p.country[s] == code], float(cap)))
    for code, cap in sorted(policy.max_country_exposure.items()):
        members = [
            i for i, s in enumerate(sup) if p.country[s] == code or code in p.controlled_by[s]
        ]
        groups.append((members, float(cap)))
    groups = [(g, cap) for g, cap in groups if g and cap < 1.0]
    risk = [float(p.risk[s]) for s in sup]
    if not groups and sum(upper) >= 1.0 and all(u >= 1.0 for u in upper):
        return 1.0, min(risk)  # no cap binds: any one supplier can take the whole volume

    def run(cost: list[float], full: bool) -> float | None:
        return _small_lp(cost, upper, groups, full)

    most = run([-1.0] * n, False)
    fill = 0.0 if most is None else min(1.0, -most)
    if fill < 1.0 - 1e-9:
        return fill, float("inf")
    lowest = run(risk, True)
    return fill, float("inf") if lowest is None else lowest


def _small_lp(
    cost: list[float], upper: list[float], groups: list[tuple[list[int], float]], full: bool
) -> float | None:
    """min cost . f, 0 <= f <= upper, sum f over each group <= its cap (and sum f = 1 with
    `full`): a PuLP problem solved with HiGHS, or with CBC when HiGHS is not usable. None
    when it has no solution."""
    import pulp

    from optimizer.common.native import quiet_stdout

    prob = pulp.LpProblem("shares", pulp.LpMinimize)
    f = [prob.add_variable(f"f{i}", 0.0, u) for i, u in enumerate(upper)]
    prob += pulp.LpAffineExpression(zip(f, cost, strict=True))
    for k, (members, cap) in enumerate(groups):
        prob += pulp.LpConstraint(
            pulp.LpAffineExpression((f[i], 1.0) for i in members), pulp.LpConstraintLE, f"g{k}", cap
        )
    if full:
        prob += pulp.LpConstraint(
            pulp.LpAffineExpression((v, 1.0) for v in f), pulp.LpConstraintEQ, "full", 1.0
        )
    for solver in _small_solvers():
        try:
            with quiet_stdout(False):
                prob.solve(solver)
        except Exception:  # this solver is not usable here: the next one
            continue
        if pulp.LpStatus[prob.status] != "Optimal":
            return None
        return float(pulp.value(prob.objective) or 0.0)
    return None


def _small_solvers() -> list[object]:
    """PuLP's HiGHS (highspy), then CBC (cbcbox's build, else PuLP's own)."""
    import pulp

    out: list[object] = []
    try:
        if pulp.HiGHS(msg=False).available():
            out.append(pulp.HiGHS(msg=False))
    except Exception:  # a broken highspy
        pass
    try:
        import cbcbox

        out.append(pulp.COIN_CMD(path=str(cbcbox.cbc_bin_path()), msg=False))
    except Exception:
        out.append(pulp.PULP_CBC_CMD(msg=False))
    return out
