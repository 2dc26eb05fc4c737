"""The plan's own families of DESIGN §4, one function each (its algebra in its docstring):
planned arrivals and reservations, the share, exposure and risk caps, minimum orders,
fixed costs and the minimum number of suppliers.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.builder import BINARY, EQ, GE, LE, BuiltModel, ModelBuilder, RowInfo


def add_plan_variables(b: ModelBuilder, m: BuiltModel) -> None:
    """`x[s,m,t] >= 0`: planned arrivals; `x <= capacity[s,m,t]`; `x = 0` for `t < e[s]`."""
    p = m.params
    ok = p.deliverable()
    for o, t in zip(*np.nonzero(ok), strict=True):
        m.x[o, t] = b.var(f"x_{o}_{t + 1}", 0.0, float(p.capacity[o, t]))


def add_reservations(b: ModelBuilder, m: BuiltModel) -> None:
    """`r[s,m,t] >= 0`, only for offers with a `reservation_fee`: `x + r <= capacity`;
    `r = 0` for `t < e[s]`; cost `reservation_fee * r` in F."""
    p = m.params
    ok = p.deliverable() & p.reservable[:, None]
    for o, t in zip(*np.nonzero(ok), strict=True):
        cap = float(p.capacity[o, t])
        j = b.var(f"r_{o}_{t + 1}", 0.0, cap)
        m.r[o, t] = j
        b.cost[j] += float(p.reservation_fee[o, t])
        m.cap_row[o, t] = b.n_rows
        b.row_cols(f"cap_{o}_{t + 1}", [int(m.x[o, t]), j], [1.0, 1.0], LE, cap)


def add_fixed_plan(b: ModelBuilder, m: BuiltModel, x_eff: np.ndarray, r_eff: np.ndarray) -> None:
    """Replay: `x = x_eff` and `r = r_eff` (fixed columns, see `replay_arrivals`)."""
    p = m.params
    for o, t in zip(*np.nonzero(p.deliverable()), strict=True):
        q = float(x_eff[o, t])
        m.x[o, t] = b.var(f"x_{o}_{t + 1}", q, q)
        if p.reservable[o]:
            q = float(r_eff[o, t])
            m.r[o, t] = b.var(f"r_{o}_{t + 1}", q, q)


def _totals(b: ModelBuilder, m: BuiltModel, basis: str) -> dict[tuple[int, int], int]:
    """Planned total of each material, per period or over the horizon (auxiliary columns).

    `tot[m] = sum_{s,t} x[s,m,t]` (horizon) or `tot[m,t] = sum_s x[s,m,t]` (period).
    Keyed by (material, period index), period -1 for the horizon.
    """
    key = f"_tot_{basis}"
    cache: dict[tuple[int, int], int] | None = getattr(b, key, None)
    if cache is not None:
        return cache
    p = m.params
    cache = {}
    for mi in range(len(p.materials)):
        cols = m.x[p.offers_of(mi)]
        slices = (
            [(-1, cols[cols >= 0])]
            if basis == "horizon"
            else [(t, cols[:, t][cols[:, t] >= 0]) for t in range(p.periods)]
        )
        for t, xs in slices:
            if xs.size == 0:
                continue
            name = f"tot_{mi}" if t < 0 else f"tot_{mi}_{t + 1}"
            j = b.var(name, 0.0)
            b.row(f"def_{name}", [(j, 1.0), *((int(c), -1.0) for c in xs)], EQ, 0.0)
            cache[(mi, t)] = j
    setattr(b, key, cache)
    return cache


def _cap_rows(
    b: ModelBuilder,
    m: BuiltModel,
    family: str,
    material: int,
    weights: dict[int, float],
    limit: float,
    subject: str,
    policy_path: tuple[str | int, ...],
) -> None:
    """`sum_o weight[o] * x[o,.] <= limit * tot[m,.]` on the policy's basis."""
    p = m.params
    basis = p.scenario.policy.share_basis
    totals = _totals(b, m, basis)
    periods = [-1] if basis == "horizon" else list(range(p.periods))
    for t in periods:
        j_tot = totals.get((material, t))
        if j_tot is None:
            continue
        span = slice(None) if t < 0 else slice(t, t + 1)
        terms = [(int(c), w) for o, w in weights.items() for c in m.x[o, span].ravel() if c >= 0]
        if not terms:
            continue
        name = f"{family}_{material}_{len(b.row_info)}"
        b.row(name, [*terms, (j_tot, -limit)], LE, 0.0)
        b.row_info[name] = RowInfo(
            family,
            p.materials[material],
            subject,
            None if t < 0 else t + 1,
            limit,
            policy_path,
            j_tot,
        )


def add_supplier_share(b: ModelBuilder, m: BuiltModel) -> None:
    """Single source: `sum x[s,m] <= max_share[s] * sum_s' x[s',m]`."""
    p = m.params
    sc = p.scenario
    for o, (sid, _mid) in enumerate(p.offers):
        cap = p.max_share[p.offer_supplier[o]]
        if np.isnan(cap) or cap >= 1.0:
            continue
        own = sc.suppliers[sid].max_share is not None
        path = ("suppliers", sid, "max_share") if own else ("policy", "max_supplier_share")
        mi = int(p.offer_material[o])
        _cap_rows(b, m, "supplier_share", mi, {o: 1.0}, float(cap), sid, path)


def add_country_share(b: ModelBuilder, m: BuiltModel) -> None:
    """Country: `sum_{s in c} x[s,m] <= max_country_share[c] * sum_s x[s,m]`."""
    p = m.params
    caps = p.scenario.policy.max_country_share
    for code in sorted(caps):
        limit = float(caps[code])
        if limit >= 1.0:
            continue
        for mi in range(len(p.materials)):
            offers = [o for o in p.offers_of(mi) if p.country[p.offer_supplier[o]] == code]
            if offers:
                weights = dict.fromkeys((int(o) for o in offers), 1.0)
                path = ("policy", "max_country_share", code)
                _cap_rows(b, m, "country_share", mi, weights, limit, code, path)


def add_country_exposure(b: ModelBuilder, m: BuiltModel) -> None:
    """Exposure: `sum_{s in c or c in controlled_by[s]} x[s,m] <= max_country_exposure[c]
    * sum_s x[s,m]`."""
    p = m.params
    caps = p.scenario.policy.max_country_exposure
    for code in sorted(caps):
        limit = float(caps[code])
        if limit >= 1.0:
            continue
        for mi in range(len(p.materials)):
            offers = [
                o
                for o in p.offers_of(mi)
                if p.country[p.offer_supplier[o]] == code
                or code in p.controlled_by[p.offer_supplier[o]]
            ]
            if offers:
                weights = dict.fromkeys((int(o) for o in offers), 1.0)
                path = ("policy", "max_country_exposure", code)
                _cap_rows(b, m, "country_exposure", mi, weights, limit, code, path)


def add_average_risk(b: ModelBuilder, m: BuiltModel) -> None:
    """Risk: `sum_s risk[s] * x[s,m] <= max_average_risk * sum_s x[s,m]`."""
    p = m.params
    limit = p.scenario.policy.max_average_risk
    if limit is None or limit >= 1.0:
        return
    for mi in range(len(p.materials)):
        offers = p.offers_of(mi)
        weights = {int(o): float(p.risk[p.offer_supplier[o]]) for o in offers}
        _cap_rows(
            b, m, "average_risk", mi, weights, float(limit), "", ("policy", "max_average_risk")
        )


def add_min_order(b: ModelBuilder, m: BuiltModel) -> None:
    """Min order: `min_order * z[s,m,t] <= x[s,m,t] <= capacity * z[s,m,t]`, z binary."""
    p = m.params
    for o, t in zip(*np.nonzero(m.x >= 0), strict=True):
        q = float(p.min_order[o])
        if q <= 0:
            continue
        j = int(m.x[o, t])
        z = b.var(f"z_{o}_{t + 1}", cat=BINARY)
        m.z[o, t] = z
        b.row(f"minord_lo_{o}_{t + 1}", [(j, 1.0), (z, -q)], GE, 0.0)
        b.row(
            f"minord_up_{o}_{t + 1}",
            [(j, 1.0), (z, -float(p.capacity[o, t]))],
            LE,
            0.0,
        )


def add_fixed_cost(b: ModelBuilder, m: BuiltModel) -> None:
    """Fixed cost: `x[s,m,t] + r[s,m,t] <= capacity * u[s]`, u binary, cost
    `fixed_cost * u[s]` (a supplier planned from or reserved at is used)."""
    p = m.params
    for si in range(len(p.suppliers)):
        cost = float(p.fixed_cost[si])
        if cost <= 0:
            continue
        offers = np.flatnonzero(p.offer_supplier == si)
        if not (m.x[offers] >= 0).any():
            continue  # nothing can be planned from it here: no binary needed
        u = b.var(f"u_{si}", cat=BINARY)
        m.u[si] = u
        b.cost[u] += cost
        for o in offers:
            for t in np.flatnonzero(m.x[o] >= 0):
                terms = [(int(m.x[o, t]), 1.0), (u, -float(p.capacity[o, t]))]
                if m.r[o, t] >= 0:
                    terms.append((int(m.r[o, t]), 1.0))
                b.row(f"fixed_{o}_{t + 1}", terms, LE, 0.0)


def add_min_suppliers(b: ModelBuilder, m: BuiltModel) -> None:
    """Min suppliers: `sum_s v[s,m] >= min_suppliers` for every material with demand, and
    `sum_t x[s,m] >= min_supplier_share * sum x[.,m] - Cap[m] * (1 - v[s,m])`."""
    p = m.params
    policy = p.scenario.policy
    k = policy.min_suppliers
    if not k:
        return
    share = float(policy.min_supplier_share)
    totals = _totals(b, m, "horizon")
    for mi in range(len(p.materials)):
        if p.demand[mi].sum() <= 0:
            continue
        offers = p.offers_of(mi)
        big = float(p.capacity[offers].sum())
        j_tot = totals.get((mi, -1))
        vs = []
        for o in offers:
            v = b.var(f"v_{o}", cat=BINARY)
            m.v[o] = v
            vs.append(v)
            xs = [(int(c), 1.0) for c in m.x[o] if c >= 0]
            terms = [*xs, (v, -big)]
            if j_tot is not None:
                terms.append((j_tot, -share))
            b.row(f"minsup_share_{o}", terms, GE, -big)
        b.row(f"minsup_count_{mi}", [(v, 1.0) for v in vs], GE, float(k))
