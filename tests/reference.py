"""Independent reference implementation of DESIGN.md §4, version 2 (a test oracle).

This module builds the MILP of DESIGN §4 literally, as plain arrays, and solves
it with ``scipy.optimize.milp`` (HiGHS inside scipy). It deliberately shares no
code with the ``optimizer`` package: the product's answers are compared against
it. It imports only numpy, scipy and yaml, and runs on its own:

    python tests/reference.py FILE.yaml      # objective, costs and the plan

Input is the plain dict of ``yaml.safe_load`` of a scenario file (no
``extends``, no ``tables``); every default of DESIGN §3 is applied here. Only
the errors the model needs are raised (``ValueError``); this is no validator.

How the points §4 leaves open are read: exactly as the project's
``notes/v2-interpretations.md`` settles them (scenario ``base`` first; w0
always present, probability 0 when absent; effects multiply, delays add;
dates to periods ``floor((date - start).days / D) + 1`` clipped to ``[1, P]``;
``e = floor((qualification + d) / D) + 1``; shift
``k = floor((d + N) / D) - floor(d / D)``, a shipment arriving after P is
neither delivered nor paid; called units at ``exercise_price * (1 + tariff) +
freight`` without price factor; ``F`` outside the CVaR; targets measured in
base only; stock before shortage a constraint in base; reservations in no
share; ``x + r <= capacity * u``). Further choices made here, each the most
literal reading of the sentence quoted:

* "Where the LP optimum breaks it, binaries q[m,t] are added for the periods
  concerned": the oracle adds ``q[m,t]`` for EVERY (material, period) of base
  with demand > 0 (where demand is 0, ``short <= 0`` already), and solves
  once. This is the exact MILP the rule defines, whatever the LP does.
* "Cap[m] initial stock plus inbound plus the material's capacity":
  ``initial_inventory + sum inbound + sum over every offer of m and every
  period of capacity`` (periods before ``e[s]`` included; any valid bound on
  ``inv`` gives the same optimum).
* "one that would arrive after P is neither delivered nor paid": spot buys
  and calls due in such a period are not created (they could do nothing);
  the planned ``x`` stays (it is the plan) and its reservation fee is paid.
* "a date is the period that contains it ... the window is intersected with
  the horizon": ``from_period`` may be combined with ``to_date`` and
  ``from_date`` with ``to_period``; an inverted window after conversion hits
  nothing (only an integer pair from > to is an error, as in version 1).
  ``horizon.start`` and dates are ``datetime.date`` (as safe_load gives) or
  ISO strings. ``period_days`` may be fractional: every ``floor`` here is
  exact (``fractions.Fraction``).
* "controlled_by ... other countries": a supplier's own country in its
  ``controlled_by`` changes nothing (it is in that country anyway).
* "Stock before shortage: in every scenario": the MILP's solution is
  reported after a greedy repair of ``inv``/``short`` per scenario and
  material given the solution's arrivals (``inv[t] = max(0, inv[t-1] +
  inbound + A - demand)``, ``short`` the rest). For fixed arrivals the greedy
  path has the least cumulative shortage and the least stock of every period,
  so no cost of ``C[w]`` rises (it is a tie-break outside base); in base,
  where the constraint holds, any feasible path IS the greedy one. The
  reported objective is the MILP's; ``recomputed_objective`` recomputes it
  from the reported (repaired) figures.
* Solve: ``mip_rel_gap`` 1e-9; if the model has binaries, they are then fixed
  at their rounded values and the LP solved again (a polish: the reported
  point satisfies every row to LP tolerance, not only HiGHS' 1e-6 MIP
  feasibility tolerance); the polished objective is reported (it is that of
  an integral solution the MILP found, so within the gap).
* A disruption or risk named ``base`` is an error (the name of w0); a window
  wholly outside the horizon is recorded in ``warnings`` (the loader's
  warning), not printed.
* version 1 rules kept: supplier risk / tariff default to the country's, else
  0; ``x`` exists only for ``t >= e`` and capacity > 0; a share cap >= 1 is no
  constraint; ``min_suppliers`` on the horizon basis always, for materials
  with total demand > 0, ``Cap[m]`` there the sum of the capacities of the
  material's offers over the horizon.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import yaml
from scipy.optimize import Bounds, LinearConstraint, milp

INF = math.inf
BASE = "base"
MIP_REL_GAP = 1e-9
SPEND = ("purchase", "spot", "reservation", "called", "fixed", "holding")
PENALTIES = ("delay", "shortage", "safety_stock", "end_stock")

Key = tuple[str, str, int]  # (supplier, material, period)


# --------------------------------------------------------------------------- result


@dataclass
class ReferenceResult:
    status: str  # "optimal", "infeasible", "unbounded", "limit", "error"
    objective: float | None = None  # the MILP's: F + sum_w p C[w] (+ CVaR term)
    mip_gap: float | None = None
    # nonzero planned arrivals {(supplier, material, period due): quantity}
    x: dict[Key, float] = field(default_factory=dict)
    # nonzero reservations {(supplier, material, period): capacity reserved}
    r: dict[Key, float] = field(default_factory=dict)
    # [(scenario name, probability)], base first
    scenarios: list[tuple[str, float]] = field(default_factory=list)
    shortage: dict[str, float] = field(default_factory=dict)  # per scenario, total units
    spot: dict[str, float] = field(default_factory=dict)  # per scenario, total units
    called: dict[str, float] = field(default_factory=dict)  # per scenario, total units
    # per scenario, nonzero {(supplier, material, period due): quantity}
    calls: dict[str, dict[Key, float]] = field(default_factory=dict)
    spot_buys: dict[str, dict[Key, float]] = field(default_factory=dict)
    scenario_cost: dict[str, float] = field(default_factory=dict)  # C[w]
    # per scenario: C[w] split {purchase, spot, called, holding, delay, shortage}
    scenario_parts: dict[str, dict[str, float]] = field(default_factory=dict)
    # per (scenario, material, period): closing stock, unmet demand, arrivals
    # (shipments of suppliers, planned, called and spot; inbound not included)
    inventory: dict[tuple[str, str, int], float] = field(default_factory=dict)
    short: dict[tuple[str, str, int], float] = field(default_factory=dict)
    arrivals: dict[tuple[str, str, int], float] = field(default_factory=dict)
    # the plan's own targets, measured in base: {(material, period): units}, {material: units}
    below: dict[tuple[str, int], float] = field(default_factory=dict)
    endshort: dict[str, float] = field(default_factory=dict)
    F: float = 0.0  # first stage: fixed + reservation + safety_stock + end_stock
    F_parts: dict[str, float] = field(default_factory=dict)
    fixed_cost: float = 0.0  # = F_parts["fixed"]
    used: list[str] = field(default_factory=list)  # suppliers whose fixed cost is paid
    # expected over the scenarios, F included (not weighted): DESIGN §5 `costs`
    spend: dict[str, float] = field(default_factory=dict)
    penalties: dict[str, float] = field(default_factory=dict)
    cvar_term: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def expected_cost(self) -> float:
        """F + sum_w p[w] C[w] = spend + penalties."""
        return sum(self.spend.values()) + sum(self.penalties.values())

    @property
    def recomputed_objective(self) -> float:
        return self.expected_cost + self.cvar_term

    @property
    def expected_shortage(self) -> float:
        return sum(p * self.shortage[name] for name, p in self.scenarios)

    @property
    def expected_spot(self) -> float:
        return sum(p * self.spot[name] for name, p in self.scenarios)

    @property
    def expected_called(self) -> float:
        return sum(p * self.called[name] for name, p in self.scenarios)


# --------------------------------------------------------------------------- input


def _floor_ratio(num: float, den: float) -> int:
    """floor(num / den), exactly (period_days may be fractional)."""
    return math.floor(Fraction(num) / Fraction(den))


def _per_period(value: Any, periods: int, what: str) -> list[float]:
    """A number, or a list of exactly `periods` numbers (DESIGN §3)."""
    if isinstance(value, list):
        if len(value) != periods:
            raise ValueError(f"{what}: expected {periods} values, got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * periods


def _inbound(value: Any, periods: int, what: str) -> list[float]:
    """A list no longer than `periods`, zero padded (a number: every period)."""
    if value is None:
        return [0.0] * periods
    if isinstance(value, list):
        if len(value) > periods:
            raise ValueError(f"{what}: more than {periods} values")
        return [float(v) for v in value] + [0.0] * (periods - len(value))
    return [float(value)] * periods


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise ValueError(f"{what}: not a date: {value!r}")


@dataclass
class _Offer:
    price: list[float]
    capacity: list[float]
    min_order: float
    fee: list[float] | None  # reservation_fee per period, None: no reservations
    exercise: list[float]  # exercise_price per period (default: price)


@dataclass
class _Supplier:
    country: str
    controlled_by: tuple[str, ...]
    risk: float
    tariff: float
    freight: float
    delay: float  # d[s] = lead + licence
    earliest: int  # e[s]
    fixed_cost: float
    max_share: float | None
    offers: dict[str, _Offer]


@dataclass
class _Material:
    demand: list[float]
    shortage_cost: float
    initial_inventory: float
    inbound: list[float]
    holding_cost: float
    ss: list[float]  # ss[m,t]
    ss_penalty: float
    end_stock: float  # E[m]
    end_penalty: float


@dataclass
class _Scenario:
    name: str
    probability: float
    is_base: bool
    effects: list[dict]


@dataclass
class _Instance:
    periods: int
    period_days: float
    start: dt.date | None
    materials: dict[str, _Material]
    suppliers: dict[str, _Supplier]
    scenarios: list[_Scenario]
    policy: dict
    objective: dict
    spot_premium: float


def _read_materials(data: dict, periods: int, period_days: float) -> dict[str, _Material]:
    materials = {}
    for m, md in data["materials"].items():
        shortage_cost = float(md["shortage_cost"])
        demand = _per_period(md["demand"], periods, f"materials.{m}.demand")
        ss_units, ss_days = md.get("safety_stock"), md.get("safety_stock_days")
        if ss_units is not None and ss_days is not None:
            raise ValueError(f"materials.{m}: safety_stock and safety_stock_days, not both")
        if ss_days is not None:
            # "safety_stock_days[m] * demand[m,t] / D"
            ss = [float(ss_days) * d / period_days for d in demand]
        else:
            ss = [float(ss_units or 0.0)] * periods
        end_stock = md.get("end_stock")
        ss_penalty = md.get("safety_stock_penalty")
        end_penalty = md.get("end_stock_penalty")
        materials[m] = _Material(
            demand=demand,
            shortage_cost=shortage_cost,
            initial_inventory=float(md.get("initial_inventory", 0)),
            inbound=_inbound(md.get("inbound"), periods, f"materials.{m}.inbound"),
            holding_cost=float(md.get("holding_cost", 0)),
            ss=ss,
            ss_penalty=shortage_cost / 10 if ss_penalty is None else float(ss_penalty),
            # "end stock E[m] = end_stock[m], default ss[m,P]"
            end_stock=ss[-1] if end_stock is None else float(end_stock),
            end_penalty=shortage_cost if end_penalty is None else float(end_penalty),
        )
    return materials


def _read_offer(od: dict, periods: int, where: str) -> _Offer:
    price = _per_period(od["price"], periods, f"{where}.price")
    fee = od.get("reservation_fee")
    exercise = od.get("exercise_price")
    return _Offer(
        price=price,
        capacity=_per_period(od["capacity"], periods, f"{where}.capacity"),
        min_order=float(od.get("min_order", 0)),
        fee=None if fee is None else _per_period(fee, periods, f"{where}.reservation_fee"),
        exercise=(
            list(price)
            if exercise is None
            else _per_period(exercise, periods, f"{where}.exercise_price")
        ),
    )


def _read_suppliers(data: dict, periods: int, period_days: float) -> dict[str, _Supplier]:
    countries = data.get("countries") or {}
    suppliers = {}
    for s, sd in data["suppliers"].items():
        country = str(sd["country"])
        cd = countries.get(country) or {}
        risk = sd.get("risk", cd.get("risk", 0.0))
        tariff = sd.get("tariff", cd.get("tariff", 0.0))
        delay = float(sd.get("lead_time_days", 0)) + float(sd.get("license_delay_days", 0))
        qualification = float(sd.get("qualification_days", 0))
        offers = {}
        for m, od in sd["offers"].items():
            if m not in data["materials"]:
                raise ValueError(f"suppliers.{s}.offers.{m}: unknown material")
            offers[m] = _read_offer(od, periods, f"suppliers.{s}.offers.{m}")
        max_share = sd.get("max_share")
        suppliers[s] = _Supplier(
            country=country,
            controlled_by=tuple(str(c) for c in sd.get("controlled_by") or ()),
            risk=float(risk),
            tariff=float(tariff),
            freight=float(sd.get("freight", 0)),
            delay=delay,
            # "e[s] = floor((qualification_days[s] + d[s]) / D) + 1"
            earliest=_floor_ratio(qualification + delay, period_days) + 1,
            fixed_cost=float(sd.get("fixed_cost", 0)),
            max_share=None if max_share is None else float(max_share),
            offers=offers,
        )
    return suppliers


def _read_scenarios(data: dict) -> list[_Scenario]:
    """The scenario set of DESIGN §4 ("Sets"), base first."""
    disruptions = data.get("disruptions") or None  # an empty list is no disruptions
    risks = data.get("risks") or None
    if disruptions is not None and risks is not None:
        raise ValueError("a file uses `disruptions` or `risks`, not both")
    if any(str(e["name"]) == BASE for e in (disruptions or risks or [])):
        raise ValueError(f"{BASE!r} is the name of the undisrupted case")

    if disruptions is not None:
        # "the undisrupted case w0 with probability 1 - sum of the listed
        #  probabilities ..., and one per listed disruption"
        total = sum(float(d["probability"]) for d in disruptions)
        if total > 1 + 1e-12:
            raise ValueError("disruption probabilities exceed 1")
        scenarios = [_Scenario(BASE, max(0.0, 1.0 - total), True, [])]
        for d in disruptions:
            scenarios.append(
                _Scenario(str(d["name"]), float(d["probability"]), False, list(d["effects"]))
            )
        return scenarios

    if risks is not None:
        q = [float(r["probability"]) for r in risks]
        names = [str(r["name"]) for r in risks]
        sampling = data.get("sampling")
        outcomes: dict[tuple[bool, ...], float] = {}
        if sampling is None:
            # "every joint outcome ... is a scenario with probability
            #  prod q[e] * prod (1 - q[e'])"
            if 2 ** len(risks) > 4096:
                raise ValueError("more than 4096 outcomes without sampling")
            for outcome in itertools.product([False, True], repeat=len(risks)):
                prob = 1.0
                for happens, qe in zip(outcome, q, strict=True):
                    prob *= qe if happens else 1.0 - qe
                outcomes[outcome] = prob
        else:
            # "drawn as numpy.random.default_rng(seed).random((N, K)) < q", each 1/N
            n = int(sampling["scenarios"])
            rng = np.random.default_rng(int(sampling.get("seed", 0)))
            draws = rng.random((n, len(risks))) < np.asarray(q, dtype=float)
            for row in draws:
                key = tuple(bool(v) for v in row)
                outcomes[key] = outcomes.get(key, 0.0) + 1.0 / n
            # "w0 is always in the model: with sampling that did not draw it, it is
            #  added with probability 0"
            outcomes.setdefault((False,) * len(risks), 0.0)
        scenarios = []
        for outcome, prob in outcomes.items():
            happening = [i for i, h in enumerate(outcome) if h]
            if not happening:
                scenarios.append(_Scenario(BASE, prob, True, []))
            else:
                effects = [eff for i in happening for eff in risks[i]["effects"]]
                name = "+".join(names[i] for i in happening)
                scenarios.append(_Scenario(name, prob, False, effects))
        scenarios.sort(key=lambda sc: not sc.is_base)  # base first, otherwise as generated
        return scenarios

    # "With no disruptions there is one scenario (w0, a = 1, no spot buys)"
    return [_Scenario(BASE, 1.0, True, [])]


def read_instance(data: dict) -> _Instance:
    horizon = data["horizon"]
    periods = int(horizon["periods"])
    period_days = horizon.get("period_days", 30)
    start = horizon.get("start")
    return _Instance(
        periods=periods,
        period_days=period_days,
        start=None if start is None else _date(start, "horizon.start"),
        materials=_read_materials(data, periods, period_days),
        suppliers=_read_suppliers(data, periods, period_days),
        scenarios=_read_scenarios(data),
        policy=data.get("policy") or {},
        objective=data.get("objective") or {},
        spot_premium=float(data.get("spot_premium", 0.5)),
    )


# --------------------------------------------------------------------------- effects


def _window_end(eff: dict, inst: _Instance, end: str, where: str) -> tuple[int, bool]:
    """(period, given as an integer period) of `from` or `to` of an effect."""
    by_period, by_date = f"{end}_period", f"{end}_date"
    if by_period in eff and by_date in eff:
        raise ValueError(f"{where}: {by_period} or {by_date}, not both")
    if by_period in eff:
        t = int(eff[by_period])
        if not 1 <= t <= inst.periods:
            raise ValueError(f"{where}.{by_period}: must be within 1..{inst.periods}")
        return t, True
    if by_date in eff:
        if inst.start is None:
            raise ValueError(f"{where}.{by_date}: needs horizon.start")
        days = (_date(eff[by_date], f"{where}.{by_date}") - inst.start).days
        # "a date is the period that contains it: floor((date - start).days / D) + 1"
        return _floor_ratio(days, inst.period_days) + 1, False
    return (1 if end == "from" else inst.periods), False


def _targets(eff: dict, inst: _Instance, where: str) -> list[str]:
    """Suppliers an effect hits."""
    if ("supplier" in eff) == ("country" in eff):
        raise ValueError(f"{where}: exactly one of supplier and country")
    if "supplier" in eff:
        if "reach" in eff:
            raise ValueError(f"{where}.reach: only with `country`")
        s = str(eff["supplier"])
        if s not in inst.suppliers:
            raise ValueError(f"{where}.supplier: unknown supplier {s!r}")
        return [s]
    country = str(eff["country"])
    reach = eff.get("reach", "own")
    if reach not in ("own", "controlled"):
        raise ValueError(f"{where}.reach: own or controlled, got {reach!r}")
    # "an effect on country c hits the suppliers in c, and with reach: controlled
    #  also the suppliers whose controlled_by lists c"
    return [
        s
        for s, sup in inst.suppliers.items()
        if sup.country == country or (reach == "controlled" and country in sup.controlled_by)
    ]


def _factors(
    scenario: _Scenario, inst: _Instance, warnings: list[str]
) -> tuple[dict[Key, float], dict[Key, float], dict[Key, float]]:
    """a, g and N of one scenario, by (s, m, due period); only hit entries are present."""
    avail: dict[Key, float] = {}
    price: dict[Key, float] = {}
    extra: dict[Key, float] = {}
    for i, eff in enumerate(scenario.effects):
        where = f"{scenario.name}.effects[{i}]"
        targets = _targets(eff, inst, where)
        first, first_int = _window_end(eff, inst, "from", where)
        last, last_int = _window_end(eff, inst, "to", where)
        if first_int and last_int and first > last:
            raise ValueError(f"{where}: from_period after to_period")
        # "the window is intersected with the horizon"
        first, last = max(first, 1), min(last, inst.periods)
        if first > last:
            warnings.append(f"{where}: window outside the horizon, hits nothing")
            continue
        mats = eff.get("materials")
        if mats is not None and not mats:
            raise ValueError(f"{where}.materials: an empty list")
        a = float(eff.get("availability", 1.0))
        g = float(eff.get("price_factor", 1.0))
        n = float(eff.get("delay_days", 0.0))
        if n < 0:
            raise ValueError(f"{where}.delay_days: must be >= 0")
        for s in targets:
            for m in inst.suppliers[s].offers if mats is None else mats:
                if m not in inst.materials:
                    raise ValueError(f"{where}.materials: unknown material {m!r}")
                if m not in inst.suppliers[s].offers:
                    continue
                for t in range(first, last + 1):
                    # "several effects multiply" (a, g); "delays add" (N)
                    avail[s, m, t] = avail.get((s, m, t), 1.0) * a
                    price[s, m, t] = price.get((s, m, t), 1.0) * g
                    extra[s, m, t] = extra.get((s, m, t), 0.0) + n
    return avail, price, extra


# --------------------------------------------------------------------------- model


class _Model:
    """Columns with bounds/integrality/cost, and rows lo <= A x <= hi."""

    def __init__(self) -> None:
        self.names: list[Any] = []
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.integer: list[int] = []
        self.cost: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, name: Any, lb: float = 0.0, ub: float = INF, binary: bool = False) -> int:
        self.names.append(name)
        self.lb.append(0.0 if binary else lb)
        self.ub.append(1.0 if binary else ub)
        self.integer.append(1 if binary else 0)
        self.cost.append(0.0)
        return len(self.names) - 1

    def row(self, terms: list[tuple[int, float]], lo: float, hi: float) -> None:
        coefs: dict[int, float] = {}
        for col, coef in terms:
            coefs[col] = coefs.get(col, 0.0) + coef
        self.rows.append((coefs, lo, hi))

    def _matrix(self) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
        rr, cc, vv, lo, hi = [], [], [], [], []
        for i, (coefs, rlo, rhi) in enumerate(self.rows):
            for col, coef in coefs.items():
                rr.append(i)
                cc.append(col)
                vv.append(coef)
            lo.append(rlo)
            hi.append(rhi)
        shape = (len(self.rows), len(self.names))
        return sp.csr_array((vv, (rr, cc)), shape=shape), np.asarray(lo), np.asarray(hi)

    def solve(self, mip_rel_gap: float, time_limit: float | None):
        a, lo, hi = self._matrix()
        options: dict[str, Any] = {"mip_rel_gap": mip_rel_gap, "presolve": True}
        if time_limit is not None:
            options["time_limit"] = time_limit
        integer = np.asarray(self.integer)
        constraints = [LinearConstraint(a, lo, hi)] if self.rows else []
        res = milp(
            c=np.asarray(self.cost),
            integrality=integer,
            bounds=Bounds(np.asarray(self.lb), np.asarray(self.ub)),
            constraints=constraints,
            options=options,
        )
        if res.x is None or not integer.any():
            return res, res
        # polish: binaries fixed at their rounded values, the LP solved again
        fixed = np.round(res.x)
        lb = np.where(integer == 1, fixed, np.asarray(self.lb))
        ub = np.where(integer == 1, fixed, np.asarray(self.ub))
        polished = milp(
            c=np.asarray(self.cost),
            bounds=Bounds(lb, ub),
            constraints=constraints,
            options={"presolve": True},
        )
        return res, (polished if polished.status == 0 else res)


@dataclass
class _Flow:
    """One (s, m, t) due period in one scenario: its factors and columns."""

    key: Key
    a: float
    g: float
    n: float  # N, extra delay days
    arrive: int  # t + k; > P: neither delivered nor paid
    x: int
    o: int | None = None
    y: int | None = None


@dataclass
class _Built:
    model: _Model
    x: dict[Key, int]
    r: dict[Key, int]
    u: dict[str, int]
    below: dict[tuple[str, int], int]
    endshort: dict[str, int]
    flows: list[list[_Flow]]  # per scenario
    inv: list[dict[tuple[str, int], int]]
    short: list[dict[tuple[str, int], int]]
    cost: list[dict[int, float]]  # C[w] as {column: coefficient}
    warnings: list[str]


def _landed(inst: _Instance, s: str, m: str, t: int) -> float:
    # "landed cost l[s,m,t] = price[s,m,t] * (1 + tariff[s]) + freight[s]"
    sup = inst.suppliers[s]
    return sup.offers[m].price[t - 1] * (1 + sup.tariff) + sup.freight


def _landed_exercise(inst: _Instance, s: str, m: str, t: int) -> float:
    # "l_ex = exercise_price * (1 + tariff) + freight"
    sup = inst.suppliers[s]
    return sup.offers[m].exercise[t - 1] * (1 + sup.tariff) + sup.freight


def _cap(inst: _Instance, s: str, m: str, t: int) -> float:
    return inst.suppliers[s].offers[m].capacity[t - 1]


def _unit_costs(inst: _Instance, f: _Flow) -> dict[str, tuple[float, float]]:
    """Per delivered unit of x (per unit planned, a included), o and y: (price, delay)."""
    s, m, t = f.key
    delta = float(inst.policy.get("delay_cost_per_day", 0))
    late = delta * (inst.suppliers[s].delay + f.n)  # "delta * (d + N)"
    landed = _landed(inst, s, m, t)
    return {
        "x": (f.g * landed * f.a, late * f.a),  # "(g*l + delta*(d + N)) * a * x"
        "o": (_landed_exercise(inst, s, m, t), late),  # "(l_ex + delta*(d + N)) * o"
        "y": (f.g * landed * (1 + inst.spot_premium), late),  # "(g*l*(1 + sp) + ...) * y"
    }


def _first_stage(inst: _Instance, b: _Built) -> None:
    """x, r (with x + r <= capacity), below, endshort."""
    model, T = b.model, range(1, inst.periods + 1)
    # "x[s,m,t] >= 0 ...; x <= capacity[s,m,t]; x = 0 for t < e[s]"; "r[s,m,t] >= 0:
    #  capacity reserved, only for offers with a reservation_fee; x + r <= capacity;
    #  r = 0 for t < e[s]"  (neither exists before e[s] or where capacity is 0)
    for s, sup in inst.suppliers.items():
        for m, offer in sup.offers.items():
            for t in T:
                cap = _cap(inst, s, m, t)
                if t < sup.earliest or cap <= 0:
                    continue
                b.x[s, m, t] = model.var(("x", s, m, t), 0.0, cap)
                if offer.fee is not None:
                    b.r[s, m, t] = model.var(("r", s, m, t), 0.0, cap)
                    model.row([(b.x[s, m, t], 1.0), (b.r[s, m, t], 1.0)], -INF, cap)
                    model.cost[b.r[s, m, t]] += offer.fee[t - 1]  # F: "reservation_fee*r"
    # "below[m,t] >= ss[m,t] - inv[m,t,w0], below >= 0, and endshort[m] >= E[m] -
    #  inv[m,P,w0], endshort >= 0"  (rows added with base's inventory columns)
    for m, mat in inst.materials.items():
        for t in T:
            if mat.ss[t - 1] > 0:
                b.below[m, t] = model.var(("below", m, t))
                model.cost[b.below[m, t]] += mat.ss_penalty
        if mat.end_stock > 0:
            b.endshort[m] = model.var(("endshort", m))
            model.cost[b.endshort[m]] += mat.end_penalty


def _scenario(inst: _Instance, b: _Built, w: _Scenario) -> None:
    """Second-stage columns, balances and C[w] of one scenario."""
    model, P = b.model, inst.periods
    a, g, n = _factors(w, inst, b.warnings)
    cost: dict[int, float] = {}
    flows: list[_Flow] = []
    # "A[m,t,w] = sum_s sum_{t' : t' + k[s,m,t',w] = t} (a*x + o + y)[s,m,t']"
    arrivals: dict[tuple[str, int], list[tuple[int, float]]] = {}
    for key, xcol in b.x.items():
        s, m, t = key
        d = inst.suppliers[s].delay
        f = _Flow(key, a.get(key, 1.0), g.get(key, 1.0), n.get(key, 0.0), t, xcol)
        # "k = floor((d[s] + N) / D) - floor(d[s] / D)"
        f.arrive = t + _floor_ratio(d + f.n, inst.period_days) - _floor_ratio(d, inst.period_days)
        flows.append(f)
        if f.arrive > P:  # "neither delivered nor paid within the horizon"
            continue
        # "y, o >= 0 ...; o <= a * r; together a*x + o + y <= a*capacity ...
        #  in w0 ... y = o = 0"
        if not w.is_base:
            f.y = model.var(("y", s, m, t, w.name))
            row = [(xcol, f.a), (f.y, 1.0)]
            if key in b.r:
                f.o = model.var(("o", s, m, t, w.name))
                model.row([(f.o, 1.0), (b.r[key], -f.a)], -INF, 0.0)
                row.append((f.o, 1.0))
            model.row(row, -INF, f.a * _cap(inst, s, m, t))
        unit = _unit_costs(inst, f)
        arrivals.setdefault((m, f.arrive), []).append((xcol, f.a))
        cost[xcol] = cost.get(xcol, 0.0) + sum(unit["x"])
        for kind, col in (("o", f.o), ("y", f.y)):
            if col is not None:
                arrivals[m, f.arrive].append((col, 1.0))
                cost[col] = sum(unit[kind])

    # "inv[m,t,w] >= 0, 0 <= short[m,t,w] <= demand[m,t]"
    inv: dict[tuple[str, int], int] = {}
    short: dict[tuple[str, int], int] = {}
    for m, mat in inst.materials.items():
        for t in range(1, P + 1):
            inv[m, t] = model.var(("inv", m, t, w.name))
            short[m, t] = model.var(("short", m, t, w.name), 0.0, mat.demand[t - 1])
            cost[inv[m, t]] = mat.holding_cost  # "sum holding*inv"
            cost[short[m, t]] = mat.shortage_cost  # "sum shortage_cost*short"
            # "inv[m,t,w] = inv[m,t-1,w] + inbound[m,t] + A[m,t,w] + short[m,t,w]
            #  - demand[m,t]"  (inv[m,0,w] = initial_inventory)
            terms = [(inv[m, t], 1.0), (short[m, t], -1.0)]
            terms += [(col, -coef) for col, coef in arrivals.get((m, t), [])]
            rhs = mat.inbound[t - 1] - mat.demand[t - 1]
            if t > 1:
                terms.append((inv[m, t - 1], -1.0))
            else:
                rhs += mat.initial_inventory
            model.row(terms, rhs, rhs)
    b.flows.append(flows)
    b.inv.append(inv)
    b.short.append(short)
    b.cost.append(cost)


def _base_rules(inst: _Instance, b: _Built) -> None:
    """The plan's targets and stock before shortage, in base (scenario 0)."""
    model, P = b.model, inst.periods
    inv, short = b.inv[0], b.short[0]
    for (m, t), col in b.below.items():
        model.row([(col, 1.0), (inv[m, t], 1.0)], inst.materials[m].ss[t - 1], INF)
    for m, col in b.endshort.items():
        model.row([(col, 1.0), (inv[m, P], 1.0)], inst.materials[m].end_stock, INF)
    # "complementarity of short[m,t,w0] and inv[m,t,w0] ... binaries q[m,t]
    #  (short <= demand * q, inv <= Cap[m] * (1 - q) with Cap[m] initial stock plus
    #  inbound plus the material's capacity)"
    for m, mat in inst.materials.items():
        big = mat.initial_inventory + sum(mat.inbound)
        big += sum(
            sum(sup.offers[m].capacity) for sup in inst.suppliers.values() if m in sup.offers
        )
        for t in range(1, P + 1):
            if mat.demand[t - 1] <= 0:
                continue
            q = model.var(("q", m, t), binary=True)
            model.row([(short[m, t], 1.0), (q, -mat.demand[t - 1])], -INF, 0.0)
            model.row([(inv[m, t], 1.0), (q, big)], -INF, big)


def _volume(b: _Built, m: str, group: list[int], only: set[str] | None = None):
    return [
        (col, 1.0)
        for (s, mm, t), col in b.x.items()
        if mm == m and t in group and (only is None or s in only)
    ]


def _share_caps(inst: _Instance, b: _Built, groups: list[list[int]]) -> None:
    model, policy = b.model, inst.policy

    def cap_rows(members: set[str], share: float) -> None:
        # "sum_{s in members} x[s,m] <= share * sum_s x[s,m]"
        if share >= 1:
            return
        for m in inst.materials:
            if not any(m in inst.suppliers[s].offers for s in members):
                continue
            for group in groups:
                terms = _volume(b, m, group, members)
                terms += [(c, -share) for c, _ in _volume(b, m, group)]
                model.row(terms, -INF, 0.0)

    # "single source: sum x[s,m] <= max_share[s] * sum_s' x[s',m]"
    for s, sup in inst.suppliers.items():
        share = sup.max_share
        if share is None:
            share = policy.get("max_supplier_share")
        if share is not None:
            cap_rows({s}, float(share))
    # "country: sum_{s in c} x[s,m] <= max_country_share[c] * sum_s x[s,m]"
    for country, share in (policy.get("max_country_share") or {}).items():
        members = {s for s, sup in inst.suppliers.items() if sup.country == str(country)}
        cap_rows(members, float(share))
    # "exposure: sum_{s in c or c in controlled_by[s]} x[s,m]
    #  <= max_country_exposure[c] * sum_s x[s,m]"
    for country, share in (policy.get("max_country_exposure") or {}).items():
        c = str(country)
        members = {
            s for s, sup in inst.suppliers.items() if sup.country == c or c in sup.controlled_by
        }
        cap_rows(members, float(share))
    # "risk: sum_s risk[s] * x[s,m] <= max_average_risk * sum_s x[s,m]"
    max_risk = policy.get("max_average_risk")
    if max_risk is not None and float(max_risk) < 1:
        for m in inst.materials:
            for group in groups:
                terms = [
                    (col, inst.suppliers[s].risk - float(max_risk))
                    for (s, mm, t), col in b.x.items()
                    if mm == m and t in group
                ]
                if terms:
                    model.row(terms, -INF, 0.0)


def _binaries(inst: _Instance, b: _Built) -> None:
    """min order, fixed cost, min suppliers."""
    model, policy, T = b.model, inst.policy, list(range(1, inst.periods + 1))
    # "min order: min_order * z[s,m,t] <= x[s,m,t] <= capacity * z[s,m,t], z binary"
    for (s, m, t), col in b.x.items():
        q = inst.suppliers[s].offers[m].min_order
        if q > 0:
            z = model.var(("z", s, m, t), binary=True)
            model.row([(z, q), (col, -1.0)], -INF, 0.0)
            model.row([(col, 1.0), (z, -_cap(inst, s, m, t))], -INF, 0.0)

    # "fixed cost: x[s,m,t] + r[s,m,t] <= capacity * u[s], u binary, cost fixed_cost * u[s]"
    for s, sup in inst.suppliers.items():
        if sup.fixed_cost > 0:
            u = b.u[s] = model.var(("u", s), binary=True)
            model.cost[u] += sup.fixed_cost
            for key, col in b.x.items():
                if key[0] == s:
                    terms = [(col, 1.0), (u, -_cap(inst, *key))]
                    if key in b.r:
                        terms.append((b.r[key], 1.0))
                    model.row(terms, -INF, 0.0)

    # "min suppliers: v[s,m] binary, sum_s v[s,m] >= min_suppliers for every material
    #  with demand, and sum_t x[s,m] >= min_supplier_share * sum x[.,m] - Cap[m]*(1 - v[s,m])"
    min_suppliers = policy.get("min_suppliers")
    if min_suppliers is None or int(min_suppliers) <= 0:
        return
    min_share = float(policy.get("min_supplier_share", 0.1))
    for m, mat in inst.materials.items():
        if sum(mat.demand) <= 0:
            continue
        offering = [s for s, sup in inst.suppliers.items() if m in sup.offers]
        big = sum(_cap(inst, s, m, t) for s in offering for t in T)  # Cap[m]
        v = {s: model.var(("v", s, m), binary=True) for s in offering}
        model.row([(col, 1.0) for col in v.values()], float(min_suppliers), INF)
        for s in offering:
            terms = _volume(b, m, T, {s})
            terms += [(c, -min_share) for c, _ in _volume(b, m, T)]
            terms.append((v[s], -big))
            model.row(terms, -big, INF)


def _objective(inst: _Instance, b: _Built) -> None:
    """F (already on its columns) + sum_w p[w] C[w] (+ the CVaR term)."""
    model = b.model
    for w, cost in zip(inst.scenarios, b.cost, strict=True):
        for col, coef in cost.items():
            model.cost[col] += w.probability * coef
    # "cvar_weight * (eta + 1/(1 - cvar_alpha) * sum_w p[w] * u[w]), u[w] >= C[w] - eta"
    if inst.objective.get("risk_measure", "expected") == "cvar":
        alpha = float(inst.objective.get("cvar_alpha", 0.9))
        weight = float(inst.objective.get("cvar_weight", 1.0))
        eta = model.var(("eta",), -INF, INF)
        model.cost[eta] += weight
        for w, cost in zip(inst.scenarios, b.cost, strict=True):
            uw = model.var(("cvar_u", w.name))
            model.cost[uw] += weight * w.probability / (1 - alpha)
            model.row([(uw, 1.0), (eta, 1.0)] + [(c, -k) for c, k in cost.items()], 0.0, INF)


def build(inst: _Instance) -> _Built:
    b = _Built(_Model(), {}, {}, {}, {}, {}, [], [], [], [], [])
    _first_stage(inst, b)
    for w in inst.scenarios:
        _scenario(inst, b, w)
    _base_rules(inst, b)
    basis = inst.policy.get("share_basis", "horizon")
    T = list(range(1, inst.periods + 1))
    _share_caps(inst, b, [T] if basis == "horizon" else [[t] for t in T])
    _binaries(inst, b)
    _objective(inst, b)
    return b


# --------------------------------------------------------------------------- report


def _cvar(costs: list[float], probs: list[float], alpha: float) -> float:
    """min_eta eta + 1/(1 - alpha) sum_w p[w] (C[w] - eta)+ (a breakpoint is optimal)."""
    return min(
        eta + sum(p * max(0.0, c - eta) for c, p in zip(costs, probs, strict=True)) / (1 - alpha)
        for eta in costs
    )


def _report_scenario(
    inst: _Instance, flows: list[_Flow], w: _Scenario, val: np.ndarray, result: ReferenceResult
) -> dict[str, float]:
    """Recourse, stock path and C[w] (split) of one scenario; returns the split."""
    P, tiny = inst.periods, 1e-9
    parts = dict.fromkeys(("purchase", "spot", "called", "holding", "delay", "shortage"), 0.0)
    arrived: dict[tuple[str, int], float] = {}
    calls: dict[Key, float] = {}
    buys: dict[Key, float] = {}
    for f in flows:
        if f.arrive > P:
            continue
        unit = _unit_costs(inst, f)
        qx = float(val[f.x])
        qo = 0.0 if f.o is None else float(val[f.o])
        qy = 0.0 if f.y is None else float(val[f.y])
        m = f.key[1]
        arrived[m, f.arrive] = arrived.get((m, f.arrive), 0.0) + f.a * qx + qo + qy
        parts["purchase"] += unit["x"][0] * qx
        parts["called"] += unit["o"][0] * qo
        parts["spot"] += unit["y"][0] * qy
        parts["delay"] += unit["x"][1] * qx + unit["o"][1] * qo + unit["y"][1] * qy
        if qo > tiny:
            calls[f.key] = qo
        if qy > tiny:
            buys[f.key] = qy
    total_short = 0.0
    for m, mat in inst.materials.items():
        # stock before shortage: the greedy path given the arrivals (module docstring)
        stock = mat.initial_inventory
        for t in range(1, P + 1):
            demand = mat.demand[t - 1]
            have = stock + mat.inbound[t - 1] + arrived.get((m, t), 0.0)
            stock = max(0.0, have - demand)
            unmet = min(demand, max(0.0, demand - have))
            result.inventory[w.name, m, t] = stock
            result.short[w.name, m, t] = unmet
            result.arrivals[w.name, m, t] = arrived.get((m, t), 0.0)
            parts["holding"] += mat.holding_cost * stock
            parts["shortage"] += mat.shortage_cost * unmet
            total_short += unmet
    result.scenario_parts[w.name] = parts
    result.scenario_cost[w.name] = sum(parts.values())
    result.calls[w.name] = calls
    result.spot_buys[w.name] = buys
    result.called[w.name] = sum(calls.values())
    result.spot[w.name] = sum(buys.values())
    result.shortage[w.name] = total_short
    return parts


def _report(inst: _Instance, b: _Built, val: np.ndarray, result: ReferenceResult) -> None:
    P, tiny = inst.periods, 1e-9
    result.x = {k: float(val[c]) for k, c in b.x.items() if abs(val[c]) > tiny}
    result.r = {k: float(val[c]) for k, c in b.r.items() if abs(val[c]) > tiny}
    expected = dict.fromkeys(SPEND + PENALTIES, 0.0)
    for w, flows in zip(inst.scenarios, b.flows, strict=True):
        for kind, amount in _report_scenario(inst, flows, w, val, result).items():
            expected[kind] += w.probability * amount

    base = inst.scenarios[0].name
    for m, mat in inst.materials.items():
        for t in range(1, P + 1):
            if mat.ss[t - 1] > 0:
                result.below[m, t] = max(0.0, mat.ss[t - 1] - result.inventory[base, m, t])
        if mat.end_stock > 0:
            result.endshort[m] = max(0.0, mat.end_stock - result.inventory[base, m, P])
    result.used = [s for s, col in b.u.items() if val[col] > 0.5]
    result.F_parts = {
        "fixed": sum(inst.suppliers[s].fixed_cost for s in result.used),
        "reservation": sum(
            inst.suppliers[s].offers[m].fee[t - 1] * q for (s, m, t), q in result.r.items()
        ),
        "safety_stock": sum(inst.materials[m].ss_penalty * q for (m, _), q in result.below.items()),
        "end_stock": sum(inst.materials[m].end_penalty * q for m, q in result.endshort.items()),
    }
    result.F = sum(result.F_parts.values())
    result.fixed_cost = result.F_parts["fixed"]
    expected.update(result.F_parts)  # F: not weighted by any probability
    result.spend = {k: expected[k] for k in SPEND}
    result.penalties = {k: expected[k] for k in PENALTIES}
    if inst.objective.get("risk_measure", "expected") == "cvar":
        result.cvar_term = float(inst.objective.get("cvar_weight", 1.0)) * _cvar(
            [result.scenario_cost[w.name] for w in inst.scenarios],
            [w.probability for w in inst.scenarios],
            float(inst.objective.get("cvar_alpha", 0.9)),
        )


def solve_reference(
    data: dict, *, mip_rel_gap: float = MIP_REL_GAP, time_limit: float | None = None
) -> ReferenceResult:
    """Build and solve the model of DESIGN §4 v2 for one scenario dict."""
    inst = read_instance(data)
    b = build(inst)
    mip, res = b.model.solve(mip_rel_gap, time_limit)
    status = {0: "optimal", 1: "limit", 2: "infeasible", 3: "unbounded"}.get(mip.status, "error")
    result = ReferenceResult(
        status=status,
        scenarios=[(w.name, w.probability) for w in inst.scenarios],
        warnings=b.warnings,
    )
    if res.x is None:
        return result
    result.objective = float(res.fun)
    gap = getattr(mip, "mip_gap", None)
    result.mip_gap = None if gap is None else float(gap)
    _report(inst, b, res.x, result)
    return result


def solve_file(path: str | Path) -> ReferenceResult:
    """Load a scenario file with yaml.safe_load and solve it."""
    with open(path, encoding="utf-8") as fh:
        return solve_reference(yaml.safe_load(fh))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/reference.py SCENARIO.yaml", file=sys.stderr)
        return 2
    r = solve_file(argv[0])
    for message in r.warnings:
        print(f"warning: {message}", file=sys.stderr)
    print(f"status: {r.status}")
    if r.objective is None:
        return 1
    print(f"objective: {r.objective:.10g}  (gap {r.mip_gap})")
    print("spend:     " + ", ".join(f"{k} {v:.10g}" for k, v in r.spend.items()))
    print("penalties: " + ", ".join(f"{k} {v:.10g}" for k, v in r.penalties.items()))
    print(f"cvar_term: {r.cvar_term:.10g}")
    print(
        "scenarios: "
        + ", ".join(f"{n} p={p:.6g} C={r.scenario_cost[n]:.10g}" for n, p in r.scenarios)
    )
    print("plan (supplier, material, period due: quantity):")
    for (s, m, t), q in sorted(r.x.items()):
        print(f"  {s} {m} {t}: {q:.10g}")
    if r.r:
        print("reserved:")
        for (s, m, t), q in sorted(r.r.items()):
            print(f"  {s} {m} {t}: {q:.10g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
