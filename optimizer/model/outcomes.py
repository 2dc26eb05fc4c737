"""The scenario set w of DESIGN §4 with availability, price and delay per offer and period.

w0 plus one per disruption, or the joint outcomes of independent risks,
enumerated or sampled; w0 always, with probability 0 when sampling did not
draw it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from optimizer.schema.effects import effect_window, hits
from optimizer.schema.scenario import BASE_NAME, Effect, Scenario


@dataclass(frozen=True)
class Outcome:
    """One scenario w: its probability and where availability, prices or delays differ.

    `avail`, `price` and `delay` (extra days N) are arrays of shape (offers,
    periods), indexed by the period a shipment is due in; `spot` is False only
    for w0, the outcome in which nothing happens (no spot buys or calls there).
    """

    name: str
    probability: float
    events: tuple[str, ...]
    avail: np.ndarray
    price: np.ndarray
    spot: bool
    delay: np.ndarray | None = None  # None: no extra delay anywhere

    @property
    def is_base(self) -> bool:
        """True for w0, the outcome in which no disruption or event happens."""
        return not self.spot


def _apply(
    sc: Scenario,
    effects: list[Effect],
    offers: tuple[tuple[str, str], ...],
    avail: np.ndarray,
    price: np.ndarray,
    delay: np.ndarray,
) -> None:
    """Apply effects to the offers they hit, in their windows: availability and price
    factors multiply, extra delays add."""
    for eff in effects:
        window = effect_window(eff, sc.horizon)
        if window is None:
            continue
        first, last = window[0] - 1, window[1]
        for o, (s, m) in enumerate(offers):
            if not hits(sc, eff, s, m):
                continue
            avail[o, first:last] *= eff.availability
            price[o, first:last] *= eff.price_factor
            delay[o, first:last] += eff.delay_days


def build_outcomes(
    sc: Scenario, offers: tuple[tuple[str, str], ...], periods: int
) -> list[Outcome]:
    """The scenario set w of DESIGN §4, w0 first.

    - `disruptions`: w0 with 1 - sum(p), then one outcome per disruption;
    - `risks`: every joint outcome (subset of events, in file order), or with
      `sampling` N draws `rng.random((N, K)) < q` from `numpy.random.default_rng(seed)`,
      each 1/N likely; identical draws are merged (their probabilities add up),
      which is the same model. w0 is always part of the set: when no draw is
      the no-event outcome, it is added with probability 0 (the plan's own
      targets are measured there).
    """
    shape = (len(offers), periods)

    def outcome(name: str, p: float, events: tuple[str, ...], effects: list[Effect]) -> Outcome:
        avail, price, delay = np.ones(shape), np.ones(shape), np.zeros(shape)
        _apply(sc, effects, offers, avail, price, delay)
        late = delay if delay.any() else None
        return Outcome(name, p, events, avail, price, spot=bool(events), delay=late)

    if sc.disruptions:
        rest = max(0.0, 1.0 - math.fsum(d.probability for d in sc.disruptions))
        out = [outcome(BASE_NAME, rest, (), [])]
        out += [outcome(d.name, d.probability, (d.name,), list(d.effects)) for d in sc.disruptions]
        return out
    if not sc.risks:
        return [outcome(BASE_NAME, 1.0, (), [])]

    q = np.array([r.probability for r in sc.risks])
    if sc.sampling is None:
        draws = np.array(list(itertools.product([False, True], repeat=len(q))), dtype=bool)
        draws = draws[:, ::-1]  # first event varies fastest: order by bitmask
        probs = np.prod(np.where(draws, q, 1.0 - q), axis=1)
    else:
        rng = np.random.default_rng(sc.sampling.seed)
        raw = rng.random((sc.sampling.scenarios, len(q))) < q
        draws, counts = np.unique(raw, axis=0, return_counts=True)
        # Order outcomes by bitmask (event 1 = bit 0), as when enumerating.
        weights = (1 << np.arange(len(q))).astype(object)
        order = sorted(range(len(draws)), key=lambda i: sum(weights[draws[i]]))
        draws, counts = draws[order], counts[order]
        probs = counts / sc.sampling.scenarios
        if draws[0].any():  # w0 was not drawn: it joins with probability 0
            draws = np.vstack([np.zeros((1, len(q)), dtype=bool), draws])
            probs = np.concatenate([[0.0], probs])
    out = []
    for row, p in zip(draws, probs, strict=True):
        happened = [r for r, hit in zip(sc.risks, row, strict=True) if hit]
        names = tuple(r.name for r in happened)
        effects = [e for r in happened for e in r.effects]
        out.append(outcome("+".join(names) or BASE_NAME, float(p), names, effects))
    return out
