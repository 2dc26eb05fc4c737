"""Reference build of the sourcing LP straight into arrays (benchmark code, not the product).

`direct_form(params)` builds the same problem as `optimizer.model.build_model` (same
columns in the same order, same rows in the same order, same coefficients, bounds and
costs, even the same order of the non-zeros within each row) from a `Parameters` object
with numpy only: no PuLP objects and no Python loop per non-zero (the loops that remain
run over materials, countries or are a few vector operations per scenario).
`solve_direct(params)` hands it to HiGHS with one `passModel`, with the options the
product uses, and times each phase. What this measures is the cost of the PuLP modelling
layer: `build_model` + `matrix_form` (or the matrix `build_model` now records) against
`direct_form`, on the identical LP (benchmarks/test_direct.py checks it array for array).

Layout of the model (DESIGN §4, version 2; optimizer/model/build.py fixes the order):

- columns: x (deliverable (o, t), row-major); r where the offer takes reservations; per
  scenario w: inv, short per (material, period), then per (o, t) y and the call o (not in
  w0, only where `a * capacity > 0`); in w0 below per period with a safety stock and
  endshort per material; q per stock-before-shortage pair; the share totals `tot` when a
  cap needs them; z (min order), u (fixed cost); horizon totals for min suppliers when
  not made yet; v per offer of each material with demand; eta and cv[w] with CVaR;
- rows: `x + r <= capacity`; per scenario w: spot capacity, calls, balance; the targets
  in w0 (safety stock, end stock), stock before shortage (two per pair); then the
  totals' definitions, supplier share, country share, country exposure, average risk,
  min order (lo, up per z), fixed cost, [horizon totals], min suppliers (share rows, then
  the count row, per material), CVaR.

Held shipments (`delay_days` effects) are not built here (NotImplementedError): the
generated benchmark cases have none.

Rows are collected as dense blocks (one row per line, its non-zeros in slot order, zeros
dropped as the model's row builder drops them) and scattered into CSR once.

    python benchmarks/direct.py --materials 10 --suppliers 30 --periods 12 --events 8
    # build only, one path per fresh process, for time and peak RSS:
    python benchmarks/direct.py ... --build-only direct|pulp|product [--pass]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from optimizer.app.checked_solve import COMPLEMENT_GAP
from optimizer.common.native import quiet_stdout
from optimizer.model.builder import MatrixForm
from optimizer.model.parameters import Parameters
from optimizer.solve.highs import _highs_status
from optimizer.solve.status import DEFAULT_MIP_GAP

INF = np.inf


class _Columns:
    """Column counter with bounds, integrality and costs, filled segment by segment."""

    def __init__(self) -> None:
        self.n = 0
        self.segments: list[tuple[int, int, object, object, bool]] = []
        self.costs: list[tuple[np.ndarray | slice, np.ndarray | float]] = []

    def add(
        self,
        n: int,
        lower: np.ndarray | float = 0.0,
        upper: np.ndarray | float = INF,
        integer: bool = False,
    ) -> np.ndarray:
        """n new columns; returns their ids."""
        first = self.n
        self.n += n
        self.segments.append((first, self.n, lower, upper, integer))
        return np.arange(first, self.n, dtype=np.int64)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lower = np.zeros(self.n)
        upper = np.full(self.n, INF)
        integer = np.zeros(self.n, dtype=bool)
        for first, last, lo, up, is_int in self.segments:
            lower[first:last] = lo
            upper[first:last] = up
            integer[first:last] = is_int
        return lower, upper, integer


class _Rows:
    """Rows collected as dense blocks and assembled into CSR at the end."""

    def __init__(self) -> None:
        self.n = 0
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.bounds: list[tuple[np.ndarray, object, object]] = []

    def reserve(self, n: int) -> int:
        """Reserve n row ids (filled later with `add`); returns the first."""
        first = self.n
        self.n += n
        return first

    def add(
        self,
        ids: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        lower: np.ndarray | float,
        upper: np.ndarray | float,
    ) -> None:
        """Rows `ids` (R,); `cols`/`vals` (R, K): the terms of each row in order.

        Terms with a zero coefficient are dropped (the model's `LpAffineExpression`s
        never hold a zero coefficient either).
        """
        keep = vals != 0.0
        self.blocks.append((ids, keep.sum(axis=1), cols[keep], vals[keep]))
        self.bounds.append((ids, lower, upper))

    def append(
        self,
        cols: np.ndarray,
        vals: np.ndarray,
        lower: np.ndarray | float,
        upper: np.ndarray | float,
        keep: np.ndarray | None = None,
    ) -> None:
        """Rows at the end, in order; `keep` (R,) drops whole rows first."""
        if keep is not None:
            cols, vals = cols[keep], vals[keep]
            lower = lower[keep] if isinstance(lower, np.ndarray) else lower
            upper = upper[keep] if isinstance(upper, np.ndarray) else upper
        ids = np.arange(self.n, self.n + len(cols), dtype=np.int64)
        self.n += len(cols)
        self.add(ids, cols, vals, lower, upper)

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = self.n
        counts = np.zeros(n, dtype=np.int64)
        lower = np.empty(n)
        upper = np.empty(n)
        for (ids, cnt, _c, _v), (_i, lo, up) in zip(self.blocks, self.bounds, strict=True):
            counts[ids] = cnt
            lower[ids] = lo
            upper[ids] = up
        start = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        nnz = int(start[-1])
        index = np.empty(nnz, dtype=np.int32)
        value = np.empty(nnz)
        for ids, cnt, cols, vals in self.blocks:
            if cols.size == 0:
                continue
            first = int(start[ids[0]])
            contiguous = ids.size == 1 or (
                int(ids[-1] - ids[0]) == ids.size - 1 and bool((np.diff(ids) == 1).all())
            )
            if contiguous:
                index[first : first + cols.size] = cols
                value[first : first + cols.size] = vals
                continue
            local = np.zeros(ids.size, dtype=np.int64)
            np.cumsum(cnt[:-1], out=local[1:])
            pos = np.repeat(start[ids] - local, cnt)
            pos += np.arange(cols.size, dtype=np.int64)
            index[pos] = cols
            value[pos] = vals
        return start, index, value, lower, upper


class _Build:
    """State of one direct build: the index arrays of the model and the collectors."""

    def __init__(self, p: Parameters) -> None:
        self.p = p
        self.cols = _Columns()
        self.rows = _Rows()
        n_o, n_t = p.capacity.shape
        self.n_m = len(p.materials)
        self.n_t = n_t
        self.n_w = len(p.outcomes)
        self.ok = p.deliverable()
        self.x = np.full((n_o, n_t), -1, dtype=np.int64)
        self.r = np.full((n_o, n_t), -1, dtype=np.int64)
        self.totals: dict[str, np.ndarray] = {}
        self.base = next((w for w, out in enumerate(p.outcomes) if out.is_base), 0)

    # --- first stage and scenarios ----------------------------------------------------

    def plan(self) -> None:
        """`x <= capacity` where deliverable; then `r` and `x + r <= capacity` where the
        offer takes reservations (cost: the fee)."""
        p = self.p
        n_x = int(self.ok.sum())
        self.x[self.ok] = self.cols.add(n_x, 0.0, p.capacity[self.ok])
        r_ok = self.ok & p.reservable[:, None]
        n_r = int(r_ok.sum())
        if n_r == 0:
            return
        cap = p.capacity[r_ok]
        self.r[r_ok] = self.cols.add(n_r, 0.0, cap)
        self.cols.costs.append((self.r[r_ok], p.reservation_fee[r_ok]))
        cols = np.stack([self.x[r_ok], self.r[r_ok]], axis=1)
        self.rows.append(cols, np.ones((n_r, 2)), -INF, cap)

    def scenarios(self) -> None:
        """Per scenario w: columns inv/short (per material and period), then y and calls o
        (per offer and period); rows spot capacity, calls, balance."""
        p, ok = self.p, self.ok
        n_m, n_t, n_w = self.n_m, self.n_t, self.n_w
        n_o = ok.shape[0]
        outs = p.outcomes
        if any(o.delay is not None for o in outs):
            raise NotImplementedError("held shipments (delay_days) are not in the reference")
        n_mt = n_m * n_t
        self.avail = np.stack([o.avail for o in outs])  # (W, O, T)
        spot = np.array([o.spot for o in outs], dtype=bool)
        up = self.avail * p.capacity[None]
        ymask = spot[:, None, None] & ok[None] & (self.avail > 0) & (up > 0)
        omask = ymask & (self.r >= 0)[None]
        self.ymask, self.omask = ymask, omask
        width = (ymask.astype(np.int64) + omask).reshape(n_w, -1)  # columns per (o, t)
        per_w = 2 * n_mt + width.sum(axis=1)
        col0 = self.cols.n
        block = col0 + np.concatenate([[0], np.cumsum(per_w)[:-1]])  # first column of each w
        mt = (2 * np.arange(n_mt, dtype=np.int64)).reshape(n_m, n_t)
        self.inv = block[:, None, None] + mt[None]
        self.short = self.inv + 1
        g = (np.cumsum(width, axis=1) - width).reshape(n_w, n_o, n_t)
        first_y = block[:, None, None] + 2 * n_mt + g
        self.y = np.where(ymask, first_y, -1)
        self.o = np.where(omask, first_y + 1, -1)
        n_cols = int(per_w.sum())
        upper = np.empty(n_cols)
        short_up = np.broadcast_to(p.demand[None], self.short.shape)
        upper[(self.inv - col0).ravel()] = INF
        upper[(self.short - col0).ravel()] = short_up.ravel()
        upper[self.y[ymask] - col0] = up[ymask]
        upper[self.o[omask] - col0] = up[omask]
        self.cols.add(n_cols, 0.0, upper)

        # rows, per w: spot (ny_w), calls (no_w), balance (M*T)
        ny_w = ymask.sum(axis=(1, 2))
        no_w = omask.sum(axis=(1, 2))
        rows_w = ny_w + no_w + n_mt
        r0 = self.rows.reserve(int(rows_w.sum()))
        row_block = r0 + np.concatenate([[0], np.cumsum(rows_w)[:-1]])
        w_y, o_y, t_y = np.nonzero(ymask)
        rank_y = (np.cumsum(ymask.reshape(n_w, -1), axis=1) - 1).reshape(ymask.shape)
        a_y = self.avail[w_y, o_y, t_y]
        self.rows.add(
            row_block[w_y] + rank_y[w_y, o_y, t_y],
            np.stack([self.x[o_y, t_y], self.y[w_y, o_y, t_y], self.o[w_y, o_y, t_y]], axis=1),
            np.stack([a_y, np.ones(a_y.size), np.where(omask[w_y, o_y, t_y], 1.0, 0.0)], axis=1),
            -INF,
            a_y * p.capacity[o_y, t_y],
        )
        if omask.any():
            w_c, o_c, t_c = np.nonzero(omask)
            rank_c = (np.cumsum(omask.reshape(n_w, -1), axis=1) - 1).reshape(omask.shape)
            self.rows.add(
                row_block[w_c] + ny_w[w_c] + rank_c[w_c, o_c, t_c],
                np.stack([self.o[w_c, o_c, t_c], self.r[o_c, t_c]], axis=1),
                np.stack([np.ones(w_c.size), -self.avail[w_c, o_c, t_c]], axis=1),
                -INF,
                0.0,
            )
        self._balance(row_block + ny_w + no_w)

    def _balance(self, bal0: np.ndarray) -> None:
        """`inv[t] - inv[t-1] - sum_o (a*x + y + o) - short = inbound - demand`
        (+initial at t=1)."""
        p = self.p
        n_t, n_w = self.n_t, self.n_w
        rhs = p.inbound - p.demand
        rhs[:, 0] += p.initial
        for mi in range(self.n_m):
            ofs = p.offers_of(mi)
            n = ofs.size
            k = 3 + 3 * n
            cols = np.zeros((n_w, n_t, k), dtype=np.int64)
            vals = np.zeros((n_w, n_t, k))
            cols[:, :, 0] = self.inv[:, mi]
            vals[:, :, 0] = 1.0
            cols[:, 1:, 1] = self.inv[:, mi, :-1]
            vals[:, 1:, 1] = -1.0
            xc = self.x[ofs].T  # (T, n)
            cols[:, :, 2 : 2 + 3 * n : 3] = xc[None]
            vals[:, :, 2 : 2 + 3 * n : 3] = np.where(
                xc[None] >= 0, -self.avail[:, ofs].transpose(0, 2, 1), 0.0
            )
            for j, arr in ((3, self.y), (4, self.o)):
                c = arr[:, ofs].transpose(0, 2, 1)  # (W, T, n)
                cols[:, :, j : j + 3 * n : 3] = c
                vals[:, :, j : j + 3 * n : 3] = np.where(c >= 0, -1.0, 0.0)
            cols[:, :, -1] = self.short[:, mi]
            vals[:, :, -1] = -1.0
            ids = bal0[:, None] + mi * n_t + np.arange(n_t)[None, :]
            b = np.broadcast_to(rhs[mi][None, :], ids.shape).ravel()
            self.rows.add(ids.ravel(), cols.reshape(-1, k), vals.reshape(-1, k), b, b)

    def targets(self) -> None:
        """In w0: `below + inv >= ss` per period with a safety stock, `endshort + inv[P] >= E`;
        costs the penalties."""
        p = self.p
        w0 = self.base
        self.below: dict[tuple[int, int], int] = {}
        self.endshort: dict[int, int] = {}
        for mi in range(self.n_m):
            ts = np.flatnonzero(p.safety_stock[mi] > 0)
            if ts.size:
                below = self.cols.add(ts.size)
                self.below.update(
                    {(mi, int(t)): int(j) for t, j in zip(ts, below, strict=True)}
                )
                self.cols.costs.append((below, float(p.safety_penalty[mi])))
                cols = np.stack([below, self.inv[w0, mi, ts]], axis=1)
                self.rows.append(cols, np.ones((ts.size, 2)), p.safety_stock[mi, ts], INF)
            if p.end_stock[mi] > 0:
                end = self.cols.add(1)
                self.endshort[mi] = int(end[0])
                self.cols.costs.append((end, float(p.end_penalty[mi])))
                cols = np.array([[end[0], self.inv[w0, mi, -1]]])
                self.rows.append(cols, np.ones((1, 2)), float(p.end_stock[mi]), INF)

    def stock_before_shortage(self, complement: frozenset[tuple[int, int]]) -> None:
        """In w0 for the given (material, period) pairs: `short <= demand * q`,
        `inv + Cap * q <= Cap`, q binary, Cap the stock bound over periods 1..t; and
        `below - ss * q >= 0` (`endshort - E * q >= 0` at t = P) where there is a target."""
        p = self.p
        w0 = self.base
        for mi, t in sorted(complement):
            q = int(self.cols.add(1, 0.0, 1.0, integer=True)[0])
            offers = p.offers_of(mi)
            end = t + 1
            big = float(p.initial[mi] + p.inbound[mi, :end].sum() + p.capacity[offers, :end].sum())
            cols = np.array([[self.short[w0, mi, t], q], [self.inv[w0, mi, t], q]])
            vals = np.array([[1.0, -float(p.demand[mi, t])], [1.0, big]])
            self.rows.append(cols, vals, -INF, np.array([0.0, big]))
            if (mi, t) in self.below:
                cols = np.array([[self.below[mi, t], q]])
                vals = np.array([[1.0, -float(p.safety_stock[mi, t])]])
                self.rows.append(cols, vals, 0.0, INF)
            if t == self.n_t - 1 and mi in self.endshort:
                cols = np.array([[self.endshort[mi], q]])
                vals = np.array([[1.0, -float(p.end_stock[mi])]])
                self.rows.append(cols, vals, 0.0, INF)

    # --- policy -----------------------------------------------------------------------

    def _totals(self, basis: str) -> np.ndarray:
        """Columns `tot[m]` (horizon, shape (M, 1)) or `tot[m,t]` (period, (M, T)), -1 where
        the material has no planned column; made (with their rows) on first use."""
        if basis in self.totals:
            return self.totals[basis]
        p = self.p
        n_t = self.n_t
        width = 1 if basis == "horizon" else n_t
        tot = np.full((self.n_m, width), -1, dtype=np.int64)
        for mi in range(self.n_m):
            xs = self.x[p.offers_of(mi)]  # (n, T)
            if basis == "horizon":
                flat = xs[xs >= 0]
                if flat.size == 0:
                    continue
                j = self.cols.add(1)
                tot[mi, 0] = j[0]
                cols = np.concatenate([j, flat])[None]
                vals = np.concatenate([[1.0], np.full(flat.size, -1.0)])[None]
                self.rows.append(cols, vals, 0.0, 0.0)
            else:
                has = (xs >= 0).any(axis=0)
                if not has.any():
                    continue
                j = self.cols.add(int(has.sum()))
                tot[mi, has] = j
                cols = np.concatenate([tot[mi][:, None], xs.T], axis=1)
                vals = np.concatenate([np.ones((n_t, 1)), np.where(xs.T >= 0, -1.0, 0.0)], axis=1)
                self.rows.append(cols, vals, 0.0, 0.0, keep=has)
        self.totals[basis] = tot
        return tot

    def _cap(self, mi: int, offers: np.ndarray, weights: np.ndarray, limit: float) -> None:
        """`sum_o weight[o] * x[o,.] <= limit * tot[m,.]` for a group of offers of one
        material, on the policy's basis."""
        basis = self.p.scenario.policy.share_basis
        tot = self._totals(basis)
        xs = self.x[offers]  # (n, T)
        w = np.where(xs >= 0, weights[:, None], 0.0)
        if basis == "horizon":
            exists = bool((xs >= 0).any())
            cols = np.concatenate([xs.ravel(), tot[mi]])[None]
            vals = np.concatenate([w.ravel(), [-limit]])[None]
            keep = np.array([exists])
        else:
            cols = np.concatenate([xs.T, tot[mi][:, None]], axis=1)
            vals = np.concatenate([w.T, np.full((self.n_t, 1), -limit)], axis=1)
            keep = (xs >= 0).any(axis=0)
        self.rows.append(cols, vals, -INF, 0.0, keep=keep)

    def supplier_share(self) -> None:
        p = self.p
        cap = p.max_share[p.offer_supplier]
        capped = np.flatnonzero(~np.isnan(cap) & (cap < 1.0))
        if capped.size == 0:
            return
        basis = p.scenario.policy.share_basis
        tot = self._totals(basis)
        xs = self.x[capped]  # (R, T)
        mi = p.offer_material[capped]
        limit = cap[capped]
        if basis == "horizon":
            cols = np.concatenate([xs, tot[mi]], axis=1)
            vals = np.concatenate([np.where(xs >= 0, 1.0, 0.0), -limit[:, None]], axis=1)
            self.rows.append(cols, vals, -INF, 0.0, keep=(xs >= 0).any(axis=1))
        else:
            o_r, t_r = np.nonzero(xs >= 0)  # offer-major, then period
            cols = np.stack([xs[o_r, t_r], tot[mi[o_r], t_r]], axis=1)
            vals = np.stack([np.ones(o_r.size), -limit[o_r]], axis=1)
            self.rows.append(cols, vals, -INF, 0.0)

    def _country_caps(self, caps: dict[str, float], reach: bool) -> None:
        """One cap per country and material over the offers of suppliers in the country
        (and, with `reach`, of suppliers its controls reach)."""
        p = self.p
        country = np.array(p.country, dtype=object)[p.offer_supplier]
        for code in sorted(caps):
            limit = float(caps[code])
            if limit >= 1.0:
                continue
            hit = country == code
            if reach:
                hit |= np.array([code in p.controlled_by[s] for s in p.offer_supplier])
            for mi in range(self.n_m):
                ofs = p.offers_of(mi)
                ofs = ofs[hit[ofs]]
                if ofs.size:
                    self._cap(mi, ofs, np.ones(ofs.size), limit)

    def country_share(self) -> None:
        self._country_caps(self.p.scenario.policy.max_country_share, reach=False)

    def country_exposure(self) -> None:
        self._country_caps(self.p.scenario.policy.max_country_exposure, reach=True)

    def average_risk(self) -> None:
        p = self.p
        limit = p.scenario.policy.max_average_risk
        if limit is None or limit >= 1.0:
            return
        for mi in range(self.n_m):
            ofs = p.offers_of(mi)
            self._cap(mi, ofs, p.risk[p.offer_supplier[ofs]].astype(float), float(limit))

    def min_order(self) -> None:
        p = self.p
        o_r, t_r = np.nonzero(self.x >= 0)
        q = p.min_order[o_r]
        sel = q > 0
        if not sel.any():
            return
        o_r, t_r, q = o_r[sel], t_r[sel], q[sel]
        n = o_r.size
        z = self.cols.add(n, 0.0, 1.0, integer=True)
        xs = self.x[o_r, t_r]
        cols = np.stack([xs, z, xs, z], axis=1).reshape(2 * n, 2)
        vals = np.stack([np.ones(n), -q, np.ones(n), -p.capacity[o_r, t_r]], axis=1)
        lower = np.stack([np.zeros(n), np.full(n, -INF)], axis=1).ravel()
        upper = np.stack([np.full(n, INF), np.zeros(n)], axis=1).ravel()
        self.rows.append(cols, vals.reshape(2 * n, 2), lower, upper)

    def fixed_cost(self) -> None:
        p = self.p
        with_x = np.zeros(len(p.suppliers), dtype=bool)
        np.logical_or.at(with_x, p.offer_supplier, (self.x >= 0).any(axis=1))
        has_u = (p.fixed_cost > 0) & with_x
        if not has_u.any():
            return
        sup = np.flatnonzero(has_u)
        u_of = np.full(len(p.suppliers), -1, dtype=np.int64)
        u_of[sup] = self.cols.add(sup.size, 0.0, 1.0, integer=True)
        self.cols.costs.append((u_of[sup], p.fixed_cost[sup].astype(float)))
        o_r, t_r = np.nonzero((self.x >= 0) & has_u[p.offer_supplier][:, None])
        r = self.r[o_r, t_r]
        cols = np.stack([self.x[o_r, t_r], u_of[p.offer_supplier[o_r]], r], axis=1)
        vals = np.stack(
            [np.ones(o_r.size), -p.capacity[o_r, t_r], np.where(r >= 0, 1.0, 0.0)], axis=1
        )
        self.rows.append(cols, vals, -INF, 0.0)

    def min_suppliers(self) -> None:
        p = self.p
        policy = p.scenario.policy
        k = policy.min_suppliers
        if not k:
            return
        share = float(policy.min_supplier_share)
        tot = self._totals("horizon")
        for mi in range(self.n_m):
            if p.demand[mi].sum() <= 0:
                continue
            ofs = p.offers_of(mi)
            big = float(p.capacity[ofs].sum())
            v = self.cols.add(ofs.size, 0.0, 1.0, integer=True)
            xs = self.x[ofs]
            cols = np.concatenate([xs, v[:, None], np.full((ofs.size, 1), tot[mi, 0])], axis=1)
            vals = np.concatenate(
                [
                    np.where(xs >= 0, 1.0, 0.0),
                    np.full((ofs.size, 1), -big),
                    np.full((ofs.size, 1), -share if tot[mi, 0] >= 0 else 0.0),
                ],
                axis=1,
            )
            self.rows.append(cols, vals, -big, INF)
            self.rows.append(v[None], np.ones((1, ofs.size)), float(k), INF)

    # --- objective --------------------------------------------------------------------

    def objective(self) -> None:
        """Expected cost, plus with CVaR eta, cv[w] and `cv[w] + eta - C[w] >= 0`."""
        p = self.p
        objective = p.scenario.objective
        ok, ymask, omask = self.ok, self.ymask, self.omask
        n_w = self.n_w
        cvar = objective.risk_measure == "cvar"
        prob = np.array([o.probability for o in p.outcomes])
        delay = p.delay_cost[:, None]
        premium = 1.0 + p.scenario.spot_premium
        gl = np.stack([o.price for o in p.outcomes]) * p.landed  # (W, O, T)
        coef_x = ((gl + delay) * self.avail)[:, ok]  # (W, n_x)
        coef_o = (p.exercise_landed + delay)[ok]  # (n_x,), the same in every w
        coef_y = gl * premium + delay  # (W, O, T)
        costs = self.cols.costs
        if cvar:
            eta = self.cols.add(1, -INF, INF)
            costs.append((eta, float(objective.cvar_weight)))
        cost_x = np.zeros(coef_x.shape[1])
        for w in range(n_w):  # the model adds scenario by scenario: same rounding
            cost_x += prob[w] * coef_x[w]
        costs.append((self.x[ok], cost_x))
        costs.append((self.o[omask], (prob[:, None] * coef_o[None])[omask[:, ok]]))
        costs.append((self.y[ymask], (prob[:, None, None] * coef_y)[ymask]))
        parts = [
            (self.inv, np.broadcast_to(p.holding[None, :, None], self.inv.shape)),
            (self.short, np.broadcast_to(p.shortage_cost[None, :, None], self.short.shape)),
        ]
        for cols, coef in parts:
            costs.append((cols.ravel(), (prob[:, None, None] * coef).ravel()))
        if not cvar:
            return
        cv = self.cols.add(n_w)
        weight = objective.cvar_weight * prob / (1.0 - objective.cvar_alpha)
        costs.append((cv, weight))
        n_mt = self.n_m * self.n_t
        cols = [
            cv[:, None],
            np.broadcast_to(eta, (n_w, 1)),
            np.broadcast_to(self.x[ok], coef_x.shape),
            self.o[:, ok],
            self.y[:, ok],
            self.inv.reshape(n_w, n_mt),
            self.short.reshape(n_w, n_mt),
        ]
        vals = [
            np.ones((n_w, 1)),
            np.ones((n_w, 1)),
            -coef_x,
            np.where(omask[:, ok], -coef_o[None], 0.0),
            np.where(ymask[:, ok], -coef_y[:, ok], 0.0),
            *(-c.reshape(n_w, -1) for _, c in parts),
        ]
        self.rows.append(np.concatenate(cols, axis=1), np.concatenate(vals, axis=1), 0.0, INF)

    def form(self) -> MatrixForm:
        lower, upper, integer = self.cols.arrays()
        cost = np.zeros(self.cols.n)
        for ids, c in self.cols.costs:
            cost[ids] += c
        start, index, value, row_lower, row_upper = self.rows.csr()
        return MatrixForm(
            cost=cost,
            offset=0.0,
            col_lower=lower,
            col_upper=upper,
            integer=integer,
            row_lower=row_lower,
            row_upper=row_upper,
            start=start,
            index=index,
            value=value,
        )


def direct_form(
    params: Parameters, complement: frozenset[tuple[int, int]] = frozenset()
) -> MatrixForm:
    """The model of `optimizer.model.build.build_model(params, complement=...)` as arrays,
    built directly."""
    b = _Build(params)
    b.plan()
    b.scenarios()
    b.targets()
    b.stock_before_shortage(complement)
    b.supplier_share()
    b.country_share()
    b.country_exposure()
    b.average_risk()
    b.min_order()
    b.fixed_cost()
    b.min_suppliers()
    b.objective()
    return b.form()


def pass_model(h: object, form: MatrixForm) -> None:
    """Hand the arrays to HiGHS in one `passModel`, straight from numpy.

    This is highspy's array overload. Filling a `highspy.HighsLp` attribute by attribute
    (what optimizer.solving does) converts each numpy array to a std::vector element by
    element, which costs about 0.25 s per million non-zeros before passModel even starts.
    The overload reads the integrality array for every column even for an LP (an empty
    array is read out of bounds), so it always gets the full array.
    """
    import highspy

    status = h.passModel(  # type: ignore[attr-defined]
        len(form.cost),
        len(form.row_lower),
        form.nnz,
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        float(getattr(form, "offset", 0.0)),  # the recorded matrix has no offset
        form.cost,
        form.col_lower,
        form.col_upper,
        form.row_lower,
        form.row_upper,
        form.start.astype(np.int32),
        form.index,
        form.value,
        form.integer.astype(np.int32),  # kContinuous 0, kInteger 1
    )
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"HiGHS refused the model: {status}")


def solve_direct(
    params: Parameters,
    time_limit: float | None = None,
    complement: frozenset[tuple[int, int]] = frozenset(),
) -> dict[str, object]:
    """Build with `direct_form`, hand over with one `passModel`, solve, read the values.

    Returns the objective, the status (as the product names it), the seconds of each phase
    (build; handoff = passModel; solve = run; extract = col_value into numpy) and the size
    (nnz, rows, cols). HiGHS gets the options the product sets (quiet, MIP gap 1e-6, or
    1e-9 with stock-before-shortage binaries, as `optimizer.app.checked_solve`).
    `complement`: the (material, period) pairs of w0 held to stock before shortage with a
    binary, the set the product's run ended with (it finds them by solving first).
    """
    import highspy

    t0 = time.perf_counter()
    form = direct_form(params, complement)
    t1 = time.perf_counter()
    is_mip = bool(form.integer.any())
    with quiet_stdout(False):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("log_to_console", False)
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", COMPLEMENT_GAP if complement else DEFAULT_MIP_GAP)
        pass_model(h, form)
        t2 = time.perf_counter()
        h.run()
        t3 = time.perf_counter()
    status = _highs_status(h, is_mip)
    objective = None
    t4 = t3
    if status.has_plan:
        values = np.asarray(h.getSolution().col_value, dtype=float)
        t4 = time.perf_counter()
        assert values.size == len(form.cost)
        objective = float(h.getInfo().objective_function_value)
    return {
        "objective": objective,
        "status": status.value,
        "build": t1 - t0,
        "handoff": t2 - t1,
        "solve": t3 - t2,
        "extract": t4 - t3,
        "nnz": form.nnz,
        "rows": len(form.row_lower),
        "cols": len(form.cost),
    }


# --- script ---------------------------------------------------------------------------


def _generator():
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import generate

    return generate


def _params(args: argparse.Namespace) -> Parameters:
    generate_from = _generator().generate_from
    from optimizer.model.parameters import build_parameters
    from optimizer.schema.scenario import Scenario

    data = generate_from(args)
    if args.basis:
        data["policy"]["share_basis"] = args.basis
    return build_parameters(Scenario.model_validate(data))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> None:
    """Time the phases of the direct path (or only the build of either path, for RSS)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _generator().add_case_arguments(ap, seed=1)
    ap.add_argument("--basis", choices=["horizon", "period"], default=None)
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument(
        "--pass",
        dest="pass_model",
        action="store_true",
        help="with --build-only: also hand the arrays to HiGHS (passModel, no solve), so "
        "that the peak RSS includes HiGHS' copy of the model",
    )
    ap.add_argument(
        "--build-only",
        choices=["direct", "pulp", "product"],
        default=None,
        help="only build the arrays with this path (direct_form; build_model + its PuLP problem "
        "read back; "
        "or build_model and the matrix it records, the product's hand-off) and report its "
        "time and the peak RSS of this process",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    params = _params(args)
    t_params = time.perf_counter() - t0
    base = _peak_mib()
    if args.build_only:
        t0 = time.perf_counter()
        if args.build_only == "direct":
            form = direct_form(params)
            split = ""
        else:
            from optimizer.model.build import build_model

            built = build_model(params)
            t1 = time.perf_counter()
            recorded = getattr(built, "matrix", None)
            if args.build_only == "product" and recorded is not None:
                form = recorded  # what optimizer.solving.solve_highs hands over
                split = " (build_model, its recorded matrix)"
            else:
                _ = built.problem  # the PuLP problem, read back
                form = built.solver_form()
                split = (
                    f" (build_model {t1 - t0:.3f} s, PuLP problem and read-back "
                    f"{time.perf_counter() - t1:.3f} s)"
                )
        seconds = time.perf_counter() - t0
        if args.pass_model:
            import highspy

            t1 = time.perf_counter()
            with quiet_stdout(False):
                h = highspy.Highs()
                h.setOptionValue("output_flag", False)
                pass_model(h, form)
            split += f"; passModel {time.perf_counter() - t1:.3f} s"
        print(
            f"{args.build_only}: build {seconds:.3f} s{split}; nnz {form.nnz:,} rows "
            f"{len(form.row_lower):,} cols {len(form.cost):,}; peak RSS {_peak_mib():.0f} MiB "
            f"(after parameters {base:.0f} MiB)"
        )
        return
    res = solve_direct(params, args.time_limit)
    print(
        f"scenarios {len(params.outcomes)}  cols {res['cols']:,}  rows {res['rows']:,}  "
        f"nnz {res['nnz']:,}"
    )
    print(f"parameters {t_params:.3f} s")
    for phase in ("build", "handoff", "solve", "extract"):
        print(f"{phase:<10} {res[phase]:.3f} s")
    print(f"status {res['status']}  objective {res['objective']!r}")
    print(f"peak RSS {_peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
