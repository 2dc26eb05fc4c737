"""Shadow prices in the scenario's terms: what one more point of a cap, or one more
unit of capacity, is worth, and over what range that value holds.

For a cap row `sum_o w[o] * x[o] - limit * tot <= 0` with dual `pi` (the change
of the objective per unit of right-hand side), raising `limit` by d relaxes
the row by d * tot, so the objective changes by `pi * tot` per unit of the
limit: one more percentage point of China allowed saves `-pi * tot / 100`.
The value holds while the row's right-hand side stays within its ranging
interval (the optimal basis stays), i.e. for limits within `limit + [low, high] / tot`.

Capacity of an offer in a period enters as the upper bound of `x`, in the row
`x + r <= capacity` of an offer that takes reservations and, scaled by the
availability a, in the right-hand side of every scenario's spot row
`a * x + o + y <= a * capacity` (and y's bound): its value is the reduced cost
of x plus the duals of those rows and bounds. Its range is that of changing
them all together (`Ranging.step` along that direction of the optimal basis):
the capacity interval over which the value holds exactly.

For MILPs the duals are those of the LP with the yes/no decisions fixed at
the plan's values (the usual practice), and the table says so. The rows are
read from the model's own recorded matrix and row metadata, never from PuLP's
internals.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimizer.model.builder import BuiltModel
from optimizer.solve.status import Ranging

COLUMNS = [
    "constraint",
    "material",
    "subject",
    "period",
    "limit",
    "used",
    "marginal",
    "per_step",
    "step",
    "policy_path",
    "range_low",
    "range_high",
    "unit",
]

TOL = 1e-7

INF = math.inf


def shadow_prices(
    built: BuiltModel,
    values: np.ndarray,
    row_duals: np.ndarray,
    col_duals: np.ndarray,
    ranging: Ranging | None = None,
) -> pd.DataFrame:
    """Binding caps and capacities with their marginal values (objective per unit of limit).

    `per_step` is the saving of relaxing by one `step` (0.01 of a share or risk
    score, one unit of capacity), positive when relaxing lowers the cost;
    `range_low` .. `range_high` is the interval of the limit (share, score or
    capacity, in `unit`) over which the marginal value holds (NaN without ranging).
    """
    rows = _cap_rows(built, values, row_duals, ranging)
    rows += _capacity_rows(built, values, row_duals, col_duals, ranging)
    df = pd.DataFrame(rows, columns=COLUMNS)
    if df.empty:
        return df
    scale = max(1.0, float(np.abs(built.cost).max()))
    df = df[df["marginal"].abs() > TOL * scale].copy()
    order = df["per_step"].abs().rank(method="first", ascending=False)
    return df.assign(_o=order).sort_values("_o").drop(columns="_o").reset_index(drop=True)


def _row_activity(built: BuiltModel, values: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and coefficients of row r, from the recorded matrix."""
    form = built.matrix
    assert form is not None
    lo, hi = int(form.start[r]), int(form.start[r + 1])
    return form.index[lo:hi], form.value[lo:hi]


def _cap_rows(
    built: BuiltModel, values: np.ndarray, duals: np.ndarray, ranging: Ranging | None
) -> list[list[object]]:
    index = {name: i for i, name in enumerate(built.row_names)}
    out: list[list[object]] = []
    for name, info in built.row_info.items():
        r = index[name]
        pi = float(duals[r])
        total = float(values[info.total]) if info.total >= 0 else 0.0
        cols, coefs = _row_activity(built, values, r)
        own = cols != info.total
        used = float(coefs[own] @ values[cols[own]])
        marginal = pi * total
        step = 0.01
        low = high = math.nan
        if ranging is not None and total > 0:
            up, down = ranging.steps({}, {r: 1.0})
            low = info.limit - down / total
            high = info.limit + up / total
        out.append(
            [
                info.family,
                info.material,
                info.subject,
                info.period,
                info.limit,
                used / total if total > 0 else 0.0,
                marginal,
                -marginal * step,
                step,
                ".".join(str(part) for part in info.policy_path),
                low,
                high,
                "score" if info.family == "average_risk" else "share",
            ]
        )
    return out


def _direction(built: BuiltModel, o: int, t: int) -> tuple[dict[int, float], dict[int, float]]:
    """Where the capacity of offer o in period t enters, per unit of capacity: the bound of
    x, the row x + r <= capacity, and per scenario the spot row and the bound of y (both
    scaled by the availability)."""
    cols = {int(built.x[o, t]): 1.0}
    rows: dict[int, float] = {}
    if built.cap_row[o, t] >= 0:
        rows[int(built.cap_row[o, t])] = 1.0
    for w, scen in enumerate(built.outcomes):
        a = float(scen.avail[o, t])
        if built.spot_row[w, o, t] >= 0:
            rows[int(built.spot_row[w, o, t])] = a
        if built.y[w, o, t] >= 0:
            cols[int(built.y[w, o, t])] = a
    return cols, rows


def _capacity_range(built: BuiltModel, o: int, t: int, ranging: Ranging) -> tuple[float, float]:
    """Capacity interval over which its marginal value holds (from the optimal basis)."""
    cols, rows = _direction(built, o, t)
    cap = float(built.params.capacity[o, t])
    up, down = ranging.steps(cols, rows)
    return max(cap - down, 0.0), cap + up

REFINE_RECORDS = 12  # degenerate shadow prices re-measured by re-solving, largest first

REFINE_NONZEROS = 300_000  # ... in models up to this size


def refine_degenerate(
    built: BuiltModel,
    table: pd.DataFrame,
    values: np.ndarray,
    ranging: Ranging,
    objective: float,
    scale: int = 1,
) -> pd.DataFrame:
    """Where the optimal basis is degenerate, the dual can hold for no step at all (range
    0), and then the saving of relaxing a limit is not the dual: for the largest such
    records, measure the saving per unit and how far it holds by re-solving with the limit
    relaxed (warm starts from the optimal basis). Only in models up to REFINE_NONZEROS
    non-zeros, and for REFINE_RECORDS records in all: a model that is one of `scale`
    parts counts as `scale` times its size and gets its share of the records."""
    if table.empty or built.matrix is None or built.matrix.nnz * scale > REFINE_NONZEROS:
        return table
    out = table.copy()
    index = {name: i for i, name in enumerate(built.row_names)}
    rows_of = {
        (i.family, i.material, i.subject, i.period): name for name, i in built.row_info.items()
    }
    offers = {offer: o for o, offer in enumerate(built.params.offers)}
    done = 0
    budget = max(1, REFINE_RECORDS // scale)
    for k, rec in out.iterrows():
        if done >= budget:
            break
        limit = float(rec["limit"])
        if not float(rec["range_high"]) - limit <= 1e-9 * max(1.0, abs(limit)):
            continue
        period = None if pd.isna(rec["period"]) else int(rec["period"])
        if rec["constraint"] == "capacity":
            o = offers[(rec["subject"], rec["material"])]
            cols, rows = _direction(built, o, int(rec["period"]) - 1)
            unit = 1.0
        else:
            name = rows_of.get((rec["constraint"], rec["material"], rec["subject"], period))
            if name is None:
                continue
            total = built.row_info[name].total
            unit = float(values[total]) if total >= 0 else 0.0
            cols, rows = {}, {index[name]: 1.0}
        if unit <= 0:
            continue
        saving, holds = _measured(ranging, cols, rows, objective, limit, unit)
        if math.isnan(saving):
            continue
        out.loc[k, "marginal"] = -saving
        out.loc[k, "per_step"] = saving * float(rec["step"])
        out.loc[k, "range_high"] = limit + holds
        done += 1
    return out


def _measured(
    ranging: Ranging,
    cols: dict[int, float],
    rows: dict[int, float],
    objective: float,
    limit: float,
    unit: float,
) -> tuple[float, float]:
    """Saving per unit of limit of a small relaxation, and how far (in the limit's units)
    the same saving per unit holds: growing steps, then bisection on the first kink."""
    scale = max(1.0, abs(limit))
    small = 1e-6 * scale

    def saving(t: float) -> float:
        scaled_cols = {j: d * unit for j, d in cols.items()}
        scaled_rows = {i: d * unit for i, d in rows.items()}
        return (objective - ranging.objective_at(scaled_cols, scaled_rows, t)) / t

    rate = saving(small)
    if math.isnan(rate):
        return math.nan, math.nan

    def same(t: float) -> bool:
        value = saving(t)
        return abs(value - rate) <= 1e-7 * max(1.0, abs(rate))

    good, bad = small, math.inf
    t = small * 10
    while t <= 1e6 * scale:
        if not same(t):
            bad = t
            break
        good, t = t, t * 10
    if math.isinf(bad):
        return rate, math.inf
    for _ in range(20):
        mid = (good + bad) / 2
        good, bad = (mid, bad) if same(mid) else (good, mid)
    return rate, good


def _capacity_rows(
    built: BuiltModel,
    values: np.ndarray,
    row_duals: np.ndarray,
    col_duals: np.ndarray,
    ranging: Ranging | None,
) -> list[list[object]]:
    p = built.params
    xcols = built.x
    has_x = xcols >= 0
    form = built.matrix
    assert form is not None

    def bound_dual(cols: np.ndarray) -> np.ndarray:
        """Duals of the upper bounds of `cols` (a reduced cost counts only for a column at
        its upper bound: at its lower bound it prices the lower bound)."""
        j = np.maximum(cols, 0)
        upper = form.col_upper[j]
        finite = np.isfinite(upper)  # a column without an upper bound is never at it
        slack = 1e-9 * np.maximum(1.0, np.abs(np.where(finite, upper, 0.0)))
        at_upper = (cols >= 0) & finite & (values[j] >= np.where(finite, upper, 0.0) - slack)
        return np.where(at_upper, col_duals[j], 0.0)

    marginal = bound_dual(xcols)
    caps = built.cap_row
    marginal += np.where(caps >= 0, row_duals[np.maximum(caps, 0)], 0.0)
    for w, out in enumerate(built.outcomes):
        rows, ys = built.spot_row[w], built.y[w]
        spot = np.where(rows >= 0, row_duals[np.maximum(rows, 0)], 0.0)
        spot += bound_dual(ys)
        marginal += out.avail * spot
    unit = f"{p.scenario.quantity_unit}/period"
    out_rows: list[list[object]] = []
    for o, t in zip(*np.nonzero(has_x & (marginal < -TOL)), strict=True):
        sid, mid = p.offers[o]
        m = float(marginal[o, t])
        cap = float(p.capacity[o, t])
        low = high = math.nan
        if ranging is not None:
            low, high = _capacity_range(built, int(o), int(t), ranging)
        out_rows.append(
            [
                "capacity",
                mid,
                sid,
                int(t) + 1,
                cap,
                float(values[xcols[o, t]]),
                m,
                -m,
                1.0,
                f"suppliers.{sid}.offers.{mid}.capacity",
                low,
                high,
                unit,
            ]
        )
    return out_rows
