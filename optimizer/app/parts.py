"""A model solved part by part (independent groups of materials, merged scenarios),
each part in a worker when there are several, and put together on the full scenario set.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.app.checked_solve import (
    PolicyInfeasible,
    RunResult,
    finish,
    model_size,
    raise_for,
    solve_stock_first,
)
from optimizer.app.executor import Executor
from optimizer.app.prices import prices_of
from optimizer.common.errors import InfeasiblePolicy, InternalError, NoSolution
from optimizer.model.build import build_model
from optimizer.model.decompose import Part, assemble
from optimizer.model.parameters import Parameters
from optimizer.model.solution import Solution
from optimizer.solve.status import SolveResult, SolverOptions, Status


@dataclass
class PartAnswer:
    """What solving one part sends back (picklable: arrays, no PuLP objects)."""

    result: SolveResult
    size: dict[str, int | str]
    build_seconds: float
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    inv: np.ndarray | None = None
    short: np.ndarray | None = None
    r: np.ndarray | None = None
    o: np.ndarray | None = None
    shadow: pd.DataFrame | None = None
    shadow_note: str = ""


def solve_part(job: tuple[Parameters, SolverOptions, float | None, int]) -> PartAnswer:
    """Build and solve one part of `parts` (runs in a worker process when there are
    several)."""
    params, options, deadline, parts = job
    if deadline is not None:
        left = max(0.0, deadline - time.time())
        limit = left if options.time_limit is None else min(options.time_limit, left)
        options = dataclasses.replace(options, time_limit=limit)
    try:
        built, result, sol, build_seconds = solve_stock_first(params, options, build_model)
    except (InfeasiblePolicy, NoSolution, InternalError) as exc:
        failed = SolveResult(Status.ERROR, options.solver, message=str(exc))
        if isinstance(exc, PolicyInfeasible):
            failed.status = Status.INFEASIBLE
        elif isinstance(exc, NoSolution):
            failed.status = Status.NO_SOLUTION
        return PartAnswer(failed, {}, 0.0)
    answer = PartAnswer(result, model_size(built), build_seconds)
    answer.x, answer.y, answer.inv = sol.x, sol.y, sol.inv
    answer.short, answer.r, answer.o = sol.short, sol.r, sol.o
    answer.shadow, answer.shadow_note = prices_of(built, result, parts)
    result.values = None  # the arrays above carry the answer; columns stay here
    result.duals = None
    result.ranging = None
    return answer


def run_parts(
    params: Parameters,
    parts: list[Part],
    options: SolverOptions,
    executor: Executor,
    timings: dict[str, float],
) -> RunResult:
    deadline = None if options.time_limit is None else time.time() + options.time_limit
    t0 = time.perf_counter()
    answers = executor.map(
        solve_part,
        [(part.params, options, deadline, len(parts)) for part in parts],
        label="parts",
    )
    wall = time.perf_counter() - t0
    for answer in answers:
        if answer.result.status.has_plan:
            answer.result.values = np.zeros(0)  # has a plan; values travel in the arrays
        raise_for(answer.result)
    solutions = [
        Solution(part.params, part.params.outcomes, a.x, a.y, a.inv, a.short, a.r, a.o)  # type: ignore[arg-type]
        for part, a in zip(parts, answers, strict=True)
    ]
    solution = assemble(params, parts, solutions)
    results = [a.result for a in answers]
    messages = ", ".join(sorted({r.message for r in results}))
    combined = combine_results(results, f"{len(parts)} parts: {messages}")
    timings.update(
        build=sum(a.build_seconds for a in answers),
        handoff=combined.handoff_seconds,
        solve=combined.seconds,
        extract=combined.extract_seconds,
        parts_wall=wall,
    )
    size: dict[str, int | str] = {
        "kind": _kind(answers),
        "variables": sum(int(a.size["variables"]) for a in answers),
        "rows": sum(int(a.size["rows"]) for a in answers),
        "nonzeros": sum(int(a.size["nonzeros"]) for a in answers),
        "binaries": sum(int(a.size["binaries"]) for a in answers),
        "scenarios": len(params.outcomes),
        "parts": len(parts),
        "merged_scenarios": sum(len(part.params.outcomes) for part in parts),
    }
    run = finish(solution, combined, size, timings)
    tables = [a.shadow for a in answers if a.shadow is not None]
    notes = sorted({a.shadow_note for a in answers if a.shadow_note})
    if tables and len(tables) == len(answers):
        merged = pd.concat(tables, ignore_index=True)
        order = merged["per_step"].abs().rank(method="first", ascending=False)
        run.plan.shadow_prices = (
            merged.assign(_o=order).sort_values("_o").drop(columns="_o").reset_index(drop=True)
        )
    run.plan.shadow_note = "; ".join(notes)
    return run


def _kind(answers: list[PartAnswer]) -> str:
    kinds = {str(a.size["kind"]) for a in answers}
    for kind in ("milp", "two-stage", "lp"):
        if kind in kinds:
            return kind
    return "lp"


def combine_results(results: list[SolveResult], message: str) -> SolveResult:
    """One result for a model solved in independent parts: objectives, times and
    (largest) gaps add up; feasible if any part is only feasible."""
    status = (
        Status.FEASIBLE if any(r.status is Status.FEASIBLE for r in results) else Status.OPTIMAL
    )
    gaps = [r.gap for r in results if r.gap is not None]
    return SolveResult(
        status,
        results[0].solver,
        objective=float(sum(r.objective or 0.0 for r in results)),
        gap=max(gaps) if gaps else None,
        seconds=sum(r.seconds for r in results),
        handoff_seconds=sum(r.handoff_seconds for r in results),
        extract_seconds=sum(r.extract_seconds for r in results),
        message=message,
    )
