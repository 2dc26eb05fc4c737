"""Independent check of a `Plan` against its `Scenario` (DESIGN §6).

Written on purpose without the model's derived arrays: it re-derives landed
costs, earliest arrivals, the scenario set and its availability and price
factors from the scenario file's fields with plain loops, then checks the
plan's tables (orders, spot buys, inventory) against every constraint of §4
and recomputes the objective. A plan is reported only when this passes.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from optimizer.plan import Plan
from optimizer.scenario import BASE_NAME, Effect, Scenario, per_period

REL_TOL = 1e-6  # objective: relative
FEAS_TOL = 1e-6  # constraints: relative to the magnitude of the terms


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
    worlds = []
    for hits, prob in counts.items():
        names = [r.name for r, hit in zip(sc.risks, hits, strict=True) if hit]
        effects = tuple(e for r, hit in zip(sc.risks, hits, strict=True) if hit for e in r.effects)
        worlds.append(_World("+".join(names) or BASE_NAME, prob, bool(names), effects))
    return worlds


def _factors(
    sc: Scenario, world: _World, sup: str, mat: str, periods: int
) -> tuple[list[float], list[float]]:
    """Availability and price factor of an offer in each period of a world."""
    a = [1.0] * periods
    g = [1.0] * periods
    country = sc.suppliers[sup].country
    for e in world.effects:
        if e.supplier is not None and e.supplier != sup:
            continue
        if e.country is not None and e.country != country:
            continue
        if e.materials is not None and mat not in e.materials:
            continue
        last = e.to_period if e.to_period is not None else periods
        for t in range(e.from_period - 1, last):
            a[t] *= e.availability
            g[t] *= e.price_factor
    return a, g


class _Terms:
    """Per-offer facts derived from the file: landed cost, delay, earliest period."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.periods = sc.horizon.periods
        self.landed: dict[tuple[str, str], list[float]] = {}
        self.capacity: dict[tuple[str, str], list[float]] = {}
        self.delay: dict[str, float] = {}
        self.earliest: dict[str, int] = {}
        for sid, sup in sc.suppliers.items():
            tariff = sc.supplier_tariff(sid)
            self.delay[sid] = sup.lead_time_days + sup.license_delay_days
            self.earliest[sid] = math.floor(self.delay[sid] / sc.horizon.period_days) + 1
            for mid, offer in sup.offers.items():
                prices = per_period(offer.price, self.periods)
                self.landed[(sid, mid)] = [pr * (1 + tariff) + sup.freight for pr in prices]
                self.capacity[(sid, mid)] = per_period(offer.capacity, self.periods)


def check_plan(
    plan: Plan,
    *,
    replay: bool = False,
    planned: Mapping[tuple[str, str, int], float] | None = None,
) -> CheckReport:
    """Check every constraint of DESIGN §4 on the plan and recompute its objective.

    With `replay` the plan is a fixed plan replayed under this scenario (`stress`,
    DESIGN §5), which differs from §4 only in that spot buys are open in every
    scenario, w0 included, and that the plan was not chosen here: no policy
    caps, no min order, and the objective is fixed + expected cost without a
    CVaR term. `planned` (supplier, material, period -> quantity), the plan as
    ordered, is then checked to arrive as `min(planned, capacity)` from the
    earliest arrival period on and not at all before.
    """
    sc: Scenario = plan.scenario
    report = CheckReport()
    terms = _Terms(sc)
    x = _check_orders(sc, terms, plan, report, min_order=not replay)
    if replay:
        if planned is not None:
            _check_replayed(terms, planned, x, report)
    else:
        _check_policy(sc, x, report)
    worlds = _worlds(sc)
    if replay:
        worlds = [dataclasses.replace(w, spot=True) for w in worlds]
    _check_worlds(worlds, plan, report)
    costs = _check_scenarios(sc, terms, worlds, x, plan, report)
    _check_objective(sc, x, worlds, costs, plan, report, tail=not replay)
    return report


def _check_replayed(
    terms: _Terms,
    planned: Mapping[tuple[str, str, int], float],
    x: dict[tuple[str, str, int], float],
    report: CheckReport,
) -> None:
    """Replay: what arrives is `min(planned, capacity)` from the earliest period on, else 0."""
    for key in set(planned) | set(x):
        sid, mid, t = key
        cap = terms.capacity.get((sid, mid))
        ok = cap is not None and 1 <= t <= terms.periods and t >= terms.earliest[sid]
        want = min(max(planned.get(key, 0.0), 0.0), cap[t - 1]) if ok and cap else 0.0
        got = x.get(key, 0.0)
        if abs(got - want) > _tol(want):
            report.fail(f"replayed plan {sid}/{mid}/{t}: {got:g} arrives, expected {want:g}")


def _check_orders(
    sc: Scenario, terms: _Terms, plan: Plan, report: CheckReport, *, min_order: bool = True
) -> dict[tuple[str, str, int], float]:
    """Capacity, earliest arrival and (unless `min_order` is False) min order of every
    planned arrival."""
    x: dict[tuple[str, str, int], float] = defaultdict(float)
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


def _check_policy(sc: Scenario, x: dict[tuple[str, str, int], float], report: CheckReport) -> None:
    """Single-source, country and risk caps on the plan's basis; min suppliers."""
    pol = sc.policy
    periods = sc.horizon.periods
    windows = [range(1, periods + 1)]
    if pol.share_basis == "period":
        windows = [range(t, t + 1) for t in range(1, periods + 1)]
    for mid in sc.materials:
        offering = [sid for sid, s in sc.suppliers.items() if mid in s.offers]
        for window in windows:
            vol = {sid: sum(x.get((sid, mid, t), 0.0) for t in window) for sid in offering}
            total = sum(vol.values())
            where = f"{mid}" + (f" period {window[0]}" if len(window) == 1 else "")
            for sid, v in vol.items():
                cap = sc.supplier_max_share(sid)
                if cap is not None and v > cap * total + _tol(total):
                    report.fail(f"supplier share: {sid} {v:g} of {total:g} > {cap:g} ({where})")
            for code, cap in pol.max_country_share.items():
                v = sum(vol[s] for s in offering if sc.suppliers[s].country == code)
                if v > cap * total + _tol(total):
                    report.fail(f"country share: {code} {v:g} of {total:g} > {cap:g} ({where})")
            if pol.max_average_risk is not None and total > 0:
                risk = sum(sc.supplier_risk(s) * v for s, v in vol.items())
                if risk > pol.max_average_risk * total + _tol(total):
                    report.fail(
                        f"average risk: {risk / total:.6g} > {pol.max_average_risk:g} ({where})"
                    )
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
                report.fail(
                    f"min suppliers: {mid} has {count} suppliers at the minimum share, needs {k}"
                )


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


def _check_scenarios(
    sc: Scenario,
    terms: _Terms,
    worlds: list[_World],
    x: dict[tuple[str, str, int], float],
    plan: Plan,
    report: CheckReport,
) -> dict[str, float]:
    """Spot capacity and the inventory balance in every scenario; returns C[w]."""
    periods = terms.periods
    premium = 1.0 + sc.spot_premium
    per_day = sc.policy.delay_cost_per_day
    spot: dict[tuple[str, str, str, int], float] = defaultdict(float)
    for row in plan.spot.itertuples(index=False):
        spot[(str(row.scenario), str(row.supplier), str(row.material), int(row.period))] += float(
            row.quantity
        )
    inv = {
        (str(r.scenario), str(r.material), int(r.period)): r
        for r in plan.inventory.itertuples(index=False)
    }
    offering = {
        mid: [sid for sid, sup in sc.suppliers.items() if mid in sup.offers] for mid in sc.materials
    }
    costs: dict[str, float] = {}
    for world in worlds:
        w = world.name
        cost = 0.0
        for mid, mat in sc.materials.items():
            factors = {sid: _factors(sc, world, sid, mid, periods) for sid in offering[mid]}
            demand = per_period(mat.demand, periods)
            inbound = list(mat.inbound) + [0.0] * (periods - len(mat.inbound))
            ss = mat.safety_stock
            prev = mat.initial_inventory
            for t in range(1, periods + 1):
                arrived = 0.0
                for sid in offering[mid]:
                    a, g = factors[sid][0][t - 1], factors[sid][1][t - 1]
                    q = x.get((sid, mid, t), 0.0)
                    y = spot.get((w, sid, mid, t), 0.0)
                    cap = terms.capacity[(sid, mid)][t - 1]
                    if y:
                        if y < -FEAS_TOL * (1.0 + abs(y)):
                            report.fail(f"spot {w}/{sid}/{mid}/{t}: negative")
                        if y > FEAS_TOL * (1.0 + y) and (
                            not world.spot or t < terms.earliest[sid]
                        ):
                            report.fail(f"spot {w}/{sid}/{mid}/{t}: not allowed here")
                    if a * q + y > a * cap + FEAS_TOL * (1.0 + cap):
                        report.fail(
                            f"spot capacity {w}/{sid}/{mid}/{t}: "
                            f"{a:g}*{q:g} + {y:g} > {a:g}*{cap:g}"
                        )
                    arrived += a * q + y
                    landed = terms.landed[(sid, mid)][t - 1]
                    delay = per_day * terms.delay[sid]
                    cost += (g * landed + delay) * a * q + (g * landed * premium + delay) * y
                row = inv.get((w, mid, t))
                if row is None:
                    report.fail(f"inventory row missing: {w}/{mid}/{t}")
                    continue
                closing, short = float(row.closing), float(row.shortage)
                below = float(row.below_safety_stock)
                expect = prev + inbound[t - 1] + arrived + short - demand[t - 1]
                scale = 1.0 + abs(prev) + abs(arrived) + abs(demand[t - 1])
                if abs(closing - expect) > FEAS_TOL * scale:
                    report.fail(f"balance {w}/{mid}/{t}: closing {closing:g} != {expect:g}")
                if min(closing, short, below) < -FEAS_TOL * scale:
                    report.fail(f"negative stock, shortage or shortfall {w}/{mid}/{t}")
                if below < ss - closing - FEAS_TOL * (scale + ss):
                    report.fail(
                        f"safety stock {w}/{mid}/{t}: shortfall {below:g} < {ss - closing:g}"
                    )
                cost += mat.holding_cost * closing + mat.shortage_cost * short
                cost += mat.penalty_below_safety_stock * below
                prev = closing
        costs[w] = cost
    return costs


def _check_objective(
    sc: Scenario,
    x: dict[tuple[str, str, int], float],
    worlds: list[_World],
    costs: dict[str, float],
    plan: Plan,
    report: CheckReport,
    *,
    tail: bool = True,
) -> None:
    """Recompute fixed + sum_w p[w] C[w] (+ CVaR unless `tail` is False) and compare with
    the reported objective."""
    used = {sid for (sid, _m, _t), q in x.items() if q > 0}
    fixed = sum(sc.suppliers[s].fixed_cost for s in used)
    probs = np.array([w.probability for w in worlds])
    c = np.array([costs[w.name] for w in worlds])
    total = fixed + float(probs @ c)
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
