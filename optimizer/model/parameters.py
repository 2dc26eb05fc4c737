"""Scenario -> the index sets and derived parameters of DESIGN §4.

Everything here is plain arithmetic on a validated `Scenario`, with entities
sorted by id so that the model (and its answer) does not depend on the order
in which the file lists them:

- landed cost `l[s,m,t] = price * (1 + tariff) + freight`, and for reserved
  capacity called `l_ex = exercise_price * (1 + tariff) + freight`
- delay days `d[s] = lead_time_days + license_delay_days`
- earliest arrival period `e[s] = floor((qualification_days + d[s]) / period_days) + 1`
- safety stock `ss[m,t]` (units, or days of cover * demand[t] / period_days) and
  end stock `E[m]` (default ss[m,P])
- per scenario (`optimizer.model.outcomes`) the shift
  `k = floor((d + N) / D) - floor(d / D)` periods of a shipment due in t.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from optimizer.model.outcomes import Outcome, build_outcomes
from optimizer.schema.scenario import Scenario, per_period


@dataclass(frozen=True)
class Parameters:
    """Sorted index sets and derived arrays of a scenario (DESIGN §4).

    Offers are the (supplier, material) pairs, sorted by supplier then
    material; arrays indexed by offer have the offer index first. Periods are
    0-based in arrays (period t of §4 is column t-1).
    """

    scenario: Scenario
    materials: tuple[str, ...]
    suppliers: tuple[str, ...]
    offers: tuple[tuple[str, str], ...]
    offer_supplier: np.ndarray  # (O,) supplier index of each offer
    offer_material: np.ndarray  # (O,) material index of each offer
    periods: int
    period_days: float
    demand: np.ndarray  # (M, T)
    inbound: np.ndarray  # (M, T)
    initial: np.ndarray  # (M,)
    holding: np.ndarray  # (M,)
    shortage_cost: np.ndarray  # (M,)
    safety_stock: np.ndarray  # (M, T) ss[m,t]
    safety_penalty: np.ndarray  # (M,)
    end_stock: np.ndarray  # (M,) E[m]
    end_penalty: np.ndarray  # (M,)
    price: np.ndarray  # (O, T)
    capacity: np.ndarray  # (O, T)
    min_order: np.ndarray  # (O,)
    landed: np.ndarray  # (O, T) price * (1 + tariff) + freight
    reservable: np.ndarray  # (O,) True where the offer has a reservation_fee
    reservation_fee: np.ndarray  # (O, T), 0 where not reservable
    exercise_landed: np.ndarray  # (O, T) exercise_price * (1 + tariff) + freight
    delay_days: np.ndarray  # (S,) lead time + licence delay
    earliest: np.ndarray  # (S,) first period (1-based) anything can arrive
    risk: np.ndarray  # (S,)
    tariff: np.ndarray  # (S,)
    freight: np.ndarray  # (S,)
    fixed_cost: np.ndarray  # (S,)
    max_share: np.ndarray  # (S,) single-source cap, nan when none
    country: tuple[str, ...]  # (S,) country code per supplier
    controlled_by: tuple[frozenset[str], ...]  # (S,) countries whose controls reach it
    outcomes: tuple[Outcome, ...]

    @property
    def delay_cost(self) -> np.ndarray:
        """Delay penalty per unit of each offer: delay_cost_per_day * d[s] (O,)."""
        per_day = self.scenario.policy.delay_cost_per_day
        return per_day * self.delay_days[self.offer_supplier]

    def shift(self, out: Outcome) -> np.ndarray:
        """`k[s,m,t,w] = floor((d + N) / D) - floor(d / D)`: periods a shipment due in t
        arrives late in scenario w (O, T), int."""
        if out.delay is None:
            return np.zeros(self.capacity.shape, dtype=np.int64)
        d = self.delay_days[self.offer_supplier][:, None]
        late = np.floor((d + out.delay) / self.period_days) - np.floor(d / self.period_days)
        return late.astype(np.int64)

    def delivered(self, out: Outcome) -> np.ndarray:
        """(O, T) True where a shipment due in t arrives within the horizon in w (t + k <= P)."""
        t = np.arange(self.periods)[None, :]
        return t + self.shift(out) < self.periods

    def delay_cost_in(self, out: Outcome) -> np.ndarray:
        """Delay penalty per delivered unit in w: delay_cost_per_day * (d[s] + N) (O, T)."""
        per_day = self.scenario.policy.delay_cost_per_day
        days = self.delay_days[self.offer_supplier][:, None] + (
            0.0 if out.delay is None else out.delay
        )
        return per_day * np.broadcast_to(days, self.capacity.shape)

    def deliverable(self) -> np.ndarray:
        """(O, T) True where planned arrivals may exist: t >= e[s] and capacity > 0."""
        t = np.arange(1, self.periods + 1)
        early = t[None, :] >= self.earliest[self.offer_supplier][:, None]
        return early & (self.capacity > 0)

    def offers_of(self, material: int) -> np.ndarray:
        """Offer indices of one material."""
        return np.flatnonzero(self.offer_material == material)


def build_parameters(sc: Scenario) -> Parameters:
    """Derive the sorted index sets and arrays of DESIGN §4 from a scenario."""
    periods = sc.horizon.periods
    materials = tuple(sorted(sc.materials))
    suppliers = tuple(sorted(sc.suppliers))
    mat_index = {m: i for i, m in enumerate(materials)}
    sup_index = {s: i for i, s in enumerate(suppliers)}
    offers = tuple((s, m) for s in suppliers for m in sorted(sc.suppliers[s].offers))

    def by_material(attr: str) -> np.ndarray:
        return np.array([float(getattr(sc.materials[m], attr)) for m in materials])

    demand = np.array([per_period(sc.materials[m].demand, periods) for m in materials])
    inbound = np.zeros((len(materials), periods))
    for i, m in enumerate(materials):
        arrivals = sc.materials[m].inbound
        inbound[i, : len(arrivals)] = arrivals
    price = np.array([per_period(sc.suppliers[s].offers[m].price, periods) for s, m in offers])
    capacity = np.array(
        [per_period(sc.suppliers[s].offers[m].capacity, periods) for s, m in offers]
    )
    offer_supplier = np.array([sup_index[s] for s, _ in offers], dtype=np.int64)
    offer_material = np.array([mat_index[m] for _, m in offers], dtype=np.int64)
    tariff = np.array([sc.supplier_tariff(s) for s in suppliers])
    freight = np.array([float(sc.suppliers[s].freight) for s in suppliers])
    delay_days = np.array(
        [
            float(sc.suppliers[s].lead_time_days) + float(sc.suppliers[s].license_delay_days)
            for s in suppliers
        ]
    )
    qualification = np.array([float(sc.suppliers[s].qualification_days) for s in suppliers])
    days = sc.horizon.period_days
    earliest = np.floor((qualification + delay_days) / days).astype(np.int64) + 1
    markup = (1.0 + tariff[offer_supplier])[:, None]
    landed = price * markup + freight[offer_supplier][:, None]
    reservable = np.array(
        [sc.suppliers[s].offers[m].reservation_fee is not None for s, m in offers], dtype=bool
    )
    fee = np.zeros((len(offers), periods))
    exercise = price.reshape(len(offers), periods).copy()
    for o, (s, m) in enumerate(offers):
        offer = sc.suppliers[s].offers[m]
        if offer.reservation_fee is not None:
            fee[o] = per_period(offer.reservation_fee, periods)
        if offer.exercise_price is not None:
            exercise[o] = per_period(offer.exercise_price, periods)
    exercise_landed = exercise * markup + freight[offer_supplier][:, None]
    safety = np.zeros((len(materials), periods))
    for i, m in enumerate(materials):
        mat = sc.materials[m]
        if mat.safety_stock_days is not None:
            safety[i] = mat.safety_stock_days * demand[i] / days
        elif mat.safety_stock is not None:
            safety[i] = mat.safety_stock
    end_stock = np.array(
        [
            safety[i, -1] if sc.materials[m].end_stock is None else sc.materials[m].end_stock
            for i, m in enumerate(materials)
        ],
        dtype=float,
    )
    max_share = np.array(
        [np.nan if (v := sc.supplier_max_share(s)) is None else v for s in suppliers]
    )
    shape = (len(offers), periods)
    return Parameters(
        scenario=sc,
        materials=materials,
        suppliers=suppliers,
        offers=offers,
        offer_supplier=offer_supplier,
        offer_material=offer_material,
        periods=periods,
        period_days=float(sc.horizon.period_days),
        demand=demand.reshape(len(materials), periods),
        inbound=inbound,
        initial=by_material("initial_inventory"),
        holding=by_material("holding_cost"),
        shortage_cost=by_material("shortage_cost"),
        safety_stock=safety,
        safety_penalty=np.array([sc.materials[m].penalty_below_safety_stock for m in materials]),
        end_stock=end_stock,
        end_penalty=np.array([sc.materials[m].penalty_below_end_stock for m in materials]),
        price=price.reshape(shape),
        capacity=capacity.reshape(shape),
        min_order=np.array([float(sc.suppliers[s].offers[m].min_order) for s, m in offers]),
        landed=landed.reshape(shape),
        reservable=reservable,
        reservation_fee=fee,
        exercise_landed=exercise_landed.reshape(shape),
        delay_days=delay_days,
        earliest=earliest,
        risk=np.array([sc.supplier_risk(s) for s in suppliers]),
        tariff=tariff,
        freight=freight,
        fixed_cost=np.array([float(sc.suppliers[s].fixed_cost) for s in suppliers]),
        max_share=max_share,
        country=tuple(sc.suppliers[s].country for s in suppliers),
        controlled_by=tuple(frozenset(sc.suppliers[s].controlled_by) for s in suppliers),
        outcomes=tuple(build_outcomes(sc, offers, periods)),
    )


PlanKey = tuple[str, str, int]  # supplier, material, period (1-based)


def plan_array(params: Parameters, quantities: Mapping[PlanKey, float]) -> tuple[np.ndarray, float]:
    """The plan on `params`' offers and periods (O, T), and the volume it cannot place there.

    Volume the other scenario cannot place at all: orders from a supplier or for a
    material it does not list together, or in a period beyond its horizon.
    """
    index = {offer: o for o, offer in enumerate(params.offers)}
    x = np.zeros((len(params.offers), params.periods))
    lost = 0.0
    for (sid, mid, t), q in quantities.items():
        o = index.get((sid, mid))
        if o is None or not 1 <= t <= params.periods:
            lost += q
            continue
        x[o, t - 1] += q
    return x, lost
