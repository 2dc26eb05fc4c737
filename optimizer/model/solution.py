"""Solved values on the scenario's index sets, and what arrives when.

A `Solution` holds x, r (plan), y, o (recourse), inv and short per scenario,
mapped from the solver's columns (`solution_of`). `stock_first` puts a
scenario's trajectory in stock-first form (never costlier outside w0);
`arrivals` and `held_back` say what arrives in each period once delays shift
it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from optimizer.model.builder import BuiltModel
from optimizer.model.outcomes import Outcome
from optimizer.model.parameters import Parameters

ZERO = 1e-9


def clean(a: np.ndarray) -> np.ndarray:
    """Values within 1e-9 of zero become 0 (and -0.0 becomes 0.0)."""
    a = np.asarray(a, dtype=float)
    return np.where(np.abs(a) < ZERO, 0.0, a) + 0.0


@dataclass
class Solution:
    """Solved values as arrays over the scenario's index sets (not the solver's columns).

    x, r (O, T): planned arrivals and reservations; y, o (W, O, T): spot buys and
    calls; inv, short (W, M, T).
    """

    params: Parameters
    outcomes: tuple[Outcome, ...]
    x: np.ndarray
    y: np.ndarray
    inv: np.ndarray
    short: np.ndarray
    r: np.ndarray | None = None
    o: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.r is None:
            self.r = np.zeros_like(self.x)
        if self.o is None:
            self.o = np.zeros_like(self.y)

    @property
    def base(self) -> int:
        """Index of w0 in `outcomes`."""
        return next((w for w, out in enumerate(self.outcomes) if out.is_base), 0)


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
        r=clean(built.value(built.r, vals)),
        o=clean(built.value(built.o, vals)),
    )


def arrivals(p: Parameters, out: Outcome, volume: np.ndarray) -> np.ndarray:
    """What arrives per material and period in scenario `out` of shipments `volume` (O, T)
    due in each period: shifted by k, those past the horizon dropped (M, T)."""
    n_t = p.periods
    shift = p.shift(out)
    arrive = np.arange(n_t)[None, :] + shift
    ok = (arrive < n_t) & (volume != 0)
    into = np.zeros((len(p.materials), n_t))
    o_idx, t_idx = np.nonzero(ok)
    np.add.at(into, (p.offer_material[o_idx], arrive[o_idx, t_idx]), volume[o_idx, t_idx])
    return into


def held_back(p: Parameters, out: Outcome, volume: np.ndarray) -> np.ndarray:
    """Volume due in each period that a delay of scenario `out` moves later (M, T)."""
    late = np.where(p.shift(out) > 0, volume, 0.0)
    into = np.zeros((len(p.materials), p.periods))
    np.add.at(into, p.offer_material, late)
    return into


def stock_first(sol: Solution, scenarios: list[int] | None = None) -> Solution:
    """Use stock before leaving demand unmet, in the given scenarios (default all but w0).

    Given what arrives, the stock-first trajectory `inv = max(0, inv[t-1] + inbound + A
    - demand)`, `short = max(0, demand - inv[t-1] - inbound - A)` holds no more stock and
    leaves no more demand unmet, in total up to any period, than any other: it never costs
    more in a scenario, where nothing rewards stock (DESIGN §4 "Stock before shortage").
    """
    p = sol.params
    inv, short = sol.inv.copy(), sol.short.copy()
    chosen = scenarios if scenarios is not None else [
        w for w in range(len(sol.outcomes)) if w != sol.base
    ]
    for w in chosen:
        out = sol.outcomes[w]
        assert sol.o is not None
        came = arrivals(p, out, out.avail * sol.x + sol.o[w] + sol.y[w]) + p.inbound
        level = p.initial.copy()
        for t in range(p.periods):
            net = level + came[:, t] - p.demand[:, t]
            inv[w, :, t] = np.maximum(net, 0.0)
            short[w, :, t] = np.maximum(-net, 0.0)
            level = inv[w, :, t]
    return dataclasses.replace(sol, inv=clean(inv), short=clean(short))


def broken_stock_first(sol: Solution, w: int) -> list[tuple[int, int]]:
    """(material, period index) pairs of scenario w with shortage while stock is left."""
    bad = (sol.short[w] > ZERO) & (sol.inv[w] > ZERO)
    return [(int(m), int(t)) for m, t in zip(*np.nonzero(bad), strict=True)]
