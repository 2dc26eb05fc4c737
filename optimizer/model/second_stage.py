"""The families of DESIGN §4 per scenario, one function each (its algebra in its
docstring): the plan's targets measured in w0, stock before shortage, recourse
variables, spot capacity, calls of reserved capacity and the balance.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.builder import BINARY, EQ, GE, LE, BuiltModel, Complement, ModelBuilder
from optimizer.model.parameters import Parameters


def add_targets(b: ModelBuilder, m: BuiltModel) -> None:
    """Targets in w0: `below[m,t] >= ss[m,t] - inv[m,t,w0]`, `endshort[m] >= E[m] -
    inv[m,P,w0]`, both >= 0; cost `safety_stock_penalty * below + end_stock_penalty *
    endshort` in F."""
    p = m.params
    w0 = m.base
    last = p.periods - 1
    for mi in range(len(p.materials)):
        for t in np.flatnonzero(p.safety_stock[mi] > 0):
            j = b.var(f"below_{mi}_{t + 1}", 0.0)
            m.below[mi, t] = j
            b.cost[j] += float(p.safety_penalty[mi])
            b.row_cols(
                f"ss_{mi}_{t + 1}",
                [j, int(m.inv[w0, mi, t])],
                [1.0, 1.0],
                GE,
                float(p.safety_stock[mi, t]),
            )
        if p.end_stock[mi] > 0:
            j = b.var(f"endshort_{mi}", 0.0)
            m.endshort[mi] = j
            b.cost[j] += float(p.end_penalty[mi])
            b.row_cols(
                f"end_{mi}",
                [j, int(m.inv[w0, mi, last])],
                [1.0, 1.0],
                GE,
                float(p.end_stock[mi]),
            )


def material_cap(p: Parameters, mi: int, t: int | None = None) -> float:
    """`Cap[m]`: initial stock plus inbound plus the material's capacity over the horizon,
    an upper bound of its stock in any period; with `t` (0-based), over periods 1..t+1 only
    (a tighter bound of the stock at the end of period t in w0, where nothing is late)."""
    end = p.periods if t is None else t + 1
    offers = p.offers_of(mi)
    return float(p.initial[mi] + p.inbound[mi, :end].sum() + p.capacity[offers, :end].sum())


def add_stock_before_shortage(b: ModelBuilder, m: BuiltModel, complement: Complement) -> None:
    """Stock before shortage in w0, where the LP optimum broke it: `short <= demand * q`,
    `inv <= Cap[m] * (1 - q)`, q[m,t] binary (complementarity of short and inv); Cap[m] is
    taken over periods 1..t, the tightest valid bound (same optimum, a stronger MILP)."""
    p = m.params
    w0 = m.base
    for mi, t in sorted(complement):
        q = b.var(f"q_{mi}_{t + 1}", cat=BINARY)
        m.q[mi, t] = q
        big = material_cap(p, mi, t)
        b.row_cols(
            f"sbs_short_{mi}_{t + 1}",
            [int(m.short[w0, mi, t]), q],
            [1.0, -float(p.demand[mi, t])],
            LE,
            0.0,
        )
        b.row_cols(
            f"sbs_inv_{mi}_{t + 1}", [int(m.inv[w0, mi, t]), q], [1.0, big], LE, big
        )
        # With q = 1 the stock is 0, so the shortfall below each target is the whole
        # target: valid for every plan of the MILP, and its relaxation prices the rule.
        below = int(m.below[mi, t])
        if below >= 0:
            b.row_cols(
                f"sbs_below_{mi}_{t + 1}",
                [below, q],
                [1.0, -float(p.safety_stock[mi, t])],
                GE,
                0.0,
            )
        end = int(m.endshort[mi])
        if t == p.periods - 1 and end >= 0:
            b.row_cols(
                f"sbs_end_{mi}", [end, q], [1.0, -float(p.end_stock[mi])], GE, 0.0
            )


def add_scenario_variables(b: ModelBuilder, m: BuiltModel, w: int) -> None:
    """`inv >= 0`, `0 <= short <= demand`; `y >= 0` spot buys (`y <= a * capacity`) and `o >= 0`
    calls where r exists, both not in w0 (unless replaying), 0 for t < e[s], and only where
    a shipment due in t arrives within the horizon (t + k <= P)."""
    p = m.params
    out = m.outcomes[w]
    var = b.var
    n_t = p.periods
    demand = p.demand.tolist()
    for mi in range(len(p.materials)):
        for t in range(n_t):
            m.inv[w, mi, t] = var(f"inv_{mi}_{t + 1}_{w}", 0.0)
            m.short[w, mi, t] = var(f"short_{mi}_{t + 1}_{w}", 0.0, demand[mi][t])
    if not (out.spot or m.spot_in_base):
        return
    open_ = (m.x >= 0) & p.delivered(out) & (out.avail > 0)
    o_idx, t_idx = np.nonzero(open_)
    upper = (out.avail[o_idx, t_idx] * p.capacity[o_idx, t_idx]).tolist()
    y, calls, r = m.y[w], m.o[w], m.r
    for o, t, up in zip(o_idx.tolist(), t_idx.tolist(), upper, strict=True):
        if up > 0:
            y[o, t] = var(f"y_{o}_{t + 1}_{w}", 0.0, up)
            if r[o, t] >= 0:
                calls[o, t] = var(f"o_{o}_{t + 1}_{w}", 0.0, up)


def add_spot_capacity(b: ModelBuilder, m: BuiltModel, w: int) -> None:
    """Spot: `a * x + o + y <= a * capacity` (planned, called and spot volume share the
    capacity)."""
    p = m.params
    out = m.outcomes[w]
    row = b.row_cols
    o_idx, t_idx = np.nonzero(m.y[w] >= 0)
    avail = out.avail[o_idx, t_idx].tolist()
    caps = p.capacity[o_idx, t_idx].tolist()
    xs = m.x[o_idx, t_idx].tolist()
    ys = m.y[w][o_idx, t_idx].tolist()
    calls = m.o[w][o_idx, t_idx].tolist()
    m.spot_row[w, o_idx, t_idx] = b.n_rows + np.arange(len(o_idx))
    for o, t, a, cap, xj, yj, oj in zip(
        o_idx.tolist(), t_idx.tolist(), avail, caps, xs, ys, calls, strict=True
    ):
        cols, coefs = ([xj, yj, oj], [a, 1.0, 1.0]) if oj >= 0 else ([xj, yj], [a, 1.0])
        row(f"spot_{o}_{t + 1}_{w}", cols, coefs, LE, a * cap)


def add_calls(b: ModelBuilder, m: BuiltModel, w: int) -> None:
    """Calls: `o[s,m,t,w] <= a * r[s,m,t]` (only reserved capacity can be called)."""
    out = m.outcomes[w]
    row = b.row_cols
    for o, t in zip(*np.nonzero(m.o[w] >= 0), strict=True):
        a = float(out.avail[o, t])
        row(
            f"call_{o}_{t + 1}_{w}",
            [int(m.o[w, o, t]), int(m.r[o, t])],
            [1.0, -a],
            LE,
            0.0,
        )


def add_balance(b: ModelBuilder, m: BuiltModel, w: int) -> None:
    """Balance: `inv[m,t,w] = inv[m,t-1,w] + inbound[m,t] + A[m,t,w] + short[m,t,w]
    - demand[m,t]`, `inv[m,0,w] = initial_inventory`, with arrivals
    `A[m,t,w] = sum_s sum_{t' : t' + k[s,m,t',w] = t} (a*x + o + y)[s,m,t']`."""
    p = m.params
    out = m.outcomes[w]
    row = b.row_cols
    rhs = p.inbound - p.demand
    rhs[:, 0] += p.initial
    rhs_list = rhs.tolist()
    n_t = p.periods
    shift = p.shift(out)
    for mi in range(len(p.materials)):
        inv = m.inv[w, mi].tolist()
        short = m.short[w, mi].tolist()
        cols: list[list[int]] = [[inv[t]] for t in range(n_t)]
        coefs: list[list[float]] = [[1.0] for _ in range(n_t)]
        for t in range(1, n_t):
            cols[t].append(inv[t - 1])
            coefs[t].append(-1.0)
        for o in p.offers_of(mi).tolist():
            xs, ys, calls = m.x[o].tolist(), m.y[w, o].tolist(), m.o[w, o].tolist()
            av, ks = out.avail[o].tolist(), shift[o].tolist()
            for t in range(n_t):
                arrive = t + ks[t]
                if arrive >= n_t:
                    continue  # due in t, arrives after the horizon: not delivered
                if xs[t] >= 0 and av[t] != 0.0:
                    cols[arrive].append(xs[t])
                    coefs[arrive].append(-av[t])
                if ys[t] >= 0:
                    cols[arrive].append(ys[t])
                    coefs[arrive].append(-1.0)
                if calls[t] >= 0:
                    cols[arrive].append(calls[t])
                    coefs[arrive].append(-1.0)
        for t in range(n_t):
            cols[t].append(short[t])
            coefs[t].append(-1.0)
            row(f"bal_{mi}_{t + 1}_{w}", cols[t], coefs[t], EQ, rhs_list[mi][t])
