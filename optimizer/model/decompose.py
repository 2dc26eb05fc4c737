"""Exact decomposition of the model by material, and merging of identical scenarios.

The model of DESIGN §4 couples materials only through

- a supplier's fixed cost `u[s]`, shared by the materials it offers (planned
  or reserved: `x + r <= capacity * u`), and
- the CVaR term, which takes the cost of a scenario over all materials;

every other row (capacity, reservations and calls, balance, the plan's own
targets in w0, stock before shortage, share, exposure and risk caps, min
order, min suppliers) belongs to one material. So the materials fall into
groups (the connected parts of "offered by the same fixed-cost supplier", or
one group with CVaR), and the optimum is the sum of the groups' optima, each
solved on its own.

Inside a group, two scenarios whose availability, price factors and delays agree
on every offer of the group (and that both allow, or both forbid, spot buys) have
the same recourse problem: they are merged into one with the sum of their
probabilities. With sampled risks most events touch only a few materials, so
a thousand drawn scenarios often leave a few dozen per group.

Both steps are exact rewritings of the same LP, not approximations: the plan
is put back together on the full scenario set and checked as a whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from optimizer.model.outcomes import Outcome
from optimizer.model.parameters import Parameters
from optimizer.model.solution import Solution


@dataclass(frozen=True)
class Part:
    """One group of materials, with its offers and merged scenarios."""

    materials: np.ndarray  # material indices in the full parameters
    offers: np.ndarray  # offer indices in the full parameters
    outcome_of: np.ndarray  # (W,) merged outcome of each full outcome
    params: Parameters  # the group alone, outcomes merged

    @property
    def size(self) -> int:
        """A rough size (offers x periods x scenarios), to schedule big parts first."""
        p = self.params
        return max(1, len(p.offers)) * p.periods * len(p.outcomes)


def material_groups(p: Parameters) -> list[list[int]]:
    """Materials the model couples, as sorted groups of material indices."""
    n = len(p.materials)
    if p.scenario.objective.risk_measure == "cvar":
        return [list(range(n))]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    deliverable: np.ndarray = np.asarray(p.deliverable().any(axis=1))
    for s in range(len(p.suppliers)):
        if p.fixed_cost[s] <= 0:
            continue
        mats = sorted(
            {
                int(p.offer_material[o])
                for o in np.flatnonzero(p.offer_supplier == s)
                if deliverable[o]
            }
        )
        for other in mats[1:]:
            parent[find(other)] = find(mats[0])
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def merge_outcomes(
    outcomes: tuple[Outcome, ...], offers: np.ndarray
) -> tuple[tuple[Outcome, ...], np.ndarray]:
    """Merge outcomes identical on `offers`; returns the merged outcomes and the mapping."""
    index: dict[tuple[bool, bytes, bytes, bytes], int] = {}
    merged: list[Outcome] = []
    mapping = np.empty(len(outcomes), dtype=np.int64)
    for w, out in enumerate(outcomes):
        avail = np.ascontiguousarray(out.avail[offers])
        price = np.ascontiguousarray(out.price[offers])
        delay = None if out.delay is None else np.ascontiguousarray(out.delay[offers])
        if delay is not None and not delay.any():
            delay = None
        late = b"" if delay is None else delay.tobytes()
        key = (out.spot, avail.tobytes(), price.tobytes(), late)
        k = index.get(key)
        if k is None:
            k = index[key] = len(merged)
            merged.append(dataclasses.replace(out, avail=avail, price=price, delay=delay))
        else:
            first = merged[k]
            merged[k] = dataclasses.replace(first, probability=first.probability + out.probability)
        mapping[w] = k
    return tuple(merged), mapping


def restrict(p: Parameters, materials: list[int]) -> Part:
    """The parameters of a group of materials alone, with merged outcomes."""
    mats = np.asarray(materials, dtype=np.int64)
    new_index = np.full(len(p.materials), -1, dtype=np.int64)
    new_index[mats] = np.arange(len(mats))
    offers = np.flatnonzero(np.isin(p.offer_material, mats))
    outcomes, mapping = merge_outcomes(p.outcomes, offers)
    sub = dataclasses.replace(
        p,
        materials=tuple(p.materials[i] for i in mats),
        offers=tuple(p.offers[o] for o in offers),
        offer_supplier=p.offer_supplier[offers],
        offer_material=new_index[p.offer_material[offers]],
        demand=p.demand[mats],
        inbound=p.inbound[mats],
        initial=p.initial[mats],
        holding=p.holding[mats],
        shortage_cost=p.shortage_cost[mats],
        safety_stock=p.safety_stock[mats],
        safety_penalty=p.safety_penalty[mats],
        end_stock=p.end_stock[mats],
        end_penalty=p.end_penalty[mats],
        price=p.price[offers],
        capacity=p.capacity[offers],
        min_order=p.min_order[offers],
        landed=p.landed[offers],
        reservable=p.reservable[offers],
        reservation_fee=p.reservation_fee[offers],
        exercise_landed=p.exercise_landed[offers],
        outcomes=outcomes,
    )
    return Part(mats, offers, mapping, sub)


def split(p: Parameters) -> list[Part]:
    """The model's independent parts, largest first."""
    parts = [restrict(p, group) for group in material_groups(p)]
    return sorted(parts, key=lambda part: -part.size)


def worthwhile(p: Parameters, parts: list[Part]) -> bool:
    """Decomposing pays when it splits the model or merges scenarios."""
    merged = sum(len(part.params.outcomes) for part in parts)
    return len(parts) > 1 or merged < len(p.outcomes)


def assemble(p: Parameters, parts: list[Part], solutions: list[Solution]) -> Solution:
    """Put the parts' solutions back together on the full index sets and scenario set."""
    n_w, n_o, n_m, n_t = len(p.outcomes), len(p.offers), len(p.materials), p.periods
    x, r = np.zeros((n_o, n_t)), np.zeros((n_o, n_t))
    y, calls = np.zeros((n_w, n_o, n_t)), np.zeros((n_w, n_o, n_t))
    inv = np.zeros((n_w, n_m, n_t))
    short = np.zeros((n_w, n_m, n_t))
    for part, sol in zip(parts, solutions, strict=True):
        w = part.outcome_of
        x[part.offers] = sol.x
        y[:, part.offers] = sol.y[w]
        inv[:, part.materials] = sol.inv[w]
        short[:, part.materials] = sol.short[w]
        if sol.r is not None:
            r[part.offers] = sol.r
        if sol.o is not None:
            calls[:, part.offers] = sol.o[w]
    return Solution(p, p.outcomes, x, y, inv, short, r, calls)
