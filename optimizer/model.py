"""Scenario parameters -> PuLP problem: the model of DESIGN §4, one function per family.

Variables (names are generated from indices, so any id works):

- `x[o,t]`   planned arrivals of offer o = (s, m) due in period t (first stage)
- `r[o,t]`   capacity reserved (offers with a reservation fee; first stage)
- `below[m,t]`, `endshort[m]` the plan's shortfall below its own targets in w0
- `y[o,t,w]`, `o[o,t,w]` spot buys and calls of reserved capacity in scenario
  w (not in w0, except when replaying a fixed plan: `build_replay`)
- `inv[m,t,w]`, `short[m,t,w]` stock and unmet demand
- `tot[m]` / `tot[m,t]` the planned total of a material (horizon / period), an
  auxiliary that keeps share caps at two non-zeros per term instead of a dense row
- binaries only where asked: `z[o,t]` (min order), `u[s]` (fixed cost), `v[o]`
  (min suppliers), `q[m,t]` (stock before shortage in w0, only where the LP
  optimum broke it); `eta`, `cv[w]` for CVaR

Rows are built with PuLP's fast pattern (`LpAffineExpression` from (variable,
coefficient) pairs, `LpConstraint(expr, sense, name, rhs)`, one `prob.extend`),
and the model keeps its own column and row lists so that the solver hand-off
never has to rescan the problem.
"""

from __future__ import annotations

import dataclasses
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

    family: str  # supplier_share, country_share, country_exposure, average_risk, ...
    material: str
    subject: str  # supplier id, country code, or "" for the risk cap
    period: int | None  # 1-based, None on the horizon basis
    limit: float  # the cap (share or risk score) or the capacity
    policy_path: tuple[str | int, ...]  # field path in the scenario that set the cap
    total: int = -1  # column of the planned total the cap is a share of


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
    r: np.ndarray  # (O, T) column of r (reservations), -1 where none
    y: np.ndarray  # (W, O, T) column of y, -1 where none
    o: np.ndarray  # (W, O, T) column of o (calls of reserved capacity), -1 where none
    inv: np.ndarray  # (W, M, T)
    short: np.ndarray  # (W, M, T)
    below: np.ndarray  # (M, T) shortfall below the safety stock in w0, -1 where no target
    endshort: np.ndarray  # (M,) shortfall below the end stock in w0, -1 where no target
    z: np.ndarray  # (O, T) min-order binaries, -1 where none
    u: np.ndarray  # (S,) fixed-cost binaries, -1 where none
    v: np.ndarray  # (O,) min-supplier binaries, -1 where none
    q: np.ndarray  # (M, T) stock-before-shortage binaries in w0, -1 where none
    eta: int  # CVaR threshold column, -1 without CVaR
    cvar: np.ndarray  # (W,) CVaR excess columns, -1 without CVaR
    spot_row: np.ndarray  # (W, O, T) row of `a*x + o + y <= a*capacity`, -1 where none
    cap_row: np.ndarray  # (O, T) row of `x + r <= capacity`, -1 where none
    base: int = 0  # index of w0 in `outcomes`
    row_info: dict[str, RowInfo] = field(default_factory=dict)
    matrix: MatrixForm | None = None  # the rows as recorded while building
    spot_in_base: bool = False  # replay (stress): spot buys and calls allowed in w0 too

    @property
    def is_mip(self) -> bool:
        """True when the model has binaries."""
        return any((a >= 0).any() for a in (self.z, self.u, self.v, self.q))

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


Complement = frozenset[tuple[int, int]]  # (material, period index) pairs of w0


def build_model(
    params: Parameters, name: str = "sourcing", *, complement: Complement = frozenset()
) -> BuiltModel:
    """Build the whole model of DESIGN §4 for the scenario's outcome set.

    `complement` lists the (material, period) pairs of w0 at which stock
    before shortage is imposed with a binary (`add_stock_before_shortage`).
    """
    enabled = gc.isenabled()
    gc.disable()  # many small objects: the collector only costs time here
    try:
        built = _build(params, params.outcomes, name, complement)
        # The model lives as long as its answer is read; moving its objects out of
        # the collector's reach avoids one full scan of them right after the build.
        gc.freeze()
        return built
    finally:
        if enabled:
            gc.enable()


def _build(
    params: Parameters, outcomes: Sequence[Outcome], name: str, complement: Complement
) -> BuiltModel:
    b = _Builder(name)
    m = _empty_model(b, params, outcomes)
    add_plan_variables(b, m)
    add_reservations(b, m)
    _second_stage(b, m, complement)
    add_supplier_share(b, m)
    add_country_share(b, m)
    add_country_exposure(b, m)
    add_average_risk(b, m)
    add_min_order(b, m)
    add_fixed_cost(b, m)
    add_min_suppliers(b, m)
    add_objective(b, m)
    return _close(b, m)


def _second_stage(b: _Builder, m: BuiltModel, complement: Complement) -> None:
    """Every scenario's recourse and balance, and the plan's own targets in w0."""
    for w in range(len(m.outcomes)):
        add_scenario_variables(b, m, w)
        add_spot_capacity(b, m, w)
        add_calls(b, m, w)
        add_balance(b, m, w)
    add_targets(b, m)
    add_stock_before_shortage(b, m, complement)


def build_replay(
    params: Parameters,
    x_plan: np.ndarray,
    r_plan: np.ndarray | None = None,
    name: str = "replay",
    *,
    complement: Complement = frozenset(),
) -> BuiltModel:
    """A fixed plan replayed under another scenario (DESIGN §5 `stress`).

    `x_plan` and `r_plan` (O, T) are the plan's arrivals and reservations on
    `params`' offers and periods. They stand only where the scenario lets them:
    `x_eff = min(x_plan, capacity)` for `t >= e[s]`, else 0, and
    `r_eff = min(r_plan, capacity - x_eff)` on offers with a reservation fee
    (`replay_arrivals`), as fixed columns (lower = upper). The second stage is
    that of §4 with spot buys and calls open in every scenario, w0 included; no
    policy rows (the plan is fixed, not chosen). Objective: F (the fixed cost of
    the suppliers the replayed plan orders from or reserves at, the fees, and
    the targets measured in this file's w0) plus `sum_w p[w] * C[w]`. Why no
    CVaR term: with the plan fixed the scenarios share no decision, so the
    recourse that minimises each C[w] minimises any tail too.
    """
    b = _Builder(name)
    m = _empty_model(b, params, params.outcomes)
    m.spot_in_base = True
    x_eff, r_eff = replay_arrivals(params, x_plan, r_plan)
    add_fixed_plan(b, m, x_eff, r_eff)
    _second_stage(b, m, complement)
    add_objective(b, m, with_cvar=False)
    used = np.zeros(len(params.suppliers), dtype=bool)
    used[params.offer_supplier[(x_eff + r_eff).sum(axis=1) > 0]] = True
    fees = float((params.reservation_fee * r_eff).sum())
    return _close(b, m, constant=float(params.fixed_cost[used].sum()) + fees)


def replay_arrivals(
    params: Parameters, x_plan: np.ndarray, r_plan: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`x_eff = min(x_plan, capacity)` for `t >= e[s]`, else 0, and `r_eff =
    min(r_plan, capacity - x_eff)` where the offer takes reservations, else 0 (O, T)."""
    ok = params.deliverable()
    x_eff = np.where(ok, np.minimum(np.maximum(x_plan, 0.0), params.capacity), 0.0)
    if r_plan is None:
        return x_eff, np.zeros_like(x_eff)
    room = np.maximum(params.capacity - x_eff, 0.0)
    r_ok = ok & params.reservable[:, None]
    r_eff = np.where(r_ok, np.minimum(np.maximum(r_plan, 0.0), room), 0.0)
    return x_eff, r_eff


def _empty_model(b: _Builder, params: Parameters, outcomes: Sequence[Outcome]) -> BuiltModel:
    """A model with no columns yet: every index array at -1."""
    n_o, n_t = params.capacity.shape
    n_m, n_s, n_w = len(params.materials), len(params.suppliers), len(outcomes)

    def none(*shape: int) -> np.ndarray:
        return np.full(shape, -1, dtype=np.int64)

    base = next((w for w, out in enumerate(outcomes) if out.is_base), 0)
    return BuiltModel(
        prob=b.prob,
        params=params,
        outcomes=tuple(outcomes),
        columns=b.columns,
        row_names=[],
        cost=np.zeros(0),
        x=none(n_o, n_t),
        r=none(n_o, n_t),
        y=none(n_w, n_o, n_t),
        o=none(n_w, n_o, n_t),
        inv=none(n_w, n_m, n_t),
        short=none(n_w, n_m, n_t),
        below=none(n_m, n_t),
        endshort=none(n_m),
        z=none(n_o, n_t),
        u=none(n_s),
        v=none(n_o),
        q=none(n_m, n_t),
        eta=-1,
        cvar=none(n_w),
        spot_row=none(n_w, n_o, n_t),
        cap_row=none(n_o, n_t),
        base=base,
    )


def _close(b: _Builder, m: BuiltModel, constant: float = 0.0) -> BuiltModel:
    """Hand the rows and the objective (plus a constant) to PuLP; keep the recorded matrix."""
    b.prob.extend(b.rows)
    m.row_names = list(b.rows)
    m.row_info = b.row_info
    m.cost = np.asarray(b.cost)
    m.matrix = b.recorded_matrix()
    m.matrix = dataclasses.replace(m.matrix, offset=constant)
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


def add_reservations(b: _Builder, m: BuiltModel) -> None:
    """`r[s,m,t] >= 0`, only for offers with a `reservation_fee`: `x + r <= capacity`;
    `r = 0` for `t < e[s]`; cost `reservation_fee * r` in F."""
    p = m.params
    ok = p.deliverable() & p.reservable[:, None]
    for o, t in zip(*np.nonzero(ok), strict=True):
        cap = float(p.capacity[o, t])
        j = b.var(f"r_{o}_{t + 1}", 0.0, cap)
        m.r[o, t] = j
        b.cost[j] += float(p.reservation_fee[o, t])
        m.cap_row[o, t] = len(b.rows)
        b.row_cols(f"cap_{o}_{t + 1}", [int(m.x[o, t]), j], [1.0, 1.0], LpConstraintLE, cap)


def add_fixed_plan(b: _Builder, m: BuiltModel, x_eff: np.ndarray, r_eff: np.ndarray) -> None:
    """Replay: `x = x_eff` and `r = r_eff` (fixed columns, see `replay_arrivals`)."""
    p = m.params
    for o, t in zip(*np.nonzero(p.deliverable()), strict=True):
        q = float(x_eff[o, t])
        m.x[o, t] = b.var(f"x_{o}_{t + 1}", q, q)
        if p.reservable[o]:
            q = float(r_eff[o, t])
            m.r[o, t] = b.var(f"r_{o}_{t + 1}", q, q)


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
            j_tot,
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


def add_country_exposure(b: _Builder, m: BuiltModel) -> None:
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
        u = b.var(f"u_{si}", cat=LpBinary)
        m.u[si] = u
        b.cost[u] += cost
        for o in offers:
            for t in np.flatnonzero(m.x[o] >= 0):
                terms = [(int(m.x[o, t]), 1.0), (u, -float(p.capacity[o, t]))]
                if m.r[o, t] >= 0:
                    terms.append((int(m.r[o, t]), 1.0))
                b.row(f"fixed_{o}_{t + 1}", terms, LpConstraintLE, 0.0)


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


# --- the plan's own targets, measured in w0 -------------------------------------------


def add_targets(b: _Builder, m: BuiltModel) -> None:
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
                LpConstraintGE,
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
                LpConstraintGE,
                float(p.end_stock[mi]),
            )


def material_cap(p: Parameters, mi: int, t: int | None = None) -> float:
    """`Cap[m]`: initial stock plus inbound plus the material's capacity over the horizon,
    an upper bound of its stock in any period; with `t` (0-based), over periods 1..t+1 only
    (a tighter bound of the stock at the end of period t in w0, where nothing is late)."""
    end = p.periods if t is None else t + 1
    offers = p.offers_of(mi)
    return float(p.initial[mi] + p.inbound[mi, :end].sum() + p.capacity[offers, :end].sum())


def add_stock_before_shortage(b: _Builder, m: BuiltModel, complement: Complement) -> None:
    """Stock before shortage in w0, where the LP optimum broke it: `short <= demand * q`,
    `inv <= Cap[m] * (1 - q)`, q[m,t] binary (complementarity of short and inv); Cap[m] is
    taken over periods 1..t, the tightest valid bound (same optimum, a stronger MILP)."""
    p = m.params
    w0 = m.base
    for mi, t in sorted(complement):
        q = b.var(f"q_{mi}_{t + 1}", cat=LpBinary)
        m.q[mi, t] = q
        big = material_cap(p, mi, t)
        b.row_cols(
            f"sbs_short_{mi}_{t + 1}",
            [int(m.short[w0, mi, t]), q],
            [1.0, -float(p.demand[mi, t])],
            LpConstraintLE,
            0.0,
        )
        b.row_cols(
            f"sbs_inv_{mi}_{t + 1}", [int(m.inv[w0, mi, t]), q], [1.0, big], LpConstraintLE, big
        )


# --- second stage, per scenario w -----------------------------------------------------


def add_scenario_variables(b: _Builder, m: BuiltModel, w: int) -> None:
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


def add_spot_capacity(b: _Builder, m: BuiltModel, w: int) -> None:
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
    m.spot_row[w, o_idx, t_idx] = len(b.rows) + np.arange(len(o_idx))
    for o, t, a, cap, xj, yj, oj in zip(
        o_idx.tolist(), t_idx.tolist(), avail, caps, xs, ys, calls, strict=True
    ):
        cols, coefs = ([xj, yj, oj], [a, 1.0, 1.0]) if oj >= 0 else ([xj, yj], [a, 1.0])
        row(f"spot_{o}_{t + 1}_{w}", cols, coefs, LpConstraintLE, a * cap)


def add_calls(b: _Builder, m: BuiltModel, w: int) -> None:
    """Calls: `o[s,m,t,w] <= a * r[s,m,t]` (only reserved capacity can be called)."""
    out = m.outcomes[w]
    row = b.row_cols
    for o, t in zip(*np.nonzero(m.o[w] >= 0), strict=True):
        a = float(out.avail[o, t])
        row(
            f"call_{o}_{t + 1}_{w}",
            [int(m.o[w, o, t]), int(m.r[o, t])],
            [1.0, -a],
            LpConstraintLE,
            0.0,
        )


def add_balance(b: _Builder, m: BuiltModel, w: int) -> None:
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
            row(f"bal_{mi}_{t + 1}_{w}", cols[t], coefs[t], LpConstraintEQ, rhs_list[mi][t])


# --- costs and objective --------------------------------------------------------------


def scenario_cost_terms(m: BuiltModel, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and coefficients of the cost of scenario w, C[w] of DESIGN §4, over the
    shipments that arrive within the horizon (t + k <= P):

    `C[w] = sum (g*l + delta*(d + N))*a*x + sum (l_ex + delta*(d + N))*o
    + sum (g*l*(1 + spot_premium) + delta*(d + N))*y + sum holding*inv + sum shortage_cost*short`.
    """
    p = m.params
    out = m.outcomes[w]
    delay = p.delay_cost_in(out)
    premium = 1.0 + p.scenario.spot_premium
    gl = out.price * p.landed
    delivered = p.delivered(out)
    parts = [
        (np.where(delivered, m.x, -1), (gl + delay) * out.avail),
        (m.o[w], p.exercise_landed + delay),
        (m.y[w], gl * premium + delay),
        (m.inv[w], np.broadcast_to(p.holding[:, None], m.inv[w].shape)),
        (m.short[w], np.broadcast_to(p.shortage_cost[:, None], m.short[w].shape)),
    ]
    cols = np.concatenate([c[c >= 0] for c, _ in parts])
    coefs = np.concatenate([k[c >= 0] for c, k in parts])
    return cols, coefs


def add_objective(b: _Builder, m: BuiltModel, *, with_cvar: bool = True) -> None:
    """Objective: `F + sum_w p[w] * C[w]` (F, the plan's own cost, is already on its
    columns), plus with `cvar` (unless `with_cvar` is False):
    `cvar_weight * (eta + 1/(1 - cvar_alpha) * sum_w p[w] * u[w])`, `u[w] >= C[w] - eta`,
    `u[w] >= 0`."""
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
