"""Independent check of a `Plan` against its `Scenario` (DESIGN §6).

Written on purpose without the model's derived arrays: it re-derives landed
costs, delays, earliest arrivals, the scenario set and its availability, price
and delay factors (windows, dates, reach) from the scenario file's fields with
plain loops, then checks the plan's tables (orders, reservations, spot buys
and calls, inventory) against every constraint of §4 and recomputes the
objective. A plan is reported only when this passes.

Longer than 400 lines because it is DESIGN §4 written out again, one function per
family, in the order of §4, so that it can be read against it line by line.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.results.plan import Plan
from optimizer.schema.scenario import BASE_NAME, Effect, Material, Scenario, per_period

REL_TOL = 1e-6  # objective: relative

FEAS_TOL = 1e-6  # constraints: relative to the magnitude of the terms

Key = tuple[str, str, int]  # supplier, material, period


@dataclass
class CheckReport:
    """The outcome of the check: ok, what is violated, and the recomputed objective."""

    ok: bool = True
    violations: list[str] = field(default_factory=list)
    recomputed_objective: float = math.nan

    def fail(self, message: str) -> None:
        """Record a violated constraint."""
        self.ok = False
        if len(self.violations) < 200:
            self.violations.append(message)


def _tol(*magnitudes: float) -> float:
    return FEAS_TOL * max(1.0, *(abs(m) for m in magnitudes))


@dataclass(frozen=True)
class _World:
    name: str
    probability: float
    spot: bool
    effects: tuple[Effect, ...]


def _worlds(sc: Scenario) -> list[_World]:
    """The scenario set of DESIGN §4, derived again from the file's fields."""
    if sc.disruptions:
        rest = 1.0 - math.fsum(d.probability for d in sc.disruptions)
        worlds = [_World(BASE_NAME, max(rest, 0.0), False, ())]
        for d in sc.disruptions:
            worlds.append(_World(d.name, d.probability, True, tuple(d.effects)))
        return worlds
    if not sc.risks:
        return [_World(BASE_NAME, 1.0, False, ())]
    k = len(sc.risks)
    counts: dict[tuple[bool, ...], float] = {}
    if sc.sampling is None:
        for mask in range(2**k):
            hits = tuple(bool(mask >> i & 1) for i in range(k))
            prob = 1.0
            for r, hit in zip(sc.risks, hits, strict=True):
                prob *= r.probability if hit else 1.0 - r.probability
            counts[hits] = prob
    else:
        q = np.array([r.probability for r in sc.risks])
        draws = np.random.default_rng(sc.sampling.seed).random((sc.sampling.scenarios, k)) < q
        for row in draws.tolist():
            counts[tuple(row)] = counts.get(tuple(row), 0.0) + 1.0 / sc.sampling.scenarios
        counts.setdefault((False,) * k, 0.0)  # w0 is always in the model
    worlds = []
    for hits, prob in counts.items():
        names = [r.name for r, hit in zip(sc.risks, hits, strict=True) if hit]
        effects = tuple(e for r, hit in zip(sc.risks, hits, strict=True) if hit for e in r.effects)
        worlds.append(_World("+".join(names) or BASE_NAME, prob, bool(names), effects))
    return worlds


def _period_of(sc: Scenario, date: object) -> int:
    """The period containing a date: floor(days since start / period_days) + 1."""
    start = sc.horizon.start
    assert start is not None
    return math.floor((date - start).days / sc.horizon.period_days) + 1  # type: ignore[operator]


def _window(sc: Scenario, e: Effect) -> range:
    """Periods (1-based) an effect hits, cut to the horizon."""
    periods = sc.horizon.periods
    first = e.from_period if e.from_period is not None else 1
    last = e.to_period if e.to_period is not None else periods
    if e.from_date is not None:
        first = _period_of(sc, e.from_date)
    if e.to_date is not None:
        last = _period_of(sc, e.to_date)
    return range(max(first, 1), min(last, periods) + 1)


def _factors(
    sc: Scenario, world: _World, sup: str, mat: str, periods: int
) -> tuple[list[float], list[float], list[float]]:
    """Availability, price factor and extra delay (days) of an offer in each due period."""
    a = [1.0] * periods
    g = [1.0] * periods
    n = [0.0] * periods
    s = sc.suppliers[sup]
    for e in world.effects:
        if e.supplier is not None and e.supplier != sup:
            continue
        if e.country is not None:
            own = s.country == e.country
            reached = e.reach == "controlled" and e.country in s.controlled_by
            if not (own or reached):
                continue
        if e.materials is not None and mat not in e.materials:
            continue
        for t in _window(sc, e):
            a[t - 1] *= e.availability
            g[t - 1] *= e.price_factor
            n[t - 1] += e.delay_days
    return a, g, n


class _Terms:
    """Per-offer facts derived from the file: landed cost, delay, earliest period, targets."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.periods = sc.horizon.periods
        self.days = sc.horizon.period_days
        self.landed: dict[tuple[str, str], list[float]] = {}
        self.exercise: dict[tuple[str, str], list[float]] = {}
        self.fee: dict[tuple[str, str], list[float] | None] = {}
        self.capacity: dict[tuple[str, str], list[float]] = {}
        self.delay: dict[str, float] = {}
        self.earliest: dict[str, int] = {}
        for sid, sup in sc.suppliers.items():
            tariff = sc.supplier_tariff(sid)
            self.delay[sid] = sup.lead_time_days + sup.license_delay_days
            ready = sup.qualification_days + self.delay[sid]
            self.earliest[sid] = math.floor(ready / self.days) + 1
            for mid, offer in sup.offers.items():
                prices = per_period(offer.price, self.periods)
                self.landed[(sid, mid)] = [pr * (1 + tariff) + sup.freight for pr in prices]
                ex = prices if offer.exercise_price is None else per_period(
                    offer.exercise_price, self.periods
                )
                self.exercise[(sid, mid)] = [pr * (1 + tariff) + sup.freight for pr in ex]
                self.fee[(sid, mid)] = (
                    None
                    if offer.reservation_fee is None
                    else per_period(offer.reservation_fee, self.periods)
                )
                self.capacity[(sid, mid)] = per_period(offer.capacity, self.periods)
        self.safety: dict[str, list[float]] = {}
        self.end: dict[str, float] = {}
        for mid, mat in sc.materials.items():
            demand = per_period(mat.demand, self.periods)
            if mat.safety_stock_days is not None:
                ss = [mat.safety_stock_days * d / self.days for d in demand]
            else:
                ss = [mat.safety_stock or 0.0] * self.periods
            self.safety[mid] = ss
            self.end[mid] = ss[-1] if mat.end_stock is None else mat.end_stock

    def shift(self, sid: str, extra: float) -> int:
        """Periods a shipment of `sid` arrives late with `extra` days of delay."""
        d = self.delay[sid]
        return math.floor((d + extra) / self.days) - math.floor(d / self.days)


def check_plan(
    plan: Plan,
    *,
    replay: bool = False,
    planned: Mapping[Key, float] | None = None,
    reserved: Mapping[Key, float] | None = None,
) -> CheckReport:
    """Check every constraint of DESIGN §4 on the plan and recompute its objective.

    With `replay` the plan is a fixed plan replayed under this scenario (`stress`,
    DESIGN §5), which differs from §4 only in that spot buys and calls are open
    in every scenario, w0 included, and that the plan was not chosen here: no
    policy caps, no min order, and the objective is F + expected cost without a
    CVaR term. `planned` and `reserved` (supplier, material, period -> quantity),
    the plan as ordered, are then checked to stand as `min(planned, capacity)`
    and `min(reserved, capacity - that)` from the earliest arrival period on
    and not at all before.
    """
    sc: Scenario = plan.scenario
    report = CheckReport()
    terms = _Terms(sc)
    x = _check_orders(sc, terms, plan, report, min_order=not replay)
    r = _check_reservations(terms, plan, x, report)
    if replay:
        if planned is not None:
            _check_replayed(terms, planned, reserved or {}, x, r, report)
    else:
        _check_policy(sc, x, report)
    worlds = _worlds(sc)
    if replay:
        worlds = [dataclasses.replace(w, spot=True) for w in worlds]
    _check_worlds(worlds, plan, report)
    costs, base_closing = _check_scenarios(sc, terms, worlds, x, r, plan, report)
    plan_cost = _plan_cost(sc, terms, x, r, base_closing)
    _check_objective(sc, worlds, costs, plan_cost, plan, report, tail=not replay)
    return report


def _check_replayed(
    terms: _Terms,
    planned: Mapping[Key, float],
    reserved: Mapping[Key, float],
    x: dict[Key, float],
    r: dict[Key, float],
    report: CheckReport,
) -> None:
    """Replay: what stands is `min(planned, capacity)` (and `min(reserved, capacity - x)`
    on offers that take reservations) from the earliest period on, else 0."""
    for key in set(planned) | set(x) | set(reserved) | set(r):
        sid, mid, t = key
        cap = terms.capacity.get((sid, mid))
        ok = cap is not None and 1 <= t <= terms.periods and t >= terms.earliest[sid]
        want = min(max(planned.get(key, 0.0), 0.0), cap[t - 1]) if ok and cap else 0.0
        got = x.get(key, 0.0)
        if abs(got - want) > _tol(want):
            report.fail(f"replayed plan {sid}/{mid}/{t}: {got:g} arrives, expected {want:g}")
        takes = ok and cap is not None and terms.fee.get((sid, mid)) is not None
        room = max(cap[t - 1] - want, 0.0) if takes and cap else 0.0
        want_r = min(max(reserved.get(key, 0.0), 0.0), room) if takes else 0.0
        if abs(r.get(key, 0.0) - want_r) > _tol(want_r):
            report.fail(f"replayed reservation {sid}/{mid}/{t}: {r.get(key, 0.0):g}, {want_r:g}")


def _check_orders(
    sc: Scenario, terms: _Terms, plan: Plan, report: CheckReport, *, min_order: bool = True
) -> dict[Key, float]:
    """Capacity, earliest arrival and (unless `min_order` is False) min order of every
    planned arrival."""
    x: dict[Key, float] = defaultdict(float)
    for row in plan.orders.itertuples(index=False):
        sid, mid, t, q = str(row.supplier), str(row.material), int(row.period), float(row.quantity)
        key = (sid, mid)
        if key not in terms.capacity:
            report.fail(f"order from {sid} for {mid}: no such offer")
            continue
        if not 1 <= t <= terms.periods:
            report.fail(f"order {sid}/{mid} in period {t}: outside the horizon")
            continue
        if q < -_tol(q):
            report.fail(f"order {sid}/{mid}/{t}: negative quantity {q}")
        cap = terms.capacity[key][t - 1]
        if q > cap + _tol(cap):
            report.fail(f"capacity: {sid}/{mid} period {t}: {q:g} > {cap:g}")
        if q > 0 and t < terms.earliest[sid]:
            report.fail(
                f"earliest arrival: {sid}/{mid} arrives in period {t}, before {terms.earliest[sid]}"
            )
        moq = sc.suppliers[sid].offers[mid].min_order
        if min_order and 0 < q < moq - _tol(moq):
            report.fail(f"min order: {sid}/{mid} period {t}: {q:g} < {moq:g}")
        x[(sid, mid, t)] += q
    return x


def _check_reservations(
    terms: _Terms, plan: Plan, x: dict[Key, float], report: CheckReport
) -> dict[Key, float]:
    """Reservations only on offers with a fee, from the earliest period on, with
    `x + r <= capacity`."""
    r: dict[Key, float] = defaultdict(float)
    table = plan.reservations
    if table is None or table.empty:
        return r
    for row in table.itertuples(index=False):
        sid, mid, t, q = str(row.supplier), str(row.material), int(row.period), float(row.quantity)
        if terms.fee.get((sid, mid)) is None:
            report.fail(f"reservation {sid}/{mid}: the offer takes no reservations")
            continue
        if not 1 <= t <= terms.periods:
            report.fail(f"reservation {sid}/{mid} in period {t}: outside the horizon")
            continue
        if q < -_tol(q):
            report.fail(f"reservation {sid}/{mid}/{t}: negative quantity {q}")
        if q > 0 and t < terms.earliest[sid]:
            report.fail(f"earliest arrival: reservation {sid}/{mid} in period {t}")
        r[(sid, mid, t)] += q
    for (sid, mid, t), q in r.items():
        cap = terms.capacity[(sid, mid)][t - 1]
        planned = x.get((sid, mid, t), 0.0)
        if planned + q > cap + _tol(cap):
            report.fail(f"capacity: {sid}/{mid} period {t}: {planned:g} + {q:g} reserved > {cap:g}")
    return r


@dataclass(frozen=True)
class Breach:
    """A policy cap a plan breaks: which, for which material (and period), by how much."""

    policy: str  # supplier_share, country_share, country_exposure, average_risk, min_suppliers
    material: str
    subject: str  # supplier id or country code ("" for risk and min suppliers)
    period: int | None  # on the period basis, else None
    limit: float
    actual: float
    path: tuple[str, ...]  # the field that sets the cap

    def __str__(self) -> str:
        where = self.material + (f" period {self.period}" if self.period else "")
        who = f" {self.subject}" if self.subject else ""
        if self.policy == "min_suppliers":
            return (
                f"min suppliers: {where} has {self.actual:g} suppliers at the minimum share, "
                f"needs {self.limit:g}"
            )
        if self.policy == "average_risk":
            return f"average risk: {self.actual:.6g} > {self.limit:g} ({where})"
        name = self.policy.replace("_", " ")
        return f"{name}:{who} {100 * self.actual:.4g}% > {100 * self.limit:.4g}% ({where})"


def policy_breaches(sc: Scenario, x: Mapping[Key, float]) -> list[Breach]:
    """Every policy cap of `sc` that the planned arrivals `x` break (DESIGN §4 "Policy"):
    single-source, country, exposure and risk caps on the plan's basis; min suppliers."""
    pol = sc.policy
    periods = sc.horizon.periods
    windows = [range(1, periods + 1)]
    if pol.share_basis == "period":
        windows = [range(t, t + 1) for t in range(1, periods + 1)]
    out: list[Breach] = []
    for mid in sc.materials:
        offering = [sid for sid, s in sc.suppliers.items() if mid in s.offers]
        for window in windows:
            vol = {sid: sum(x.get((sid, mid, t), 0.0) for t in window) for sid in offering}
            total = sum(vol.values())
            if total <= 0:
                continue
            period = window[0] if len(window) == 1 else None
            for sid, v in vol.items():
                cap = sc.supplier_max_share(sid)
                if cap is not None and v > cap * total + _tol(total):
                    own = sc.suppliers[sid].max_share is not None
                    path = ("suppliers", sid, "max_share") if own else (
                        "policy", "max_supplier_share"
                    )
                    out.append(Breach("supplier_share", mid, sid, period, cap, v / total, path))
            for key, policy in (
                ("max_country_share", "country_share"),
                ("max_country_exposure", "country_exposure"),
            ):
                for code, cap in getattr(pol, key).items():
                    v = sum(
                        vol[s]
                        for s in offering
                        if sc.suppliers[s].country == code
                        or (policy == "country_exposure" and code in sc.suppliers[s].controlled_by)
                    )
                    if v > cap * total + _tol(total):
                        path = ("policy", key, code)
                        out.append(Breach(policy, mid, code, period, cap, v / total, path))
            if pol.max_average_risk is not None:
                risk = sum(sc.supplier_risk(s) * v for s, v in vol.items())
                if risk > pol.max_average_risk * total + _tol(total):
                    limit, path = pol.max_average_risk, ("policy", "max_average_risk")
                    out.append(Breach("average_risk", mid, "", period, limit, risk / total, path))
        k = pol.min_suppliers
        demand = sum(per_period(sc.materials[mid].demand, periods))
        if k and demand > 0:
            vol = {
                sid: sum(x.get((sid, mid, t), 0.0) for t in range(1, periods + 1))
                for sid in offering
            }
            total = sum(vol.values())
            count = sum(
                1 for v in vol.values() if v >= pol.min_supplier_share * total - _tol(total)
            )
            if count < k:
                path = ("policy", "min_suppliers")
                out.append(Breach("min_suppliers", mid, "", None, float(k), float(count), path))
    return out


def _check_policy(sc: Scenario, x: dict[Key, float], report: CheckReport) -> None:
    """Every policy cap on the plan (see `policy_breaches`)."""
    for breach in policy_breaches(sc, x):
        report.fail(str(breach))


def _check_worlds(worlds: list[_World], plan: Plan, report: CheckReport) -> None:
    reported = list(zip(plan.scenarios["scenario"], plan.scenarios["probability"], strict=True))
    mine = [(w.name, w.probability) for w in worlds]
    if sorted(n for n, _ in reported) != sorted(n for n, _ in mine):
        report.fail("the plan's scenario set differs from the file's")
        return
    probs = dict(mine)
    for name, prob in reported:
        if abs(prob - probs[name]) > 1e-9:
            report.fail(f"scenario {name}: probability {prob} instead of {probs[name]}")


def _recourse(plan: Plan) -> tuple[dict[tuple[str, str, str, int], float], ...]:
    """Spot buys and calls of the plan, per (scenario, supplier, material, period)."""
    spot: dict[tuple[str, str, str, int], float] = defaultdict(float)
    calls: dict[tuple[str, str, str, int], float] = defaultdict(float)
    kinds = plan.spot["kind"] if "kind" in plan.spot else ["spot"] * len(plan.spot)
    for row, kind in zip(plan.spot.itertuples(index=False), kinds, strict=True):
        key = (str(row.scenario), str(row.supplier), str(row.material), int(row.period))
        (calls if kind == "call" else spot)[key] += float(row.quantity)
    return spot, calls


def _check_scenarios(
    sc: Scenario,
    terms: _Terms,
    worlds: list[_World],
    x: dict[Key, float],
    r: dict[Key, float],
    plan: Plan,
    report: CheckReport,
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Spot and call capacity, delays, the balance and stock before shortage in every
    scenario; returns C[w] and the closing stock of w0 per material."""
    periods = terms.periods
    premium = 1.0 + sc.spot_premium
    per_day = sc.policy.delay_cost_per_day
    spot, calls = _recourse(plan)
    inv = {
        (str(r.scenario), str(r.material), int(r.period)): r
        for r in plan.inventory.itertuples(index=False)
    }
    offering = {
        mid: [sid for sid, sup in sc.suppliers.items() if mid in sup.offers] for mid in sc.materials
    }
    costs: dict[str, float] = {}
    base_closing: dict[str, list[float]] = {}
    for world in worlds:
        w = world.name
        cost = 0.0
        for mid, mat in sc.materials.items():
            demand = per_period(mat.demand, periods)
            arrive = [0.0] * (periods + 1)
            for sid in offering[mid]:
                a, g, n = _factors(sc, world, sid, mid, periods)
                for t in range(1, periods + 1):
                    key = (w, sid, mid, t)
                    q = x.get((sid, mid, t), 0.0)
                    y, o = spot.get(key, 0.0), calls.get(key, 0.0)
                    cap = terms.capacity[(sid, mid)][t - 1]
                    for what, v in (("spot", y), ("call", o)):
                        if v < -FEAS_TOL * (1.0 + abs(v)):
                            report.fail(f"{what} {w}/{sid}/{mid}/{t}: negative")
                        if v > FEAS_TOL * (1.0 + v) and (
                            not world.spot or t < terms.earliest[sid]
                        ):
                            report.fail(f"{what} {w}/{sid}/{mid}/{t}: not allowed here")
                    room = a[t - 1] * r.get((sid, mid, t), 0.0)
                    if o > room + FEAS_TOL * (1.0 + room):
                        report.fail(f"call {w}/{sid}/{mid}/{t}: {o:g} > {a[t - 1]:g} * reserved")
                    if a[t - 1] * q + o + y > a[t - 1] * cap + FEAS_TOL * (1.0 + cap):
                        report.fail(
                            f"spot capacity {w}/{sid}/{mid}/{t}: "
                            f"{a[t - 1]:g}*{q:g} + {o:g} + {y:g} > {a[t - 1]:g}*{cap:g}"
                        )
                    when = t + terms.shift(sid, n[t - 1])
                    if when > periods:
                        continue  # held past the horizon: neither delivered nor paid
                    arrive[when] += a[t - 1] * q + o + y
                    landed = terms.landed[(sid, mid)][t - 1]
                    delay = per_day * (terms.delay[sid] + n[t - 1])
                    cost += (g[t - 1] * landed + delay) * a[t - 1] * q
                    cost += (terms.exercise[(sid, mid)][t - 1] + delay) * o
                    cost += (g[t - 1] * landed * premium + delay) * y
            closing_w, cost_m = _balance(w, mid, mat, demand, arrive, inv, report)
            cost += cost_m
            if not world.spot or w == BASE_NAME:
                base_closing[mid] = closing_w
        costs[w] = cost
    return costs, base_closing


def _balance(
    w: str,
    mid: str,
    mat: Material,
    demand: list[float],
    arrive: list[float],
    inv: dict[tuple[str, str, int], Any],
    report: CheckReport,
) -> tuple[list[float], float]:
    """Balance, bounds and stock before shortage of one material in one scenario; returns
    the closing stock per period and holding plus shortage cost."""
    periods = len(demand)
    inbound = list(mat.inbound) + [0.0] * (periods - len(mat.inbound))
    prev = float(mat.initial_inventory)
    closing_all: list[float] = []
    cost = 0.0
    for t in range(1, periods + 1):
        row = inv.get((w, mid, t))
        if row is None:
            report.fail(f"inventory row missing: {w}/{mid}/{t}")
            closing_all.append(0.0)
            continue
        closing, short = float(row.closing), float(row.shortage)
        expect = prev + inbound[t - 1] + arrive[t] + short - demand[t - 1]
        scale = 1.0 + abs(prev) + abs(arrive[t]) + abs(demand[t - 1])
        if abs(closing - expect) > FEAS_TOL * scale:
            report.fail(f"balance {w}/{mid}/{t}: closing {closing:g} != {expect:g}")
        if min(closing, short) < -FEAS_TOL * scale:
            report.fail(f"negative stock or shortage {w}/{mid}/{t}")
        if short > demand[t - 1] + FEAS_TOL * scale:
            report.fail(f"shortage {w}/{mid}/{t}: {short:g} > demand {demand[t - 1]:g}")
        tol = FEAS_TOL * max(1.0, demand[t - 1])
        if short > tol and closing > tol:
            report.fail(
                f"stock before shortage {w}/{mid}/{t}: {short:g} short while {closing:g} "
                "is left in stock"
            )
        cost += mat.holding_cost * closing + mat.shortage_cost * short
        closing_all.append(closing)
        prev = closing
    return closing_all, cost


def _plan_cost(
    sc: Scenario,
    terms: _Terms,
    x: dict[Key, float],
    r: dict[Key, float],
    base_closing: dict[str, list[float]],
) -> float:
    """F: fixed costs of suppliers planned from or reserved at, reservation fees, and the
    shortfall below the safety stock and the end stock in w0."""
    used = {sid for (sid, _m, _t), q in x.items() if q > 0}
    used |= {sid for (sid, _m, _t), q in r.items() if q > 0}
    total = sum(sc.suppliers[s].fixed_cost for s in used)
    for (sid, mid, t), q in r.items():
        fee = terms.fee[(sid, mid)]
        total += (fee[t - 1] if fee else 0.0) * q
    for mid, mat in sc.materials.items():
        closing = base_closing.get(mid)
        if not closing:
            continue
        for t, level in enumerate(closing):
            total += mat.penalty_below_safety_stock * max(0.0, terms.safety[mid][t] - level)
        total += mat.penalty_below_end_stock * max(0.0, terms.end[mid] - closing[-1])
    return total


def _check_objective(
    sc: Scenario,
    worlds: list[_World],
    costs: dict[str, float],
    plan_cost: float,
    plan: Plan,
    report: CheckReport,
    *,
    tail: bool = True,
) -> None:
    """Recompute F + sum_w p[w] C[w] (+ the CVaR term of C[w] unless `tail` is False)
    and compare with the reported objective."""
    probs = np.array([w.probability for w in worlds])
    c = np.array([costs[w.name] for w in worlds])
    total = plan_cost + float(probs @ c)
    obj = sc.objective
    if tail and obj.risk_measure == "cvar":
        # CVaR_alpha = min over eta of eta + 1/(1-alpha) sum p max(0, C - eta); the
        # minimum of this convex piecewise-linear function lies at one of the C[w].
        best = min(
            eta + float(probs @ np.maximum(c - eta, 0.0)) / (1.0 - obj.cvar_alpha) for eta in c
        )
        total += obj.cvar_weight * best
    report.recomputed_objective = total
    if abs(total - plan.objective) > REL_TOL * max(1.0, abs(total)):
        report.fail(
            f"objective: the plan's cost recomputed is {total:.10g}, the solver said "
            f"{plan.objective:.10g}"
        )
