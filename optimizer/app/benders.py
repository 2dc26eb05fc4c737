"""The rounds of the scenario decomposition (L-shaped / Benders): master and
subproblems until the bounds meet, for one part of the model (a group of materials).

The master's optimum is a lower bound on the optimum of DESIGN §4; every plan that
was evaluated gives an upper bound (its exact cost, CVaR included). The loop stops
when they are within 1e-7 relative (or `--mip-gap`), and says so. Stock before
shortage in w0 is held as the whole model holds it: binaries where the plan breaks
it, then the master again with them (`solve_stock_first`). The models:
`optimizer.model.benders_blocks`; the plan priced: `optimizer.app.benders_plans`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optimizer.app.benders_plans import (
    Bounds,
    Evaluated,
    assemble_solution,
    blend,
    new_cuts,
    price_plan,
    start_vector,
)
from optimizer.app.benders_pool import Pool
from optimizer.app.benders_tree import search_tree
from optimizer.app.checked_solve import COMPLEMENT_GAP, PolicyInfeasible, grow_complement
from optimizer.common.errors import InternalError, NoSolution
from optimizer.model.benders_blocks import (
    ChunkSpec,
    Cut,
    Master,
    MaterialBlocks,
    balance,
    base_index,
    build_master,
    chunk_specs,
    material_blocks,
)
from optimizer.model.builder import Complement
from optimizer.model.parameters import Parameters
from optimizer.model.solution import Solution, broken_stock_first, stock_first
from optimizer.results.plan import objective_of
from optimizer.solve.benders_highs import MasterSolver
from optimizer.solve.status import SolverOptions

LP_GAP = 1e-7  # relative gap between the bounds at which an LP stops (issue 16)


@dataclass
class BendersAnswer:
    """A plan found by the decomposition, with the bounds that prove how good it is."""

    solution: Solution
    objective: float
    bounds: Bounds
    status: str  # "optimal" (within the gap) or "feasible" (stopped by the time limit)
    gap: float
    target: float
    complement: Complement
    blocks: int
    chunks: int
    workers: int
    seconds: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)  # master (with its cuts) + subproblems


def solve_benders(
    p: Parameters,
    options: SolverOptions,
    pool: Pool,
    *,
    log: Callable[[str], None] | None = None,
) -> BendersAnswer:
    """Solve the model of §4 on `p` by the L-shaped method (see the module's docstring).

    Raises `InfeasiblePolicy` when the master is infeasible (the policy leaves no plan),
    `NoSolution` when the time limit stops it before any plan.
    """
    t_start = time.perf_counter()
    deadline = None if options.time_limit is None else t_start + float(options.time_limit)
    target = LP_GAP if options.mip_gap is None else float(options.mip_gap)
    mats = material_blocks(p)
    specs = chunk_specs(mats, pool.workers)
    groups = balance(specs, pool.workers)
    t0 = time.perf_counter()
    sub_cols, sub_rows, sub_nnz = pool.start(groups)
    seconds = {"subproblem_build": time.perf_counter() - t0}
    bounds = Bounds()
    cuts: list[Cut] = []
    complement: Complement = frozenset()
    best: Evaluated | None = None
    fallback: Solution | None = None  # a plan that holds the rule, for a time limit
    base = base_index(p)
    say = log or (lambda _msg: None)
    try:
        while True:
            t0 = time.perf_counter()
            master = build_master(p, mats, complement)
            solver = MasterSolver(master, mats, options)
            solver.add_cuts(cuts)
            seconds["master_build"] = seconds.get("master_build", 0.0) + time.perf_counter() - t0
            gap_goal = max(target, COMPLEMENT_GAP) if complement else target
            if solver.integer.size and solver.binary and not solver.cbc:
                best, status = search_tree(
                    p, master, mats, specs, pool, solver, bounds, gap_goal, deadline, say
                )
                cuts[:] = solver.cuts
            else:
                best, status = _rounds(
                    p, master, mats, specs, pool, solver, cuts, bounds, best, gap_goal, deadline,
                    say
                )
            if status == "infeasible":
                raise PolicyInfeasible(
                    "infeasible policy: the solver proved that no plan meets the policy "
                    "(highs, master of the scenario decomposition); relax min_suppliers, "
                    "min_order or the share caps",
                    [],
                )
            if best is None:
                if status == "limit" and fallback is not None:
                    solution = fallback
                    break
                raise NoSolution(
                    "no plan found within the limits (scenario decomposition); raise --time-limit"
                )
            solution = assemble_solution(p, master, mats, specs, pool, best)
            if status == "limit":
                solution = _cheapest(_held(solution, base), fallback)
                break
            broken = broken_stock_first(solution, base)
            if not broken:
                break
            repaired = stock_first(solution, [base])
            before = objective_of(solution)
            if objective_of(repaired) <= before + 1e-9 * max(1.0, abs(before)):
                solution = repaired
                break
            grown = grow_complement(p, complement, broken + targeted(p))
            if grown == complement:
                break
            complement = grown
            # The plan with its stock used first in w0 is a plan: kept in case the time
            # runs out. The binaries restrict the master, so its bound stays a bound;
            # the plans so far may break them, so the best plan starts again.
            fallback = _cheapest(repaired, fallback)
            best = None
            bounds.upper = math.inf
    finally:
        pool.close()
    solution = stock_first(solution)
    objective = objective_of(solution)
    seconds["total"] = time.perf_counter() - t_start
    seconds["master"] = bounds.master_seconds
    seconds["subproblems"] = bounds.sub_seconds
    gap = max(0.0, objective - bounds.lower) / max(1.0, abs(objective))
    form = master.built.matrix
    assert form is not None
    cut_nnz = sum(int(np.count_nonzero(c.gx) + np.count_nonzero(c.gr)) + 1 for c in cuts)
    size = {
        "variables": len(form.cost) + sub_cols,
        "rows": len(form.row_lower) + len(cuts) + sub_rows,
        "nonzeros": form.nnz + cut_nnz + sub_nnz,
        "binaries": int(form.integer.sum()),
    }
    converged = status == "optimal" and gap <= gap_goal * (1.0 + 1e-6) + 1e-12
    return BendersAnswer(
        solution,
        objective,
        bounds,
        "optimal" if converged else "feasible",
        gap,
        gap_goal,
        complement,
        sum(len(mb.blocks) for mb in mats),
        len(specs),
        len(groups),
        seconds,
        size,
    )


def targeted(p: Parameters) -> list[tuple[int, int]]:
    """(material, period) pairs of every material with a target in w0 (safety or end
    stock), the only ones that can break the rule. Held with binaries as soon as the
    rule binds at all: as the plan changes for the binaries, other such materials break
    it next, and each new set of binaries is one more search (on 10,000 outcomes: four
    searches of about 2 minutes one after another, and a fifth still open at 14).
    Binaries of a material that never breaks the rule stay whole in the relaxation."""
    has = (p.safety_stock > 0).any(axis=1) | (p.end_stock > 0)
    pairs = np.nonzero(has[:, None] & (p.demand > 0))
    return [(int(m), int(t)) for m, t in zip(*pairs, strict=True)]


def _held(solution: Solution, base: int) -> Solution:
    """The solution with its stock used first in w0 where it breaks the rule (a plan)."""
    return stock_first(solution, [base]) if broken_stock_first(solution, base) else solution


def _cheapest(solution: Solution, other: Solution | None) -> Solution:
    """The cheaper of two plans (the first on a tie, or when there is no other)."""
    if other is not None and objective_of(other) < objective_of(solution):
        return other
    return solution


def _rounds(
    p: Parameters,
    master: Master,
    mats: list[MaterialBlocks],
    specs: list[ChunkSpec],
    pool: Pool,
    solver: MasterSolver,
    cuts: list[Cut],
    bounds: Bounds,
    best: Evaluated | None,
    target: float,
    deadline: float | None,
    say: Callable[[str], None],
) -> tuple[Evaluated | None, str]:
    """Rounds of master and subproblems until the bounds meet (or the time is up).

    An LP master (phase "lp") is re-solved warm after each batch of cuts. While the
    master is an LP, the subproblems are asked about a point between the master's plan
    and the best plan so far (in-out stabilisation, Ben-Ameur and Neto 2007): the
    master's plan swings from one extreme to another in the first rounds, and cuts
    taken half-way are better ones. Any point gives valid cuts, and every point between
    two plans of an LP master is a plan, so the bounds stay exact; a cut is added when
    it cuts off the master's own point, and when none does, the master's point itself
    is asked about.

    (A MILP master on HiGHS is searched instead by `search_tree`: branch and bound
    over its yes/no decisions on one warm LP, with the cuts added in the tree.)
    With CBC, a MILP master is first solved as an LP ("relaxed": its cuts hold for any
    plan, and it bounds the MILP from below), then as the MILP ("milp", the lower bound is the
    solver's proven bound); between two MILP solves its yes/no decisions are fixed at the last
    MILP solution and the LP that remains is solved warm until its own bounds meet
    ("fixed": every plan it gives is a plan of the MILP, so an upper bound). The
    expensive MILP is solved again only when that LP has converged: it then either
    proves the best plan within the gap or picks other decisions.
    """
    mip = bool(solver.integer.size)
    phase = "lp" if not mip else ("milp" if cuts else "relaxed")
    solver.relax(phase == "relaxed")
    center: Evaluated | None = best if phase == "lp" else None
    while True:
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            return best, "limit"
        t0 = time.perf_counter()
        start = _start(p, master, mats, best) if phase == "milp" else None
        status, lower, values = solver.solve(left, target / 10.0, start)
        bounds.master_seconds += time.perf_counter() - t0
        if status == "infeasible" and phase != "fixed":
            return best, "infeasible"
        if status in ("error", "infeasible") or values is None:
            if status == "limit":
                return best, "limit"
            raise InternalError(
                "the master problem of the scenario decomposition failed: "
                f"{solver.message or status}"
            )
        if phase != "fixed":  # with the decisions fixed it bounds only that choice
            bounds.lower = max(bounds.lower, lower)
        points = [values] if center is None else [blend(values, center.values), values]
        for point in points:
            t0 = time.perf_counter()
            evaluated, gx, gr = price_plan(p, master, mats, specs, pool, point)
            bounds.sub_seconds += time.perf_counter() - t0
            bounds.rounds += 1
            if phase != "relaxed" and evaluated.upper < bounds.upper:
                bounds.upper = evaluated.upper
                best = evaluated
            if phase != "milp" and (center is None or evaluated.upper < center.upper):
                center = evaluated
            fresh = new_cuts(master, mats, values, evaluated, gx, gr)
            if fresh:
                break
        bounds.history.append((lower, evaluated.upper))
        upper = center.upper if phase in ("relaxed", "fixed") and center else bounds.upper
        gap = (upper - lower) / max(1.0, abs(upper))
        say(
            f"round {bounds.rounds} ({phase}): lower {lower:.10g}, upper {upper:.10g}, "
            f"gap {gap:.2e}, {len(fresh)} cuts (master {bounds.master_seconds:.1f} s, "
            f"subproblems {bounds.sub_seconds:.1f} s so far; {solver.note}, "
            f"{len(solver.cuts)} cut rows)"
        )
        if phase in ("lp", "milp") and (bounds.gap() <= target or not fresh):
            return best, "optimal"
        if phase == "relaxed" and (gap <= target or not fresh):
            phase, center = "milp", None
            solver.relax(False)
        elif phase == "fixed" and (gap <= target or not fresh):
            phase, center = "milp", None
            solver.fix(None)
        elif phase == "milp":
            phase, center = "fixed", evaluated
            solver.fix(values)
        bounds.cuts += len(fresh)
        solver.prune()
        solver.add_cuts(fresh)
        cuts[:] = solver.cuts


def _start(
    p: Parameters, master: Master, mats: list[MaterialBlocks], best: Evaluated | None
) -> np.ndarray | None:
    return None if best is None else start_vector(p, master, mats, best)
