"""Shadow prices in the scenario's terms: what one more point of a cap, or one more
unit of capacity, is worth.

For a cap row `sum_o w[o] * x[o] - limit * tot <= 0` with dual `pi` (the change
of the objective per unit of right-hand side), raising `limit` by d relaxes
the row by d * tot, so the objective changes by `pi * tot` per unit of the
limit: one more percentage point of China allowed saves `-pi * tot / 100`.

Capacity of an offer in a period enters as the upper bound of `x` and, scaled
by the availability a, in the right-hand side of every scenario's spot row
`a * x + y <= a * capacity` (and y's bound): its value is the reduced cost of
x plus a times the duals of those rows and bounds.

For MILPs the duals are those of the LP with the yes/no decisions fixed at
the plan's values (the usual practice), and the table says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.model import BuiltModel

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
]
TOL = 1e-7


def shadow_prices(
    built: BuiltModel, values: np.ndarray, row_duals: np.ndarray, col_duals: np.ndarray
) -> pd.DataFrame:
    """Binding caps and capacities with their marginal values (objective per unit of limit).

    `per_step` is the saving of relaxing by one `step` (0.01 of a share or risk
    score, one unit of capacity), positive when relaxing lowers the cost.
    """
    rows = _cap_rows(built, values, row_duals) + _capacity_rows(built, values, row_duals, col_duals)
    df = pd.DataFrame(rows, columns=COLUMNS)
    if df.empty:
        return df
    scale = max(1.0, float(np.abs(built.cost).max()))
    df = df[df["marginal"].abs() > TOL * scale].copy()
    order = df["per_step"].abs().rank(method="first", ascending=False)
    return df.assign(_o=order).sort_values("_o").drop(columns="_o").reset_index(drop=True)


def _cap_rows(built: BuiltModel, values: np.ndarray, duals: np.ndarray) -> list[list[object]]:
    index = {name: i for i, name in enumerate(built.row_names)}
    col_of = {v.hash: j for j, v in enumerate(built.columns)}
    out: list[list[object]] = []
    for name, info in built.row_info.items():
        pi = float(duals[index[name]])
        total = used = 0.0
        for v, c in built.prob._constraints[name].expr.items():
            value = float(values[col_of[v.hash]])
            if v.name.startswith("tot_"):  # the planned total the cap is a share of
                total = value
            else:
                used += c * value
        marginal = pi * total
        step = 0.01
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
            ]
        )
    return out


def _capacity_rows(
    built: BuiltModel, values: np.ndarray, row_duals: np.ndarray, col_duals: np.ndarray
) -> list[list[object]]:
    p = built.params
    xcols = built.x
    has_x = xcols >= 0
    marginal = np.where(has_x, col_duals[np.maximum(xcols, 0)], 0.0)
    for w, out in enumerate(built.outcomes):
        rows, ys = built.spot_row[w], built.y[w]
        spot = np.where(rows >= 0, row_duals[np.maximum(rows, 0)], 0.0)
        spot += np.where(ys >= 0, col_duals[np.maximum(ys, 0)], 0.0)
        marginal += out.avail * spot
    out_rows: list[list[object]] = []
    for o, t in zip(*np.nonzero(has_x & (marginal < -TOL)), strict=True):
        sid, mid = p.offers[o]
        m = float(marginal[o, t])
        out_rows.append(
            [
                "capacity",
                mid,
                sid,
                int(t) + 1,
                float(p.capacity[o, t]),
                float(values[xcols[o, t]]),
                m,
                -m,
                1.0,
                f"suppliers.{sid}.offers.{mid}.capacity",
            ]
        )
    return out_rows
