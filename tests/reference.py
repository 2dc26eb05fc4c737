"""Independent reference implementation of DESIGN.md §4 (a test oracle).

This module builds the LP/MILP of DESIGN §4 literally, as plain arrays, and
solves it with ``scipy.optimize.milp``. It deliberately shares no code with
the ``optimizer`` package: the product's answers are compared against it.

Input is the plain dict of ``yaml.safe_load`` of a scenario file (no
``extends``); every default of DESIGN §3 is applied here. Interpretation
decisions where §4 is not explicit (taken by the project, followed exactly):

* landed cost ``l = price * (1 + tariff) + freight``; ``d = lead + licence``;
  ``e = floor(d / period_days) + 1``; ``x[s,m,t]`` exists only for ``t >= e``.
* supplier risk / tariff default to the country's (``countries``), else 0.
* scenarios: ``disruptions`` -> w0 (probability ``1 - sum p``, always kept,
  even at 0) then one per disruption in file order; ``risks`` -> all 2^K
  outcomes, or with ``sampling`` ``default_rng(seed).random((N, K)) < q``,
  each row with probability 1/N (identical rows merged). The no-event
  outcome is w0. Effects multiply.
* spot ``y`` exists outside w0 only, for ``t >= e``.
* policy caps apply to ``x``; ``share_basis`` horizon or period; a cap >= 1
  is no constraint; ``min_suppliers`` always on the horizon basis.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import yaml
from scipy.optimize import Bounds, LinearConstraint, milp

INF = math.inf
W0 = "w0"


# --------------------------------------------------------------------------- result


@dataclass
class ReferenceResult:
    status: str  # "optimal", "infeasible", "unbounded", "limit", "error"
    objective: float | None = None
    # nonzero planned arrivals {(supplier, material, period): quantity}
    x: dict[tuple[str, str, int], float] = field(default_factory=dict)
    # [(scenario name, probability)], w0 (if present) first
    scenarios: list[tuple[str, float]] = field(default_factory=list)
    shortage: dict[str, float] = field(default_factory=dict)  # per scenario, total units
    spot: dict[str, float] = field(default_factory=dict)  # per scenario, total units
    scenario_cost: dict[str, float] = field(default_factory=dict)  # C[w]
    fixed_cost: float = 0.0

    @property
    def expected_shortage(self) -> float:
        return sum(p * self.shortage[name] for name, p in self.scenarios)

    @property
    def expected_spot(self) -> float:
        return sum(p * self.spot[name] for name, p in self.scenarios)


# --------------------------------------------------------------------------- input


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


@dataclass
class _Offer:
    price: list[float]
    capacity: list[float]
    min_order: float


@dataclass
class _Supplier:
    country: str
    risk: float
    tariff: float
    freight: float
    delay: float  # d[s]
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
    safety_stock: float
    safety_stock_penalty: float


@dataclass
class _Scenario:
    name: str
    probability: float
    is_w0: bool
    effects: list[dict]


def _read_materials(data: dict, periods: int) -> dict[str, _Material]:
    materials = {}
    for m, md in data["materials"].items():
        shortage_cost = float(md["shortage_cost"])
        penalty = md.get("safety_stock_penalty")
        materials[m] = _Material(
            demand=_per_period(md["demand"], periods, f"materials.{m}.demand"),
            shortage_cost=shortage_cost,
            initial_inventory=float(md.get("initial_inventory", 0)),
            inbound=_inbound(md.get("inbound"), periods, f"materials.{m}.inbound"),
            holding_cost=float(md.get("holding_cost", 0)),
            safety_stock=float(md.get("safety_stock", 0)),
            safety_stock_penalty=shortage_cost / 10 if penalty is None else float(penalty),
        )
    return materials


def _read_suppliers(data: dict, periods: int, period_days: float) -> dict[str, _Supplier]:
    countries = data.get("countries") or {}
    suppliers = {}
    for s, sd in data["suppliers"].items():
        country = str(sd["country"])
        cd = countries.get(country) or {}
        risk = sd.get("risk", cd.get("risk", 0.0))
        tariff = sd.get("tariff", cd.get("tariff", 0.0))
        delay = float(sd.get("lead_time_days", 0)) + float(sd.get("license_delay_days", 0))
        offers = {}
        for m, od in sd["offers"].items():
            if m not in data["materials"]:
                raise ValueError(f"suppliers.{s}.offers.{m}: unknown material")
            offers[m] = _Offer(
                price=_per_period(od["price"], periods, f"suppliers.{s}.offers.{m}.price"),
                capacity=_per_period(od["capacity"], periods, f"suppliers.{s}.offers.{m}.capacity"),
                min_order=float(od.get("min_order", 0)),
            )
        max_share = sd.get("max_share")
        suppliers[s] = _Supplier(
            country=country,
            risk=float(risk),
            tariff=float(tariff),
            freight=float(sd.get("freight", 0)),
            delay=delay,
            earliest=math.floor(delay / period_days) + 1,
            fixed_cost=float(sd.get("fixed_cost", 0)),
            max_share=None if max_share is None else float(max_share),
            offers=offers,
        )
    return suppliers


def _read_scenarios(data: dict) -> list[_Scenario]:
    """The scenario set of DESIGN §4 ("Sets")."""
    disruptions = data.get("disruptions") or None  # an empty list is no disruptions
    risks = data.get("risks") or None
    if disruptions is not None and risks is not None:
        raise ValueError("a file uses `disruptions` or `risks`, not both")

    if disruptions is not None:
        # "the undisrupted case w0 with probability 1 - sum of the listed
        #  probabilities ..., and one per listed disruption"
        total = sum(float(d["probability"]) for d in disruptions)
        if total > 1 + 1e-12:
            raise ValueError("disruption probabilities exceed 1")
        scenarios = [_Scenario(W0, 1.0 - total, True, [])]
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
            # "N outcomes are drawn independently with the seed ..., each with
            #  probability 1/N (an outcome drawn twice counts twice)"
            n = int(sampling["scenarios"])
            rng = np.random.default_rng(int(sampling.get("seed", 0)))
            draws = rng.random((n, len(risks))) < np.asarray(q, dtype=float)
            for row in draws:
                key = tuple(bool(v) for v in row)
                outcomes[key] = outcomes.get(key, 0.0) + 1.0 / n
        scenarios = []
        for outcome, prob in outcomes.items():
            happening = [i for i, h in enumerate(outcome) if h]
            if not happening:
                scenarios.append(_Scenario(W0, prob, True, []))
            else:
                effects = [eff for i in happening for eff in risks[i]["effects"]]
                name = "+".join(names[i] for i in happening)
                scenarios.append(_Scenario(name, prob, False, effects))
        scenarios.sort(key=lambda sc: not sc.is_w0)  # w0 first, otherwise as generated
        return scenarios

    # "With no disruptions there is one scenario (w0, a = 1, no spot buys)"
    return [_Scenario(W0, 1.0, True, [])]


def _factors(
    scenario: _Scenario, suppliers: dict[str, _Supplier], periods: int
) -> tuple[dict, dict]:
    """a[s,m,t] and g[s,m,t] of one scenario (only entries differing from 1)."""
    avail: dict[tuple[str, str, int], float] = {}
    price: dict[tuple[str, str, int], float] = {}
    for eff in scenario.effects:
        if "supplier" in eff:
            targets = [eff["supplier"]]
        else:
            targets = [s for s, sup in suppliers.items() if sup.country == str(eff["country"])]
        first = int(eff.get("from_period", 1))
        last = int(eff.get("to_period", periods))
        a = float(eff.get("availability", 1.0))
        g = float(eff.get("price_factor", 1.0))
        for s in targets:
            mats = eff.get("materials")
            if mats is None:  # "optional; default all"
                mats = list(suppliers[s].offers)
            for m in mats:
                if m not in suppliers[s].offers:
                    continue
                for t in range(first, last + 1):
                    avail[s, m, t] = avail.get((s, m, t), 1.0) * a
                    price[s, m, t] = price.get((s, m, t), 1.0) * g
    return avail, price


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

    def solve(self):
        n = len(self.names)
        rr, cc, vv, lo, hi = [], [], [], [], []
        for i, (coefs, rlo, rhi) in enumerate(self.rows):
            for col, coef in coefs.items():
                rr.append(i)
                cc.append(col)
                vv.append(coef)
            lo.append(rlo)
            hi.append(rhi)
        a = sp.csr_array((vv, (rr, cc)), shape=(len(self.rows), n))
        return milp(
            c=np.asarray(self.cost),
            integrality=np.asarray(self.integer),
            bounds=Bounds(np.asarray(self.lb), np.asarray(self.ub)),
            constraints=[LinearConstraint(a, np.asarray(lo), np.asarray(hi))],
            options={"mip_rel_gap": 0.0, "presolve": True},
        )


def solve_reference(data: dict) -> ReferenceResult:  # noqa: C901 - one block per §4 family
    """Build and solve the model of DESIGN §4 for one scenario dict."""
    periods = int(data["horizon"]["periods"])
    period_days = float(data["horizon"].get("period_days", 30))
    T = range(1, periods + 1)
    materials = _read_materials(data, periods)
    suppliers = _read_suppliers(data, periods, period_days)
    scenarios = _read_scenarios(data)
    policy = data.get("policy") or {}
    objective = data.get("objective") or {}
    dc = float(policy.get("delay_cost_per_day", 0))
    spot_premium = float(data.get("spot_premium", 0.5))
    offers = [(s, m) for s, sup in suppliers.items() for m in sup.offers]

    def landed(s: str, m: str, t: int) -> float:
        # "landed cost l[s,m,t] = price[s,m,t] * (1 + tariff[s]) + freight[s]"
        sup = suppliers[s]
        return sup.offers[m].price[t - 1] * (1 + sup.tariff) + sup.freight

    def cap(s: str, m: str, t: int) -> float:
        return suppliers[s].offers[m].capacity[t - 1]

    model = _Model()

    # ---- first stage: "x[s,m,t] >= 0: planned arrivals; x <= capacity[s,m,t];
    #      x = 0 for t < e[s]"  (x simply does not exist before e[s])
    x: dict[tuple[str, str, int], int] = {}
    for s, m in offers:
        for t in T:
            if t >= suppliers[s].earliest:
                x[s, m, t] = model.var(("x", s, m, t), 0.0, cap(s, m, t))

    # ---- second stage, per scenario w; C[w] is kept as {column: coefficient}
    scen_cost: list[dict[int, float]] = []
    short_cols: list[list[int]] = []
    spot_cols: list[list[int]] = []
    for w in scenarios:
        a, g = _factors(w, suppliers, periods)
        cost_w: dict[int, float] = {}

        def add_cost(col: int, coef: float, cost_w: dict[int, float] = cost_w) -> None:
            cost_w[col] = cost_w.get(col, 0.0) + coef

        # "y[s,m,t,w] >= 0: spot buys, a * x + y <= a * capacity (y = 0 for t < e[s]);
        #  in w0 ... y = 0"
        y: dict[tuple[str, str, int], int] = {}
        if not w.is_w0:
            for s, m, t in x:
                at = a.get((s, m, t), 1.0)
                y[s, m, t] = model.var(("y", s, m, t, w.name))
                model.row([(x[s, m, t], at), (y[s, m, t], 1.0)], -INF, at * cap(s, m, t))
        spot_cols.append(list(y.values()))

        # "inv[m,t,w] >= 0, short[m,t,w] >= 0, below[m,t,w] >= 0"
        inv: dict[tuple[str, int], int] = {}
        short: dict[tuple[str, int], int] = {}
        below: dict[tuple[str, int], int] = {}
        for m in materials:
            for t in T:
                inv[m, t] = model.var(("inv", m, t, w.name))
                short[m, t] = model.var(("short", m, t, w.name))
                below[m, t] = model.var(("below", m, t, w.name))
        short_cols.append(list(short.values()))

        # "inv[m,t,w] = inv[m,t-1,w] + inbound[m,t] + sum_s (a*x + y) + short[m,t,w]
        #  - demand[m,t]"  with inv[m,0,w] = initial_inventory
        for m, mat in materials.items():
            for t in T:
                terms = [(inv[m, t], 1.0), (short[m, t], -1.0)]
                rhs = mat.inbound[t - 1] - mat.demand[t - 1]
                if t > 1:
                    terms.append((inv[m, t - 1], -1.0))
                else:
                    rhs += mat.initial_inventory
                for s, mm, tt in x:
                    if mm == m and tt == t:
                        terms.append((x[s, m, t], -a.get((s, m, t), 1.0)))
                        if (s, m, t) in y:
                            terms.append((y[s, m, t], -1.0))
                model.row(terms, rhs, rhs)

        # "below[m,t,w] >= safety_stock[m] - inv[m,t,w]"
        for m, mat in materials.items():
            for t in T:
                model.row([(below[m, t], 1.0), (inv[m, t], 1.0)], mat.safety_stock, INF)

        # "C[w] = sum (g*l + delay_cost_per_day*d)*a*x
        #        + sum (g*l*(1 + spot_premium) + delay_cost_per_day*d) * y
        #        + sum holding*inv + sum shortage_cost*short + sum safety_stock_penalty*below"
        for s, m, t in x:
            at = a.get((s, m, t), 1.0)
            gt = g.get((s, m, t), 1.0)
            d = suppliers[s].delay
            add_cost(x[s, m, t], (gt * landed(s, m, t) + dc * d) * at)
            if (s, m, t) in y:
                add_cost(y[s, m, t], gt * landed(s, m, t) * (1 + spot_premium) + dc * d)
        for m, mat in materials.items():
            for t in T:
                add_cost(inv[m, t], mat.holding_cost)
                add_cost(short[m, t], mat.shortage_cost)
                add_cost(below[m, t], mat.safety_stock_penalty)
        scen_cost.append(cost_w)

    # ---- policy, on the plan x ("basis horizon sums over t, basis period applies per t")
    basis = policy.get("share_basis", "horizon")
    groups = [list(T)] if basis == "horizon" else [[t] for t in T]

    def volume(m: str, group: list[int], only: set[str] | None = None) -> list[tuple[int, float]]:
        return [
            (col, 1.0)
            for (s, mm, t), col in x.items()
            if mm == m and t in group and (only is None or s in only)
        ]

    # "single source: sum x[s,m] <= max_share[s] * sum_s' x[s',m]"
    for s, m in offers:
        share = suppliers[s].max_share
        if share is None:
            share = policy.get("max_supplier_share")
        if share is None or float(share) >= 1:
            continue
        for group in groups:
            terms = volume(m, group, {s}) + [(c, -float(share)) for c, _ in volume(m, group)]
            model.row(terms, -INF, 0.0)

    # "country: sum_{s in c} x[s,m] <= max_country_share[c] * sum_s x[s,m]"
    for country, share in (policy.get("max_country_share") or {}).items():
        if float(share) >= 1:
            continue
        members = {s for s, sup in suppliers.items() if sup.country == str(country)}
        for m in materials:
            if not any((s, m) in offers for s in members):
                continue
            for group in groups:
                terms = volume(m, group, members) + [
                    (c, -float(share)) for c, _ in volume(m, group)
                ]
                model.row(terms, -INF, 0.0)

    # "risk: sum_s risk[s] * x[s,m] <= max_average_risk * sum_s x[s,m]"
    max_risk = policy.get("max_average_risk")
    if max_risk is not None and float(max_risk) < 1:
        for m in materials:
            for group in groups:
                terms = [
                    (col, suppliers[s].risk - float(max_risk))
                    for (s, mm, t), col in x.items()
                    if mm == m and t in group
                ]
                if terms:
                    model.row(terms, -INF, 0.0)

    # "min order: min_order * z[s,m,t] <= x[s,m,t] <= capacity * z[s,m,t], z binary"
    for (s, m, t), col in x.items():
        q = suppliers[s].offers[m].min_order
        if q > 0:
            z = model.var(("z", s, m, t), binary=True)
            model.row([(z, q), (col, -1.0)], -INF, 0.0)
            model.row([(col, 1.0), (z, -cap(s, m, t))], -INF, 0.0)

    # "fixed cost: x[s,m,t] <= capacity * u[s], u binary, cost fixed_cost * u[s]"
    fixed_cols: list[tuple[int, float]] = []
    for s, sup in suppliers.items():
        if sup.fixed_cost > 0:
            u = model.var(("u", s), binary=True)
            fixed_cols.append((u, sup.fixed_cost))
            for (ss, m, t), col in x.items():
                if ss == s:
                    model.row([(col, 1.0), (u, -cap(s, m, t))], -INF, 0.0)

    # "min suppliers: v[s,m] binary, sum_s v[s,m] >= min_suppliers for every material
    #  with demand, and sum_t x[s,m] >= min_supplier_share * sum x[.,m] - Cap[m]*(1 - v[s,m])"
    min_suppliers = policy.get("min_suppliers")
    if min_suppliers is not None and int(min_suppliers) > 0:
        min_share = float(policy.get("min_supplier_share", 0.1))
        for m, mat in materials.items():
            if sum(mat.demand) <= 0:
                continue
            offering = [s for s, mm in offers if mm == m]
            big = sum(cap(s, m, t) for s in offering for t in T)  # Cap[m]
            v = {s: model.var(("v", s, m), binary=True) for s in offering}
            model.row([(col, 1.0) for col in v.values()], float(min_suppliers), INF)
            for s in offering:
                terms = volume(m, list(T), {s})
                terms += [(c, -min_share) for c, _ in volume(m, list(T))]
                terms.append((v[s], -big))
                model.row(terms, -big, INF)

    # ---- objective: "fixed costs + sum_w p[w] * C[w]"
    for col, coef in fixed_cols:
        model.cost[col] += coef
    for w, cost_w in zip(scenarios, scen_cost, strict=True):
        for col, coef in cost_w.items():
            model.cost[col] += w.probability * coef

    # "plus with cvar: cvar_weight * (eta + 1/(1 - cvar_alpha) * sum_w p[w] * u[w]),
    #  u[w] >= C[w] - eta, u[w] >= 0"
    if objective.get("risk_measure", "expected") == "cvar":
        alpha = float(objective.get("cvar_alpha", 0.9))
        weight = float(objective.get("cvar_weight", 1.0))
        eta = model.var(("eta",), -INF, INF)
        model.cost[eta] += weight
        for w, cost_w in zip(scenarios, scen_cost, strict=True):
            uw = model.var(("cvar_u", w.name))
            model.cost[uw] += weight * w.probability / (1 - alpha)
            # u[w] - C[w] + eta >= 0
            model.row([(uw, 1.0), (eta, 1.0)] + [(c, -k) for c, k in cost_w.items()], 0.0, INF)

    res = model.solve()
    status = {0: "optimal", 2: "infeasible", 3: "unbounded", 1: "limit"}.get(res.status, "error")
    result = ReferenceResult(status=status, scenarios=[(w.name, w.probability) for w in scenarios])
    if res.x is None:
        return result
    val = res.x
    result.objective = float(res.fun)
    result.x = {key: float(val[col]) for key, col in x.items() if abs(val[col]) > 1e-9}
    result.fixed_cost = sum(coef * val[col] for col, coef in fixed_cols)
    for w, cost_w, shorts, spots in zip(scenarios, scen_cost, short_cols, spot_cols, strict=True):
        result.scenario_cost[w.name] = float(sum(k * val[c] for c, k in cost_w.items()))
        result.shortage[w.name] = float(sum(val[c] for c in shorts))
        result.spot[w.name] = float(sum(val[c] for c in spots))
    return result


def solve_file(path: str | Path) -> ReferenceResult:
    """Load a scenario file with yaml.safe_load and solve it."""
    with open(path, encoding="utf-8") as fh:
        return solve_reference(yaml.safe_load(fh))
