"""Policy infeasibility found before the solver (DESIGN §4, last paragraph).

The model is always feasible on demand (shortage is allowed at its cost); only
the policy can make it infeasible, or leave a material that must be bought no
admissible supplier mix at all. Both are found here with arithmetic, per
material, and reported with the policy's field path so that the command line
can name the file and line that set it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.parameters import Parameters

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyConflict:
    """A policy that leaves a material no feasible or no admissible plan."""

    material: str
    policy: str
    paths: tuple[PathKey, ...]
    message: str


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
    """Can any mix of the suppliers able to deliver respect the share and risk caps?

    The caps form a laminar family (suppliers within countries), so filling the
    lowest-risk suppliers first, each up to its own cap and what its country
    has left, reaches both the largest admissible share and, for a full
    volume, the lowest average risk.
    """
    policy = p.scenario.policy
    deliverable = p.deliverable()
    offers = [int(o) for o in p.offers_of(mi) if deliverable[o].any()]
    if not offers:
        return []  # nothing can arrive: the plan is all shortage, which is feasible
    country_left = {code: float(cap) for code, cap in policy.max_country_share.items()}
    order = sorted(offers, key=lambda o: (p.risk[p.offer_supplier[o]], p.offers[o][0]))
    filled = 0.0
    risk = 0.0
    for o in order:
        s = int(p.offer_supplier[o])
        cap = 1.0 if np.isnan(p.max_share[s]) else float(p.max_share[s])
        code = p.country[s]
        take = min(cap, country_left.get(code, 1.0), 1.0 - filled)
        if take <= 0:
            continue
        filled += take
        risk += take * float(p.risk[s])
        if code in country_left:
            country_left[code] -= take
        if filled >= 1.0 - 1e-12:
            break
    names = ", ".join(p.offers[o][0] for o in order)
    if filled < 1.0 - 1e-9:
        paths: list[PathKey] = [("policy", "max_supplier_share")]
        paths += [("policy", "max_country_share", c) for c in sorted(policy.max_country_share)]
        return [
            PolicyConflict(
                mid,
                "max_supplier_share/max_country_share",
                tuple(paths),
                f"the supplier and country share caps let at most {filled:.0%} of {mid} be "
                f"placed with the suppliers able to deliver it ({names}); no admissible mix",
            )
        ]
    limit = policy.max_average_risk
    if limit is not None and risk > limit + 1e-9:
        return [
            PolicyConflict(
                mid,
                "max_average_risk",
                (("policy", "max_average_risk"),),
                f"the lowest average risk any admissible mix of {mid} reaches is {risk:.3g}, "
                f"above max_average_risk {limit:g} (suppliers: {names})",
            )
        ]
    return []
