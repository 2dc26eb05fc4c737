"""One scenario through the whole pipeline: parameters -> model -> solve -> plan -> check.

This is what `sourcing run` does for each file, and what compare, stress and
frontier reuse. The model is solved whole (monolithic) or, when it splits into
independent groups of materials or has identical scenarios to merge, part by
part (see `decompose`); either way the plan is put together on the full
scenario set and checked as a whole. Errors are the project's (infeasible
policy, no solution, a plan that fails its check).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.analysis.stress import PlanKey, plan_array
from optimizer.app.executor import Executor, Serial
from optimizer.common.errors import (
    InfeasiblePolicy,
    InternalError,
    NoSolution,
    UserError,
)
from optimizer.model.build import build_model, build_replay
from optimizer.model.builder import BuiltModel
from optimizer.model.decompose import Part, assemble, material_groups, restrict, split, worthwhile
from optimizer.model.parameters import Parameters, build_parameters
from optimizer.model.presolve import PolicyConflict, policy_conflicts
from optimizer.model.solution import Solution, broken_stock_first, solution_of, stock_first
from optimizer.results.check import CheckReport, check_plan
from optimizer.results.plan import Plan, extract_plan, objective_of
from optimizer.results.shadow import refine_degenerate, shadow_prices
from optimizer.schema.scenario import Scenario
from optimizer.solve.dispatch import solve
from optimizer.solve.highs import fixed_lp_duals
from optimizer.solve.pulp_matrix import matrix_form
from optimizer.solve.status import SolveResult, SolverOptions, Status

DECOMPOSE_CHOICES = ("auto", "on", "off")


class PolicyInfeasible(InfeasiblePolicy):
    """Infeasible policy, with the conflicts (policy, material, field paths) when known."""

    def __init__(self, message: str, conflicts: list[PolicyConflict]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


@dataclass
class RunResult:
    """A checked plan and how it was obtained."""

    plan: Plan
    check: CheckReport
    solve: SolveResult
    model_size: dict[str, int | str]
    timings: dict[str, float] = field(default_factory=dict)


def model_size(built: BuiltModel) -> dict[str, int | str]:
    """Variables, rows, non-zeros, binaries and class of a built model."""
    form = built.matrix if built.matrix is not None else matrix_form(built)
    return {
        "kind": built.kind,
        "variables": len(built.columns),
        "rows": len(built.row_names),
        "nonzeros": form.nnz,
        "binaries": int(form.integer.sum()),
        "scenarios": len(built.outcomes),
        "parts": 1,
    }


def run_scenario(
    scenario: Scenario,
    options: SolverOptions | None = None,
    *,
    decompose: str = "auto",
    executor: Executor | None = None,
) -> RunResult:
    """Solve a validated scenario and return its checked plan.

    `decompose`: "auto" splits the model into independent parts when that is
    exact and pays, "on" always goes part by part, "off" solves it whole.
    Raises `PolicyInfeasible` (exit 3), `NoSolution` (exit 4) or `InternalError`
    when the plan fails its independent check (exit 1).
    """
    if decompose not in DECOMPOSE_CHOICES:
        raise UserError(f"unknown decomposition {decompose!r}; use auto, on or off")
    options = options or SolverOptions()
    t0 = time.perf_counter()
    params = build_parameters(scenario)
    conflicts = [c for c in policy_conflicts(params) if c.hard or _matters(params, c, options)]
    if conflicts:
        raise PolicyInfeasible(
            "\n".join(f"{c.material}: {c.policy}: {c.message}" for c in conflicts), conflicts
        )
    timings = {"parameters": time.perf_counter() - t0}
    if decompose != "off":
        parts = split(params)
        if decompose == "on" or worthwhile(params, parts):
            return _run_parts(params, parts, options, executor or Serial(), timings)
    built, result, solution, build_seconds = solve_stock_first(params, options, build_model)
    timings.update(build=build_seconds, handoff=result.handoff_seconds, solve=result.seconds)
    timings["extract"] = result.extract_seconds
    run = _finish(solution, result, model_size(built), timings)
    run.plan.shadow_prices, run.plan.shadow_note = prices_of(built, result)
    result.ranging = None  # holds the solver's copy of the model: free it
    return run

COMPLEMENT_GAP = 1e-9  # relative MIP gap of the stock-before-shortage MILP (DESIGN §4)


def solve_stock_first(
    params: Parameters,
    options: SolverOptions,
    build: Callable[..., BuiltModel],
) -> tuple[BuiltModel, SolveResult, Solution, float]:
    """Build and solve, holding w0 to "stock before shortage" exactly (DESIGN §4).

    The LP (or MILP) is solved; where its optimum in w0 leaves demand unmet while
    stock is left, and using the stock first would cost more, binaries are added
    for those (material, period) pairs and the model is solved again, until no
    period breaks the rule. In the other scenarios using the stock first never
    costs more, so the solution is put in that form (`stock_first`). Returns the
    last model, its answer, the solution and the build time.
    """
    complement: frozenset[tuple[int, int]] = frozenset()
    build_seconds = 0.0
    while True:
        t0 = time.perf_counter()
        built = build(params, complement=complement)
        build_seconds += time.perf_counter() - t0
        run_options = options
        if complement and options.mip_gap is None:
            run_options = dataclasses.replace(options, mip_gap=COMPLEMENT_GAP)
        result = solve(built, run_options)
        _raise_for(result)
        assert result.values is not None and result.objective is not None
        solution = solution_of(built, result.values)
        broken = broken_stock_first(solution, solution.base)
        if not broken:
            break
        repaired = stock_first(solution, [solution.base])
        if objective_of(repaired) <= objective_of(solution) + 1e-9 * max(
            1.0, abs(result.objective)
        ):
            solution = repaired
            break
        # Every period of a material that breaks the rule at all: one MILP instead of a
        # chain of them (measured on the December 2026 robust files: 10 s instead of 13 s,
        # and 115 s instead of 400 s with CVaR).
        materials = {mi for mi, _ in broken}
        grown = complement | frozenset(broken) | frozenset(
            (mi, t) for mi in materials for t in range(params.periods) if params.demand[mi, t] > 0
        )
        if grown == complement:  # the solver broke a binary row: leave it to the check
            break
        complement = grown
    return built, result, stock_first(solution), build_seconds


def _matters(params: Parameters, conflict: PolicyConflict, options: SolverOptions) -> bool:
    """A policy that leaves a material no admissible mix matters only where the same
    scenario without it would buy some of the material (DESIGN §4). With the policy the
    plan buys none of it, so without it the plan buys some exactly when that is cheaper:
    both are solved for the material's group of materials alone, and compared (a tie, where
    one optimum buys and another does not, does not matter)."""
    sc = params.scenario
    relaxed = build_parameters(sc.model_copy(update=_without(sc, conflict.policy)))
    mi = params.materials.index(conflict.material)
    group = next(g for g in material_groups(relaxed) if mi in g)
    costs = []
    for p in (params, relaxed):
        part = restrict(p, group)
        try:
            _, result, _, _ = solve_stock_first(part.params, options, build_model)
        except InfeasiblePolicy:
            return True
        except NoSolution:
            return True
        costs.append(float(result.objective or 0.0))
    capped, free = costs
    return free < capped - 1e-9 * max(1.0, abs(capped))


def _without(sc: Scenario, policy_name: str) -> dict[str, object]:
    """The fields of a scenario without the policy a conflict names (for `model_copy`)."""
    policy = sc.policy
    if policy_name == "min_suppliers":
        return {"policy": policy.model_copy(update={"min_suppliers": None})}
    if policy_name == "max_average_risk":
        return {"policy": policy.model_copy(update={"max_average_risk": None})}
    relaxed = policy.model_copy(
        update={
            "max_supplier_share": None,
            "max_country_share": {},
            "max_country_exposure": {},
            "max_average_risk": None,
        }
    )
    suppliers = {sid: s.model_copy(update={"max_share": None}) for sid, s in sc.suppliers.items()}
    return {"policy": relaxed, "suppliers": suppliers}

MILP_NOTE = (
    "MILP: duals of the LP that remains with the yes/no decisions (min order, fixed "
    "cost, min suppliers) fixed at the plan's values"
)


def prices_of(built: BuiltModel, result: SolveResult) -> tuple[pd.DataFrame | None, str]:
    """Shadow prices of a solved model (with their ranges), and how they were obtained."""
    if result.values is None:
        return None, ""
    if built.is_mip:
        fixed = fixed_lp_duals(built, result.values)
        if fixed is None:
            return None, "not available: the LP with fixed binaries did not solve"
        duals, reduced, ranging = fixed
        note = MILP_NOTE
    elif result.duals is None or result.reduced_costs is None:
        return None, f"not available from {result.solver}"
    else:
        duals, reduced, ranging, note = (
            result.duals,
            result.reduced_costs,
            result.ranging,
            "LP duals",
        )
    if ranging is None:
        note += "; ranges need HiGHS (--solver highs)"
    table = shadow_prices(built, result.values, duals, reduced, ranging)
    if ranging is not None and result.objective is not None:
        table = refine_degenerate(built, table, result.values, ranging, result.objective)
    return table, note


def _raise_for(result: SolveResult) -> None:
    """Map a solver status without a plan to the project's errors."""
    status = result.status
    if status is Status.INFEASIBLE:
        raise PolicyInfeasible(
            "infeasible policy: the solver proved that no plan meets the policy "
            f"({result.solver}); relax min_suppliers, min_order or the share caps",
            [],
        )
    if status is Status.NO_SOLUTION:
        raise NoSolution(
            f"no plan found within the limits ({result.solver}: {result.message}); "
            "raise --time-limit"
        )
    if not status.has_plan or result.values is None or result.objective is None:
        raise InternalError(f"solver {result.solver} failed: {status.value} {result.message}")


def _finish(
    solution: Solution,
    result: SolveResult,
    size: dict[str, int | str],
    timings: dict[str, float],
) -> RunResult:
    """Extract the plan, check it, and refuse it if the check fails."""
    assert result.objective is not None
    t0 = time.perf_counter()
    plan = extract_plan(solution, result.status.value, result.objective)
    t1 = time.perf_counter()
    report = check_plan(plan)
    t2 = time.perf_counter()
    timings["extract"] = timings.get("extract", 0.0) + (t1 - t0)
    timings["check"] = t2 - t1
    if not report.ok:
        raise InternalError(
            "the solver's plan fails the independent check; it is not reported:\n  "
            + "\n  ".join(report.violations[:20])
        )
    return RunResult(plan, report, result, size, timings)


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


def solve_part(job: tuple[Parameters, SolverOptions, float | None]) -> PartAnswer:
    """Build and solve one part (runs in a worker process when there are several)."""
    params, options, deadline = job
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
    answer.shadow, answer.shadow_note = prices_of(built, result)
    result.values = None  # the arrays above carry the answer; columns stay here
    result.duals = None
    result.ranging = None
    return answer


def _run_parts(
    params: Parameters,
    parts: list[Part],
    options: SolverOptions,
    executor: Executor,
    timings: dict[str, float],
) -> RunResult:
    deadline = None if options.time_limit is None else time.time() + options.time_limit
    t0 = time.perf_counter()
    answers = executor.map(
        solve_part, [(part.params, options, deadline) for part in parts], label="parts"
    )
    wall = time.perf_counter() - t0
    for answer in answers:
        if answer.result.status.has_plan:
            answer.result.values = np.zeros(0)  # has a plan; values travel in the arrays
        _raise_for(answer.result)
    solutions = [
        Solution(part.params, part.params.outcomes, a.x, a.y, a.inv, a.short, a.r, a.o)  # type: ignore[arg-type]
        for part, a in zip(parts, answers, strict=True)
    ]
    solution = assemble(params, parts, solutions)
    results = [a.result for a in answers]
    status = (
        Status.FEASIBLE if any(r.status is Status.FEASIBLE for r in results) else Status.OPTIMAL
    )
    gaps = [r.gap for r in results if r.gap is not None]
    combined = SolveResult(
        status,
        results[0].solver,
        objective=float(sum(r.objective or 0.0 for r in results)),
        gap=max(gaps) if gaps else None,
        seconds=sum(r.seconds for r in results),
        handoff_seconds=sum(r.handoff_seconds for r in results),
        extract_seconds=sum(r.extract_seconds for r in results),
        message=f"{len(parts)} parts: " + ", ".join(sorted({r.message for r in results})),
    )
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
    run = _finish(solution, combined, size, timings)
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
