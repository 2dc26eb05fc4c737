"""The pieces of the scenario decomposition (L-shaped / Benders) as models: the
recourse blocks per material and distinct scenario, their chunks, and the master.

The model of DESIGN §4 couples its scenarios only through the first stage:
the plan x, the reservations r, the yes/no decisions (min order, fixed cost,
min suppliers), the plan's own targets measured in w0 (`below`, `endshort`,
with stock before shortage there) and, with CVaR, the threshold eta. So:

- the **master** holds the first stage, w0 whole (its balance, targets and
  stock-before-shortage binaries), the CVaR rows `cv[w] >= C[w] - eta` of
  every scenario, and one recourse estimate `theta` per (material, scenario)
  block in place of the second stage. It is built from the model's own
  families on the outcome set {w0}.
- with the plan fixed, a scenario's recourse splits by material: the
  **block** of (material m, scenario w) is that recourse, built by the same
  families with x and r as fixed columns (like `build_replay` for one
  outcome); scenarios whose availability, price and delay agree on m's offers
  have the same block and are solved once (probabilities add up).

How the rounds use them: `optimizer.app.benders`; the HiGHS instances that
hold them: `optimizer.solve.benders_chunks` and `optimizer.solve.benders_highs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.model.build import _close, _empty_model
from optimizer.model.builder import GE, BuiltModel, Complement, MatrixForm, ModelBuilder
from optimizer.model.decompose import restrict
from optimizer.model.first_stage import (
    add_average_risk,
    add_country_exposure,
    add_country_share,
    add_fixed_cost,
    add_fixed_plan,
    add_min_order,
    add_min_suppliers,
    add_plan_variables,
    add_reservations,
    add_supplier_share,
)
from optimizer.model.objective import scenario_cost_terms
from optimizer.model.parameters import Parameters
from optimizer.model.second_stage import (
    add_balance,
    add_calls,
    add_scenario_variables,
    add_spot_capacity,
    add_stock_before_shortage,
    add_targets,
)

CHUNK_COLUMNS = 40_000  # columns of one subproblem chunk (a block-diagonal LP)


class _Count:
    """Stands in for a list whose length is all that is read (column and row names)."""

    def __init__(self) -> None:
        self.n = 0

    def append(self, _item: object) -> None:
        self.n += 1

    def __len__(self) -> int:
        return self.n


class _Unnamed(ModelBuilder):
    """A `ModelBuilder` that keeps no names: the recourse blocks are many small LPs
    that only HiGHS reads."""

    def __init__(self) -> None:
        super().__init__("recourse")
        self.col_names = _Count()  # type: ignore[assignment]
        self.row_names = _Count()  # type: ignore[assignment]


def base_index(p: Parameters) -> int:
    """Index of w0 among the outcomes."""
    return next(w for w, out in enumerate(p.outcomes) if out.is_base)


@dataclass(frozen=True)
class ChunkSpec:
    """Blocks of one material to solve together: its parameters (one material, outcomes
    merged on its offers) and the merged outcomes k that are blocks."""

    key: int  # chunk id
    material: int  # material index in the part
    params: Parameters
    ks: tuple[int, ...]

    @property
    def size(self) -> int:
        """Rough column count (to balance the chunks among workers)."""
        return len(self.ks) * max(1, len(self.params.offers)) * self.params.periods * 3


@dataclass
class BlockForm:
    """A chunk's blocks as one block-diagonal LP, and where its fixed columns are."""

    form: MatrixForm
    models: list[BuiltModel]  # per block, its index arrays (into `form`)
    block_of: np.ndarray  # (columns,) block of each column
    x_mask: np.ndarray  # (O_m, T) deliverable
    r_mask: np.ndarray  # (O_m, T) deliverable and reservable
    x_cols: np.ndarray  # (blocks, x_mask.sum()) fixed x columns of each block
    r_cols: np.ndarray  # (blocks, r_mask.sum())


def block_form(spec: ChunkSpec) -> BlockForm:
    """The recourse LPs of a chunk's blocks, by the model's own families: each block has
    its own fixed copies of x and r (so that their reduced costs are that block's
    subgradient), at 0 until a plan is handed over."""
    p = spec.params
    b = _Unnamed()
    zeros = np.zeros(p.capacity.shape)
    models: list[BuiltModel] = []
    first = [0]
    for k in spec.ks:
        m = _empty_model(b, p, (p.outcomes[k],))
        add_fixed_plan(b, m, zeros, zeros)
        add_scenario_variables(b, m, 0)
        add_spot_capacity(b, m, 0)
        add_calls(b, m, 0)
        add_balance(b, m, 0)
        cols, coefs = scenario_cost_terms(m, 0)
        b.add_cost(cols, coefs)
        models.append(m)
        first.append(len(b.col_names))
    form = b.recorded_matrix()
    ok = p.deliverable()
    r_ok = ok & p.reservable[:, None]
    nb = len(spec.ks)
    x_cols = np.array([m.x[ok] for m in models], dtype=np.int32).reshape(nb, int(ok.sum()))
    r_cols = np.array([m.r[r_ok] for m in models], dtype=np.int32).reshape(nb, int(r_ok.sum()))
    block_of = np.repeat(np.arange(nb), np.diff(first))
    return BlockForm(form, models, block_of, ok, r_ok, x_cols, r_cols)


def balance(specs: list[ChunkSpec], workers: int) -> list[list[ChunkSpec]]:
    """Chunks spread over workers, largest first onto the least loaded."""
    groups: list[list[ChunkSpec]] = [[] for _ in range(max(1, min(workers, len(specs))))]
    load = [0] * len(groups)
    for spec in sorted(specs, key=lambda s: -s.size):
        i = load.index(min(load))
        groups[i].append(spec)
        load[i] += spec.size
    return [g for g in groups if g]


@dataclass
class MaterialBlocks:
    """The subproblems of one material: its parameters with outcomes merged on its offers,
    which merged outcome each scenario is, and which merged outcomes are blocks (all but
    the one of w0)."""

    material: int
    offers: np.ndarray  # offer indices in the model's parameters
    params: Parameters
    outcome_of: np.ndarray  # (W,) merged outcome of each scenario
    blocks: tuple[int, ...]  # merged outcomes solved as subproblems
    probability: np.ndarray  # (len(blocks),) total probability of each block's scenarios

    def position(self) -> np.ndarray:
        """Index in `blocks` of each merged outcome (-1 for the one of w0)."""
        pos = np.full(len(self.params.outcomes), -1, dtype=np.int64)
        pos[list(self.blocks)] = np.arange(len(self.blocks))
        return pos

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """Deliverable, and deliverable and reservable (offer, period) of the material."""
        ok = self.params.deliverable()
        return ok, ok & self.params.reservable[:, None]


def material_blocks(p: Parameters) -> list[MaterialBlocks]:
    """Per material, the distinct recourse subproblems of the scenarios other than w0."""
    base = base_index(p)
    probs = np.array([o.probability for o in p.outcomes])
    out = []
    for mi in range(len(p.materials)):
        part = restrict(p, [mi])
        base_k = int(part.outcome_of[base])
        blocks = tuple(
            sorted({int(k) for w, k in enumerate(part.outcome_of) if w != base} - {base_k})
        )
        # a scenario other than w0 never merges with it (w0 alone has no spot buys)
        prob = np.array(
            [probs[(part.outcome_of == k) & (np.arange(len(probs)) != base)].sum() for k in blocks]
        )
        out.append(MaterialBlocks(mi, part.offers, part.params, part.outcome_of, blocks, prob))
    return out


def chunk_specs(mats: list[MaterialBlocks], workers: int) -> list[ChunkSpec]:
    """Blocks cut into chunks of about CHUNK_COLUMNS columns (and at least one chunk per
    worker when there are enough blocks), one material per chunk."""
    total = sum(len(mb.blocks) for mb in mats)
    specs: list[ChunkSpec] = []
    for mb in mats:
        if not mb.blocks:
            continue
        per_block = max(1, len(mb.params.offers)) * mb.params.periods * 3
        size = max(1, CHUNK_COLUMNS // per_block)
        if workers > 1:  # enough chunks to keep every worker busy
            size = min(size, max(1, math.ceil(total / (4 * workers))))
        ks = mb.blocks
        for i in range(0, len(ks), size):
            specs.append(ChunkSpec(len(specs), mb.material, mb.params, ks[i : i + size]))
    return specs


@dataclass
class Master:
    """The first stage of §4 with w0 whole, recourse estimates and the CVaR rows."""

    built: BuiltModel
    theta: list[np.ndarray]  # per material: column of each block's estimate
    eta: int
    base_cost: tuple[np.ndarray, np.ndarray]  # columns and coefficients of C[w0]
    recourse_cols: np.ndarray  # theta, eta and cv columns (not part of F + p0 C[w0])
    cv: np.ndarray  # CVaR excess columns, one per distinct row
    cv_scenario: np.ndarray  # a scenario each CVaR row stands for


def build_master(
    p: Parameters, mats: list[MaterialBlocks], complement: Complement = frozenset()
) -> Master:
    """The master problem, with the model's own families on the outcome set {w0}:

    `min F + p[w0] * C[w0] + sum_{m,k} P[m,k] * theta[m,k]` (+ with cvar:
    `cvar_weight * (eta + 1/(1 - alpha) * sum_w p[w] * cv[w])`,
    `cv[w] >= sum_m theta[m,k(m,w)] - eta` and `cv[w0] >= C[w0] - eta`), with
    `theta >= 0` (every cost of §4 is >= 0).
    """
    b = ModelBuilder("master")
    base = base_index(p)
    m = _empty_model(b, p, (p.outcomes[base],))
    add_plan_variables(b, m)
    add_reservations(b, m)
    add_scenario_variables(b, m, 0)
    add_spot_capacity(b, m, 0)
    add_calls(b, m, 0)
    add_balance(b, m, 0)
    add_targets(b, m)
    add_stock_before_shortage(b, m, complement)
    add_supplier_share(b, m)
    add_country_share(b, m)
    add_country_exposure(b, m)
    add_average_risk(b, m)
    add_min_order(b, m)
    add_fixed_cost(b, m)
    add_min_suppliers(b, m)
    base_cols, base_coefs = scenario_cost_terms(m, 0)
    b.add_cost(base_cols, p.outcomes[base].probability * base_coefs)
    thetas = []
    for mb in mats:
        cols = np.empty(len(mb.blocks), dtype=np.int64)
        for j, k in enumerate(mb.blocks):
            cols[j] = b.var(f"theta_{mb.material}_{k}", 0.0)
            b.cost[cols[j]] += float(mb.probability[j])
        thetas.append(cols)
    recourse = [c for cols in thetas for c in cols.tolist()]
    objective = p.scenario.objective
    eta = -1
    cv: list[int] = []
    cv_scenario: list[int] = []
    if objective.risk_measure == "cvar":
        eta = b.var("eta", None, None)
        b.cost[eta] += objective.cvar_weight
        recourse.append(eta)
        where = [mb.position() for mb in mats]
        rows: dict[tuple[int, ...], float] = {}
        first_of: dict[tuple[int, ...], int] = {}
        for w, out in enumerate(p.outcomes):
            key = () if w == base else tuple(int(mb.outcome_of[w]) for mb in mats)
            rows[key] = rows.get(key, 0.0) + out.probability
            first_of.setdefault(key, w)
        for n, (key, prob) in enumerate(rows.items()):
            j = b.var(f"cv_{n}", 0.0)
            recourse.append(j)
            cv.append(j)
            cv_scenario.append(first_of[key])
            b.cost[j] += objective.cvar_weight * prob / (1.0 - objective.cvar_alpha)
            if key == ():
                pairs = zip(base_cols.tolist(), (-base_coefs).tolist(), strict=True)
                terms = [(j, 1.0), (eta, 1.0), *pairs]
            else:
                terms = [(j, 1.0), (eta, 1.0)]
                for cols, pos, k in zip(thetas, where, key, strict=True):
                    terms.append((int(cols[pos[k]]), -1.0))
            b.row(f"cvar_{n}", terms, GE, 0.0)
    built = _close(b, m)
    return Master(
        built,
        thetas,
        eta,
        (base_cols, base_coefs),
        np.array(recourse, dtype=np.int64),
        np.array(cv, dtype=np.int64),
        np.array(cv_scenario, dtype=np.int64),
    )


@dataclass
class Cut:
    """`theta[m,k] >= const + g'x + h'r` on the material's deliverable (and reservable)
    offers and periods."""

    material: int  # index in the list of MaterialBlocks
    block: int  # index in that material's blocks
    const: float
    gx: np.ndarray
    gr: np.ndarray


def cut_rows(
    master: Master, mats: list[MaterialBlocks], cuts: list[Cut]
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Cuts as master rows: `theta - g'x - h'r >= const`, each divided by its largest
    coefficient (`row_scale`)."""
    built = master.built
    rows = []
    for cut in cuts:
        mb = mats[cut.material]
        ok, r_ok = mb.masks()
        xcols = built.x[mb.offers][ok]
        rcols = built.r[mb.offers][r_ok]
        cols = np.concatenate([[master.theta[cut.material][cut.block]], xcols, rcols])
        coefs = np.concatenate([[1.0], -cut.gx, -cut.gr])
        keep = (cols >= 0) & (coefs != 0.0)
        keep[0] = True
        coefs = coefs[keep]
        scale = row_scale(coefs)
        rows.append((cols[keep], coefs / scale, cut.const / scale))
    return rows


SMALLEST = 1e-9  # HiGHS drops matrix values below this (its small_matrix_value)
LARGEST_SCALE = 1e6


def row_scale(coefs: np.ndarray) -> float:
    """What a cut row is divided by: its largest coefficient, at most 1e6, and never so much
    that a coefficient falls below what HiGHS keeps (1 when it would).

    A cut's terms are money per tonne (a shortage can cost millions per tonne) and its
    bound is money (10^8 and more), while HiGHS holds every row to 1e-7 absolute: a row
    of money is held to 1e-15 of itself, below what doubles resolve, and the simplex
    iterates on rounding noise (one node's LP: 64,000 iterations from its parent's
    basis, 6 with the rows divided by 10^6). Divided, the row is held to at most 0.1 of
    money. The same inequality: the plans it admits are the same."""
    size = np.abs(coefs)
    largest = float(size.max())
    smallest = float(size[size > 0].min())
    scale = min(largest, LARGEST_SCALE, smallest / SMALLEST)
    return max(scale, 1.0)
