"""One scenario through the whole pipeline: parameters -> model -> solve -> plan -> check.

This is what `sourcing run` does for each file, and what compare, stress,
frontier, survive and explain reuse (through `optimizer.app.runner`). The
model is solved whole or, when it splits into independent groups of materials
or has identical scenarios to merge, part by part (`parts`); either way the
plan is put together on the full scenario set and checked as a whole. Errors
are the project's (infeasible policy, no solution, a plan that fails its check).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from optimizer.app.benders_parts import choose_parts, run_parts_benders
from optimizer.app.checked_solve import (
    PolicyInfeasible,
    RunResult,
    finish,
    model_size,
    solve_stock_first,
)
from optimizer.app.conflicts import matters
from optimizer.app.executor import Executor, Serial
from optimizer.app.parts import run_parts
from optimizer.app.prices import prices_of
from optimizer.common.errors import InternalError, UserError
from optimizer.model.build import build_model, build_replay
from optimizer.model.builder import BuiltModel
from optimizer.model.decompose import split, worthwhile
from optimizer.model.parameters import Parameters, PlanKey, build_parameters, plan_array
from optimizer.model.presolve import policy_conflicts
from optimizer.results.check import check_plan
from optimizer.results.plan import Plan, extract_plan
from optimizer.schema.scenario import Scenario
from optimizer.solve.status import SolverOptions

__all__ = ["PolicyInfeasible", "RunResult", "replay_plan", "run_scenario", "solve_model"]

DECOMPOSE_CHOICES = ("auto", "material", "benders", "off", "on")  # on: material (before 16)


def run_scenario(
    scenario: Scenario,
    options: SolverOptions | None = None,
    *,
    decompose: str = "auto",
    executor: Executor | None = None,
) -> RunResult:
    """Solve a validated scenario and return its checked plan.

    `decompose`: "material" goes part by part (independent groups of materials,
    merged scenarios; "on" is its old name), "benders" also solves every part with
    scenarios by the L-shaped method over its scenarios (`optimizer.app.benders`),
    "auto" picks among them by model class and size (exact either way; see
    `benders_parts.worth_benders`), "off" solves the model whole.
    Raises `PolicyInfeasible` (exit 3), `NoSolution` (exit 4) or `InternalError`
    when the plan fails its independent check (exit 1).
    """
    if decompose not in DECOMPOSE_CHOICES:
        raise UserError(f"unknown decomposition {decompose!r}; use auto, material, benders or off")
    decompose = "material" if decompose == "on" else decompose
    options = options or SolverOptions()
    t0 = time.perf_counter()
    params = build_parameters(scenario)
    conflicts = [c for c in policy_conflicts(params) if c.hard or matters(params, c, options)]
    if conflicts:
        raise PolicyInfeasible(
            "\n".join(f"{c.material}: {c.policy}: {c.message}" for c in conflicts), conflicts
        )
    timings = {"parameters": time.perf_counter() - t0}
    if decompose != "off":
        parts = split(params)
        by_scenario = choose_parts(params, parts, decompose)
        if any(by_scenario):
            return run_parts_benders(
                params, parts, by_scenario, options, executor or Serial(), timings
            )
        if decompose == "material" or worthwhile(params, parts):
            return run_parts(params, parts, options, executor or Serial(), timings)
    built, result, solution, build_seconds = solve_stock_first(params, options, build_model)
    timings.update(build=build_seconds, handoff=result.handoff_seconds, solve=result.seconds)
    timings["extract"] = result.extract_seconds
    run = finish(solution, result, model_size(built), timings)
    run.plan.shadow_prices, run.plan.shadow_note = prices_of(built, result)
    result.ranging = None  # holds the solver's copy of the model: free it
    return run


def solve_model(
    params: Parameters,
    extend: Callable[[BuiltModel], None] | None = None,
    options: SolverOptions | None = None,
) -> RunResult:
    """Solve the model of `params`, extended by the caller, and return its checked plan
    (the Python API).

    `extend(built)` adds rows (or columns, bounds) to `built.problem` through PuLP;
    it is called on every model built, as "stock before shortage" may need a
    second model with binaries (DESIGN §4). The solver is handed exactly the
    extended problem; the plan is read from the model's own columns and checked
    against the scenario's constraints (rows a user added are the user's to check).
    Raises as `run_scenario` does.
    """
    options = options or SolverOptions()

    def build(p: Parameters, complement: frozenset[tuple[int, int]]) -> BuiltModel:
        built = build_model(p, complement=complement)
        if extend is not None:
            extend(built)
        return built

    built, result, solution, build_seconds = solve_stock_first(params, options, build)
    timings = {"build": build_seconds, "handoff": result.handoff_seconds, "solve": result.seconds}
    run = finish(solution, result, model_size(built), timings)
    run.plan.shadow_prices, run.plan.shadow_note = prices_of(built, result)
    return run


def replay_plan(
    scenario: Scenario,
    quantities: Mapping[PlanKey, float],
    options: SolverOptions,
    reserved: Mapping[PlanKey, float] | None = None,
) -> tuple[Plan, float]:
    """Replay a fixed plan under a scenario; the checked replay and the volume it cannot place.

    Raises `NoSolution` when the solver stops without an answer, `InternalError`
    when the replay fails its independent check.
    """
    params = build_parameters(scenario)
    x, lost = plan_array(params, quantities)
    r, _ = plan_array(params, reserved or {})

    def build(p: Parameters, complement: frozenset[tuple[int, int]]) -> BuiltModel:
        return build_replay(p, x, r, complement=complement)

    try:
        _built, result, solution, _ = solve_stock_first(params, options, build)
    except PolicyInfeasible as exc:
        raise InternalError(f"replay: {exc}") from None
    plan = extract_plan(solution, result.status.value, result.objective or 0.0)
    report = check_plan(plan, replay=True, planned=dict(quantities), reserved=dict(reserved or {}))
    if not report.ok:
        raise InternalError(
            "the replayed plan fails the independent check:\n  "
            + "\n  ".join(report.violations[:20])
        )
    return plan, lost
