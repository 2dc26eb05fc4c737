"""Scenario parameters -> PuLP problem: the model of DESIGN §4, one function per family.

Variables (names are generated from indices, so any id works):

- `x[o,t]`   planned arrivals of offer o = (s, m) in period t (first stage)
- `y[o,t,w]` spot buys in scenario w (not in w0, except when replaying a fixed
  plan: `build_replay`)
- `inv[m,t,w]`, `short[m,t,w]`, `below[m,t,w]` stock, unmet demand, shortfall
  below the safety stock
- `tot[m]` / `tot[m,t]` the planned total of a material (horizon / period), an
  auxiliary that keeps share caps at two non-zeros per term instead of a dense row
- binaries only where asked: `z[o,t]` (min order), `u[s]` (fixed cost), `v[o]`
  (min suppliers); `eta`, `cv[w]` for CVaR

Rows are built with PuLP's fast pattern (`LpAffineExpression` from (variable,
coefficient) pairs, `LpConstraint(expr, sense, name, rhs)`, one `prob.extend`),
and the model keeps its own column and row lists so that the solver hand-off
never has to rescan the problem.
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pulp import (
    LpAffineExpression,
    LpBinary,
    LpConstraint,
    LpConstraintEQ,
    LpConstraintGE,
    LpConstraintLE,
    LpContinuous,
    LpInteger,
    LpMinimize,
    LpProblem,
    LpVariable,
)

from optimizer.parameters import Outcome, Parameters

INF = float("inf")


@dataclass(frozen=True)
class RowInfo:
    """What a policy or capacity row means, in the scenario's terms (for shadow prices)."""

    family: str  # supplier_share, country_share, average_risk, capacity, ...
    material: str
    subject: str  # supplier id, country code, or "" for the risk cap
    period: int | None  # 1-based, None on the horizon basis
    limit: float  # the cap (share or risk score) or the capacity
    policy_path: tuple[str | int, ...]  # field path in the scenario that set the cap


@dataclass
class BuiltModel:
    """A PuLP problem plus the index arrays that map its columns back to the scenario."""

    prob: LpProblem
    params: Parameters
    outcomes: tuple[Outcome, ...]
    columns: list[LpVariable]
    row_names: list[str]
    cost: np.ndarray  # objective coefficient per column
    x: np.ndarray  # (O, T) column of x, -1 where x is fixed at 0
    y: np.ndarray  # (W, O, T) column of y, -1 where none
    inv: np.ndarray  # (W, M, T)
    short: np.ndarray  # (W, M, T)
    below: np.ndarray  # (W, M, T), -1 where there is no safety stock
    z: np.ndarray  # (O, T) min-order binaries, -1 where none
    u: np.ndarray  # (S,) fixed-cost binaries, -1 where none
    v: np.ndarray  # (O,) min-supplier binaries, -1 where none
    eta: int  # CVaR threshold column, -1 without CVaR
    cvar: np.ndarray  # (W,) CVaR excess columns, -1 without CVaR
    spot_row: np.ndarray  # (W, O, T) row of `a*x + y <= a*capacity`, -1 where none
    row_info: dict[str, RowInfo] = field(default_factory=dict)
    matrix: MatrixForm | None = None  # the rows as recorded while building
    spot_in_base: bool = False  # replay (stress): spot buys allowed in w0 too

    @property
    def is_mip(self) -> bool:
        """True when the model has binaries."""
        return bool((self.z >= 0).any() or (self.u >= 0).any() or (self.v >= 0).any())

    @property
    def kind(self) -> str:
        """Model class: "milp", "two-stage" (LP with several scenarios) or "lp"."""
        if self.is_mip:
            return "milp"
        return "two-stage" if len(self.outcomes) > 1 else "lp"

    def value(self, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Values of an index array of columns (0 where the column is -1)."""
        out = np.where(cols >= 0, values[np.maximum(cols, 0)], 0.0)
        return out


class _Builder:
    """Collects columns, costs and rows; turns them into one PuLP problem.

    While it creates the PuLP rows it also records them as a sparse matrix (in
    the same column and row order), so that handing the model to HiGHS does
    not have to read every PuLP row back (`recorded_matrix`).
    """

    def __init__(self, name: str) -> None:
        self.prob = LpProblem(name, LpMinimize)
        self.columns: list[LpVariable] = []
        self.cost: list[float] = []
        self.rows: dict[str, LpConstraint] = {}
        self.row_info: dict[str, RowInfo] = {}
        # unboxed arrays: a million non-zeros cost 12 MB here, not 60 MB of Python objects
        self.col_low = array("d")
        self.col_up = array("d")
        self.col_int = array("b")
        self.index = array("i")
        self.value = array("d")
        self.start = array("q", [0])
        self.row_low = array("d")
        self.row_up = array("d")

    def var(
        self,
        name: str,
        low: float | None = 0.0,
        up: float | None = None,
        cat: str = LpContinuous,
    ) -> int:
        self.columns.append(self.prob.add_variable(name, low, up, cat))
        self.cost.append(0.0)
        binary = cat == LpBinary
        self.col_low.append(0.0 if binary else -INF if low is None else low)
        self.col_up.append(1.0 if binary else INF if up is None else up)
        self.col_int.append(binary or cat == LpInteger)
        return len(self.columns) - 1

    def row(self, name: str, terms: Iterable[tuple[int, float]], sense: int, rhs: float) -> None:
        pairs = [(j, c) for j, c in terms if c != 0.0]
        self.row_cols(name, [j for j, _ in pairs], [c for _, c in pairs], sense, rhs)

    def row_cols(
        self, name: str, cols: list[int], coefs: list[float], sense: int, rhs: float
    ) -> None:
        """A row from column indices and non-zero coefficients (no repeats): the hot path."""
        expr = LpAffineExpression(zip(map(self.columns.__getitem__, cols), coefs, strict=True))
        self.rows[name] = LpConstraint(expr, sense, name, rhs)
        self.index.extend(cols)
        self.value.extend(coefs)
        self.start.append(len(self.index))
        self.row_low.append(rhs if sense != LpConstraintLE else -INF)
        self.row_up.append(rhs if sense != LpConstraintGE else INF)

    def add_cost(self, cols: np.ndarray, coefs: np.ndarray) -> None:
        cost = self.cost
        for j, c in zip(cols.tolist(), coefs.tolist(), strict=True):
            cost[j] += c

    def recorded_matrix(self) -> MatrixForm:
        """The rows as recorded, in CSR form, with bounds, costs and integrality."""
        return MatrixForm(
            cost=np.asarray(self.cost, dtype=float),
            col_lower=np.frombuffer(self.col_low, dtype=np.float64),
            col_upper=np.frombuffer(self.col_up, dtype=np.float64),
            integer=np.frombuffer(self.col_int, dtype=np.int8).astype(bool),
            row_lower=np.frombuffer(self.row_low, dtype=np.float64),
            row_upper=np.frombuffer(self.row_up, dtype=np.float64),
            start=np.frombuffer(self.start, dtype=np.int64),
            index=np.frombuffer(self.index, dtype=np.int32),
            value=np.frombuffer(self.value, dtype=np.float64),
        )


@dataclass(frozen=True)
class MatrixForm:
    """A model as arrays: costs, bounds, integrality and the rows in CSR form, in the
    model's column and row order (what is handed to HiGHS)."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    offset: float = 0.0  # constant term of the objective

    @property
    def nnz(self) -> int:
        """Number of non-zeros of the constraint matrix."""
        return int(self.value.size)


def build_model(params: Parameters, name: str = "sourcing") -> BuiltModel:
    """Build the whole model of DESIGN §4 for the scenario's outcome set."""
    enabled = gc.isenabled()
    gc.disable()  # many small objects: the collector only costs time here
    try:
        built = _build(params, params.outcomes, name)
        # The model lives as long as its answer is read; moving its objects out of
        # the collector's reach avoids one full scan of them right after the build.
        gc.freeze()
        return built
    finally:
        if enabled:
            gc.enable()


def _build(params: Parameters, outcomes: Sequence[Outcome], name: str) -> BuiltModel:
    b = _Builder(name)
    m = _empty_model(b, params, outcomes)
    add_plan_variables(b, m)
    for w in range(len(m.outcomes)):
        add_scenario_variables(b, m, w)
        add_spot_capacity(b, m, w)
        add_balance(b, m, w)
        add_safety_stock(b, m, w)
    add_supplier_share(b, m)
    add_country_share(b, m)
    add_average_risk(b, m)
    add_min_order(b, m)
    add_fixed_cost(b, m)
    add_min_suppliers(b, m)
    add_objective(b, m)
    return _close(b, m)


def build_replay(params: Parameters, x_plan: np.ndarray, name: str = "replay") -> BuiltModel:
    """A fixed plan replayed under another scenario (DESIGN §5 `stress`).

    `x_plan` (O, T) is the plan on `params`' offers and periods. It arrives only
    where the scenario lets it: `x_eff = min(x_plan, capacity)` for `t >= e[s]`,
    else 0 (`replay_arrivals`), as fixed columns (lower = upper = x_eff). The
    second stage is that of §4 with spot buys open in every scenario, w0
    included; no policy rows (the plan is fixed, not chosen). Objective: the
    fixed cost of the suppliers the replayed plan orders from (a constant) plus
    `sum_w p[w] * C[w]`. Why no CVaR term: with x fixed the scenarios share no
    decision, so the recourse that minimises each C[w] minimises any tail too.
    """
    b = _Builder(name)
    m = _empty_model(b, params, params.outcomes)
    m.spot_in_base = True
    add_fixed_plan(b, m, x_plan)
    for w in range(len(m.outcomes)):
        add_scenario_variables(b, m, w)
        add_spot_capacity(b, m, w)
        add_balance(b, m, w)
        add_safety_stock(b, m, w)
    add_objective(b, m, with_cvar=False)
    x_eff = replay_arrivals(params, x_plan)
    used = np.zeros(len(params.suppliers), dtype=bool)
    used[params.offer_supplier[x_eff.sum(axis=1) > 0]] = True
    return _close(b, m, constant=float(params.fixed_cost[used].sum()))


def replay_arrivals(params: Parameters, x_plan: np.ndarray) -> np.ndarray:
    """`x_eff[s,m,t] = min(x_plan, capacity)` for `t >= e[s]`, else 0 (O, T)."""
    clipped = np.minimum(np.maximum(x_plan, 0.0), params.capacity)
    return np.where(params.deliverable(), clipped, 0.0)


def _empty_model(b: _Builder, params: Parameters, outcomes: Sequence[Outcome]) -> BuiltModel:
    """A model with no columns yet: every index array at -1."""
    n_o, n_t = params.capacity.shape
    n_m, n_s, n_w = len(params.materials), len(params.suppliers), len(outcomes)
    m = BuiltModel(
        prob=b.prob,
        params=params,
        outcomes=tuple(outcomes),
        columns=b.columns,
        row_names=[],
        cost=np.zeros(0),
        x=np.full((n_o, n_t), -1, dtype=np.int64),
        y=np.full((n_w, n_o, n_t), -1, dtype=np.int64),
        inv=np.full((n_w, n_m, n_t), -1, dtype=np.int64),
        short=np.full((n_w, n_m, n_t), -1, dtype=np.int64),
        below=np.full((n_w, n_m, n_t), -1, dtype=np.int64),
        z=np.full((n_o, n_t), -1, dtype=np.int64),
        u=np.full(n_s, -1, dtype=np.int64),
        v=np.full(n_o, -1, dtype=np.int64),
        eta=-1,
        cvar=np.full(n_w, -1, dtype=np.int64),
        spot_row=np.full((n_w, n_o, n_t), -1, dtype=np.int64),
    )
    return m


def _close(b: _Builder, m: BuiltModel, constant: float = 0.0) -> BuiltModel:
    """Hand the rows and the objective (plus a constant) to PuLP; keep the recorded matrix."""
    b.prob.extend(b.rows)
    m.row_names = list(b.rows)
    m.row_info = b.row_info
    m.cost = np.asarray(b.cost)
    m.matrix = b.recorded_matrix()
    b.prob.setObjective(
        LpAffineExpression(
            [(b.columns[j], c) for j, c in enumerate(b.cost) if c != 0.0], constant=constant
        )
    )
    return m


# --- first stage ----------------------------------------------------------------------


def add_plan_variables(b: _Builder, m: BuiltModel) -> None:
    """`x[s,m,t] >= 0`: planned arrivals; `x <= capacity[s,m,t]`; `x = 0` for `t < e[s]`."""
    p = m.params
    ok = p.deliverable()
    for o, t in zip(*np.nonzero(ok), strict=True):
        m.x[o, t] = b.var(f"x_{o}_{t + 1}", 0.0, float(p.capacity[o, t]))


def add_fixed_plan(b: _Builder, m: BuiltModel, x_plan: np.ndarray) -> None:
    """Replay: `x[s,m,t] = x_eff = min(x_plan, capacity)` for `t >= e[s]` (fixed), else 0."""
    x_eff = replay_arrivals(m.params, x_plan)
    for o, t in zip(*np.nonzero(m.params.deliverable()), strict=True):
        q = float(x_eff[o, t])
        m.x[o, t] = b.var(f"x_{o}_{t + 1}", q, q)


def _totals(b: _Builder, m: BuiltModel, basis: str) -> dict[tuple[int, int], int]:
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
            b.row(f"def_{name}", [(j, 1.0), *((int(c), -1.0) for c in xs)], LpConstraintEQ, 0.0)
            cache[(mi, t)] = j
    setattr(b, key, cache)
    return cache


def _cap_rows(
    b: _Builder,
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
        b.row(name, [*terms, (j_tot, -limit)], LpConstraintLE, 0.0)
        b.row_info[name] = RowInfo(
            family,
            p.materials[material],
            subject,
            None if t < 0 else t + 1,
            limit,
            policy_path,
        )


def add_supplier_share(b: _Builder, m: BuiltModel) -> None:
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


def add_country_share(b: _Builder, m: BuiltModel) -> None:
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


def add_average_risk(b: _Builder, m: BuiltModel) -> None:
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


def add_min_order(b: _Builder, m: BuiltModel) -> None:
    """Min order: `min_order * z[s,m,t] <= x[s,m,t] <= capacity * z[s,m,t]`, z binary."""
    p = m.params
    for o, t in zip(*np.nonzero(m.x >= 0), strict=True):
        q = float(p.min_order[o])
        if q <= 0:
            continue
        j = int(m.x[o, t])
        z = b.var(f"z_{o}_{t + 1}", cat=LpBinary)
        m.z[o, t] = z
        b.row(f"minord_lo_{o}_{t + 1}", [(j, 1.0), (z, -q)], LpConstraintGE, 0.0)
        b.row(
            f"minord_up_{o}_{t + 1}",
            [(j, 1.0), (z, -float(p.capacity[o, t]))],
            LpConstraintLE,
            0.0,
        )


def add_fixed_cost(b: _Builder, m: BuiltModel) -> None:
    """Fixed cost: `x[s,m,t] <= capacity * u[s]`, u binary, cost `fixed_cost * u[s]`."""
    p = m.params
    for si in range(len(p.suppliers)):
        cost = float(p.fixed_cost[si])
        if cost <= 0:
            continue
        offers = np.flatnonzero(p.offer_supplier == si)
        if not (m.x[offers] >= 0).any():
            continue  # nothing can be planned from it here: no binary needed
        u = b.var(f"u_{si}", cat=LpBinary)
        m.u[si] = u
        b.cost[u] += cost
        for o in offers:
            for t in np.flatnonzero(m.x[o] >= 0):
                b.row(
                    f"fixed_{o}_{t + 1}",
                    [(int(m.x[o, t]), 1.0), (u, -float(p.capacity[o, t]))],
                    LpConstraintLE,
                    0.0,
                )


def add_min_suppliers(b: _Builder, m: BuiltModel) -> None:
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
            v = b.var(f"v_{o}", cat=LpBinary)
            m.v[o] = v
            vs.append(v)
            xs = [(int(c), 1.0) for c in m.x[o] if c >= 0]
            terms = [*xs, (v, -big)]
            if j_tot is not None:
                terms.append((j_tot, -share))
            b.row(f"minsup_share_{o}", terms, LpConstraintGE, -big)
        b.row(f"minsup_count_{mi}", [(v, 1.0) for v in vs], LpConstraintGE, float(k))


# --- second stage, per scenario w -----------------------------------------------------


def add_scenario_variables(b: _Builder, m: BuiltModel, w: int) -> None:
    """`y[s,m,t,w] >= 0` (not in w0 unless replaying, and y = 0 for t < e[s]);
    `inv, short, below >= 0`."""
    p = m.params
    out = m.outcomes[w]
    var = b.var
    n_t = p.periods
    for mi in range(len(p.materials)):
        with_below = p.safety_stock[mi] > 0
        for t in range(n_t):
            m.inv[w, mi, t] = var(f"inv_{mi}_{t + 1}_{w}", 0.0)
            m.short[w, mi, t] = var(f"short_{mi}_{t + 1}_{w}", 0.0)
            if with_below:
                m.below[w, mi, t] = var(f"below_{mi}_{t + 1}_{w}", 0.0)
    if not (out.spot or m.spot_in_base):
        return
    o_idx, t_idx = np.nonzero(m.x >= 0)
    upper = (out.avail[o_idx, t_idx] * p.capacity[o_idx, t_idx]).tolist()
    y = m.y[w]
    for o, t, up in zip(o_idx.tolist(), t_idx.tolist(), upper, strict=True):
        if up > 0:
            y[o, t] = var(f"y_{o}_{t + 1}_{w}", 0.0, up)


def add_spot_capacity(b: _Builder, m: BuiltModel, w: int) -> None:
    """Spot: `a * x + y <= a * capacity` (planned and spot volume share the capacity)."""
    p = m.params
    out = m.outcomes[w]
    row = b.row_cols
    o_idx, t_idx = np.nonzero(m.y[w] >= 0)
    avail = out.avail[o_idx, t_idx].tolist()
    caps = p.capacity[o_idx, t_idx].tolist()
    xs = m.x[o_idx, t_idx].tolist()
    ys = m.y[w][o_idx, t_idx].tolist()
    m.spot_row[w, o_idx, t_idx] = len(b.rows) + np.arange(len(o_idx))
    for o, t, a, cap, xj, yj in zip(
        o_idx.tolist(), t_idx.tolist(), avail, caps, xs, ys, strict=True
    ):
        row(f"spot_{o}_{t + 1}_{w}", [xj, yj], [a, 1.0], LpConstraintLE, a * cap)


def add_balance(b: _Builder, m: BuiltModel, w: int) -> None:
    """Balance: `inv[m,t,w] = inv[m,t-1,w] + inbound[m,t] + sum_s (a*x + y) + short[m,t,w]
    - demand[m,t]`, with `inv[m,0,w] = initial_inventory`."""
    p = m.params
    out = m.outcomes[w]
    row = b.row_cols
    rhs = p.inbound - p.demand
    rhs[:, 0] += p.initial
    rhs_list = rhs.tolist()
    for mi in range(len(p.materials)):
        offers = p.offers_of(mi)
        xs = m.x[offers].T.tolist()  # per period: x column of each offer
        ys = m.y[w][offers].T.tolist()
        av = out.avail[offers].T.tolist()
        inv = m.inv[w, mi].tolist()
        short = m.short[w, mi].tolist()
        for t in range(p.periods):
            cols = [inv[t]]
            coefs = [1.0]
            if t > 0:
                cols.append(inv[t - 1])
                coefs.append(-1.0)
            for xj, yj, a in zip(xs[t], ys[t], av[t], strict=True):
                if xj >= 0 and a != 0.0:
                    cols.append(xj)
                    coefs.append(-a)
                if yj >= 0:
                    cols.append(yj)
                    coefs.append(-1.0)
            cols.append(short[t])
            coefs.append(-1.0)
            row(f"bal_{mi}_{t + 1}_{w}", cols, coefs, LpConstraintEQ, rhs_list[mi][t])


def add_safety_stock(b: _Builder, m: BuiltModel, w: int) -> None:
    """Safety stock: `below[m,t,w] >= safety_stock[m] - inv[m,t,w]`."""
    p = m.params
    for mi in range(len(p.materials)):
        ss = float(p.safety_stock[mi])
        if ss <= 0:
            continue
        for t in range(p.periods):
            b.row(
                f"ss_{mi}_{t + 1}_{w}",
                [(int(m.below[w, mi, t]), 1.0), (int(m.inv[w, mi, t]), 1.0)],
                LpConstraintGE,
                ss,
            )


# --- costs and objective --------------------------------------------------------------


def scenario_cost_terms(m: BuiltModel, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and coefficients of the cost of scenario w, C[w] of DESIGN §4.

    `C[w] = sum (g*l + delay_cost_per_day*d)*a*x + sum (g*l*(1 + spot_premium) + delay*d)*y
    + sum holding*inv + sum shortage_cost*short + sum safety_stock_penalty*below`.
    """
    p = m.params
    out = m.outcomes[w]
    delay = p.delay_cost[:, None]
    premium = 1.0 + p.scenario.spot_premium
    gl = out.price * p.landed
    parts = [
        (m.x, (gl + delay) * out.avail),
        (m.y[w], gl * premium + delay),
        (m.inv[w], np.broadcast_to(p.holding[:, None], m.inv[w].shape)),
        (m.short[w], np.broadcast_to(p.shortage_cost[:, None], m.short[w].shape)),
        (m.below[w], np.broadcast_to(p.safety_penalty[:, None], m.below[w].shape)),
    ]
    cols = np.concatenate([c[c >= 0] for c, _ in parts])
    coefs = np.concatenate([k[c >= 0] for c, k in parts])
    return cols, coefs


def add_objective(b: _Builder, m: BuiltModel, *, with_cvar: bool = True) -> None:
    """Objective: `fixed costs + sum_w p[w] * C[w]`, plus with `cvar` (unless `with_cvar`
    is False): `cvar_weight * (eta + 1/(1 - cvar_alpha) * sum_w p[w] * u[w])`,
    `u[w] >= C[w] - eta`, `u[w] >= 0`."""
    objective = m.params.scenario.objective
    cvar = with_cvar and objective.risk_measure == "cvar"
    if cvar:
        m.eta = b.var("eta", None, None)
        b.cost[m.eta] += objective.cvar_weight
    for w, out in enumerate(m.outcomes):
        cols, coefs = scenario_cost_terms(m, w)
        b.add_cost(cols, out.probability * coefs)
        if cvar:
            j = b.var(f"cv_{w}", 0.0)
            m.cvar[w] = j
            weight = objective.cvar_weight * out.probability / (1.0 - objective.cvar_alpha)
            b.cost[j] += weight
            terms = [(j, 1.0), (m.eta, 1.0), *zip(cols.tolist(), (-coefs).tolist(), strict=True)]
            b.row(f"cvar_{w}", terms, LpConstraintGE, 0.0)
