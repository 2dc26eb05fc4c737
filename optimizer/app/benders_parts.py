"""A model through the scenario decomposition, part by part: which parts (groups of
materials) go through it (`--decompose benders`, or `auto` by model class and size),
and the plan put together and checked as a whole, as `optimizer.app.parts` does for
the parts solved whole.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from optimizer.app.benders import BendersAnswer, solve_benders
from optimizer.app.benders_pool import pool_for
from optimizer.app.checked_solve import RunResult, finish, raise_for
from optimizer.app.executor import Executor
from optimizer.app.parts import _kind, combine_results, solve_part
from optimizer.common.errors import InternalError
from optimizer.model.decompose import Part, assemble
from optimizer.model.parameters import Parameters
from optimizer.model.solution import Solution
from optimizer.solve.highs import highs_problem, highs_version
from optimizer.solve.status import SolveResult, SolverOptions, Status


def choose_parts(p: Parameters, parts: list[Part], decompose: str) -> list[bool]:
    """Which parts (groups of materials, see `optimizer.decompose`) go through the
    scenario decomposition: all that have scenarios other than w0 with "benders", none
    with "material", and with "auto" those `worth_benders` picks."""
    if decompose == "material":
        return [False] * len(parts)
    several = [len(part.params.outcomes) > 1 for part in parts]
    if decompose == "benders":
        return several
    return [s and worth_benders(part.params) for s, part in zip(several, parts, strict=True)]


def extensive_size(p: Parameters) -> int:
    """Columns of a part's extensive form, roughly: deliverable offer-periods times
    scenarios (what the monolithic solve has to handle at once)."""
    return max(1, int(p.deliverable().sum())) * len(p.outcomes)


# Measured in benchmarks/auto_rule.py (README "Performance"): below these sizes the
# monolithic solve of a part is as fast or faster; above them Benders wins, by a margin
# that grows with the size.
AUTO_MIN_SIZE = {"lp": 20_000, "milp": 20_000}


def worth_benders(p: Parameters) -> bool:
    """The `auto` rule: the scenario decomposition for a part whose extensive form is
    large, by model class (thresholds measured, see AUTO_MIN_SIZE)."""
    milp = bool(p.min_order.any() or (p.fixed_cost > 0).any() or p.scenario.policy.min_suppliers)
    return extensive_size(p) >= AUTO_MIN_SIZE["milp" if milp else "lp"]


def run_parts_benders(
    params: Parameters,
    parts: list[Part],
    use: list[bool],
    options: SolverOptions,
    executor: Executor,
    timings: dict[str, float],
) -> RunResult:
    """Solve the parts (groups of materials): those marked in `use` by the scenario
    decomposition, one after the other with their subproblems spread over the
    executor's workers; the others whole, through the executor as before. The plan is
    put together on the full scenario set and checked as a whole (`checked_solve.finish`)."""
    if highs_problem() is not None:
        raise InternalError(f"the scenario decomposition needs HiGHS: {highs_problem()}")
    deadline = None if options.time_limit is None else time.time() + options.time_limit
    t0 = time.perf_counter()
    whole = [i for i, u in enumerate(use) if not u]
    answers: dict[int, Any] = {}
    if whole:
        jobs = [(parts[i].params, options, deadline, len(parts)) for i in whole]
        for i, answer in zip(whole, executor.map(solve_part, jobs, label="parts"), strict=True):
            if answer.result.status.has_plan:
                answer.result.values = np.zeros(0)
            raise_for(answer.result)
            answers[i] = answer
    decomposed: dict[int, BendersAnswer] = {}
    for i in (i for i, u in enumerate(use) if u):
        left = None if deadline is None else max(0.0, deadline - time.time())
        part_options = options if left is None else dataclasses.replace(options, time_limit=left)
        decomposed[i] = solve_benders(
            parts[i].params, part_options, pool_for(executor), log=_log if options.verbose else None
        )
    wall = time.perf_counter() - t0
    solutions = []
    results = []
    for i, part in enumerate(parts):
        if i in answers:
            a = answers[i]
            solutions.append(
                Solution(part.params, part.params.outcomes, a.x, a.y, a.inv, a.short, a.r, a.o)
            )
            results.append(a.result)
        else:
            b = decomposed[i]
            solutions.append(b.solution)
            status = Status.OPTIMAL if b.status == "optimal" else Status.FEASIBLE
            results.append(
                SolveResult(
                    status,
                    f"highs {highs_version()}".strip(),
                    objective=b.objective,
                    gap=b.gap,
                    seconds=b.seconds.get("total", 0.0),
                    message=describe(b),
                )
            )
    solution = assemble(params, parts, solutions)
    combined = combine_results(results, "; ".join(sorted({r.message for r in results})))
    build = sum(a.build_seconds for a in answers.values())
    build += sum(
        b.seconds.get("master_build", 0.0) + b.seconds.get("subproblem_build", 0.0)
        for b in decomposed.values()
    )
    timings.update(
        build=build,
        handoff=combined.handoff_seconds,
        solve=combined.seconds,
        extract=combined.extract_seconds,
        parts_wall=wall,
    )
    size: dict[str, Any] = {
        "kind": _kind(list(answers.values())) if answers else _benders_kind(params),
        "variables": sum(int(a.size["variables"]) for a in answers.values()),
        "rows": sum(int(a.size["rows"]) for a in answers.values()),
        "nonzeros": sum(int(a.size["nonzeros"]) for a in answers.values()),
        "binaries": sum(int(a.size["binaries"]) for a in answers.values()),
        "scenarios": len(params.outcomes),
        "parts": len(parts),
        "merged_scenarios": sum(len(part.params.outcomes) for part in parts),
    }
    for b in decomposed.values():
        for key in ("variables", "rows", "nonzeros", "binaries"):
            size[key] += b.size[key]
    if decomposed:
        size["kind"] = (
            "milp" if size["binaries"] or size["kind"] == "milp" else _benders_kind(params)
        )
        size["benders"] = summary_of(list(decomposed.values()))
    run = finish(solution, combined, size, timings)
    tables = [a.shadow for a in answers.values() if a.shadow is not None]
    notes = sorted({a.shadow_note for a in answers.values() if a.shadow_note})
    if tables:
        merged = pd.concat(tables, ignore_index=True)
        order = merged["per_step"].abs().rank(method="first", ascending=False)
        run.plan.shadow_prices = (
            merged.assign(_o=order).sort_values("_o").drop(columns="_o").reset_index(drop=True)
        )
    notes.append(
        "not available for the materials solved by the scenario decomposition "
        "(its master has estimates in place of the scenarios)"
    )
    run.plan.shadow_note = "; ".join(notes)
    return run


def _log(message: str) -> None:
    """A round of the decomposition on stderr (`--verbose`)."""
    print(f"benders: {message}", file=sys.stderr, flush=True)


def _benders_kind(p: Parameters) -> str:
    return "two-stage" if len(p.outcomes) > 1 else "lp"


def describe(b: BendersAnswer) -> str:
    """One line on how the decomposition ended: rounds, bounds, and whether it is proven."""
    proven = "proven optimal" if b.status == "optimal" else "stopped by the time limit"
    return (
        f"scenario decomposition (Benders): {b.bounds.rounds} rounds, {b.bounds.cuts} cuts, "
        f"{b.blocks} subproblems in {b.chunks} chunks on {b.workers} worker(s); lower bound "
        f"{b.bounds.lower:.10g}, plan {b.objective:.10g}, gap {b.gap:.1e} (target "
        f"{b.target:.0e}): {proven}"
    )


def summary_of(answers: list[BendersAnswer]) -> dict[str, Any]:
    """What summary.json says of the decomposition (`model.benders`)."""
    return {
        "parts": len(answers),
        "rounds": sum(b.bounds.rounds for b in answers),
        "cuts": sum(b.bounds.cuts for b in answers),
        "subproblems": sum(b.blocks for b in answers),
        "workers": max(b.workers for b in answers),
        "lower_bound": float(sum(b.bounds.lower for b in answers)),
        "objective": float(sum(b.objective for b in answers)),
        "gap": max(b.gap for b in answers),
        "target_gap": max(b.target for b in answers),
        "proven": all(b.status == "optimal" for b in answers),
        "stock_first_binaries": sum(len(b.complement) for b in answers),
    }
