"""One model solved and its plan checked: the step every command shares.

`solve_stock_first` solves a built model holding w0 to "stock before shortage"
(DESIGN §4); `finish` turns the solution into a plan and refuses it if the
independent check fails; `raise_for` maps a solver status without a plan to
the project's errors (exit codes 3, 4, 1).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from optimizer.common.errors import InfeasiblePolicy, InternalError, NoSolution
from optimizer.model.builder import BuiltModel, Complement
from optimizer.model.parameters import Parameters
from optimizer.model.presolve import PolicyConflict
from optimizer.model.solution import Solution, broken_stock_first, solution_of, stock_first
from optimizer.reports.summary import SolveFacts
from optimizer.results.check import CheckReport, check_plan
from optimizer.results.plan import Plan, extract_plan, objective_of
from optimizer.solve.dispatch import solve
from optimizer.solve.status import SolveResult, SolverOptions, Status


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

    def facts(self) -> SolveFacts:
        """How the plan was obtained, as the summary reports it."""
        s = self.solve
        return SolveFacts(
            s.solver,
            s.status.value,
            s.message,
            s.gap,
            s.seconds,
            self.model_size,
            self.check.ok,
            self.timings,
        )


def model_size(built: BuiltModel) -> dict[str, int | str]:
    """Variables, rows, non-zeros, binaries and class of a built model."""
    form = built.solver_form()
    return {
        "kind": built.kind,
        "variables": len(form.cost),
        "rows": len(built.row_names),
        "nonzeros": form.nnz,
        "binaries": int(form.integer.sum()),
        "scenarios": len(built.outcomes),
        "parts": 1,
    }


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
        raise_for(result)
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
        grown = grow_complement(params, complement, broken)
        if grown == complement:  # the solver broke a binary row: leave it to the check
            break
        complement = grown
    return built, result, stock_first(solution), build_seconds


def grow_complement(
    params: Parameters, complement: Complement, broken: list[tuple[int, int]]
) -> Complement:
    """The pairs to hold with binaries next: those held, those broken, and every period
    with demand of a material that breaks the rule at all (the rule holds in every
    period of w0; binaries for all of a material's periods make one MILP instead of a
    chain of them: measured on the December 2026 robust files 10 s instead of 13 s, and
    115 s instead of 400 s with CVaR)."""
    materials = {mi for mi, _ in broken}
    return (
        complement
        | frozenset(broken)
        | frozenset(
            (mi, t) for mi in materials for t in range(params.periods) if params.demand[mi, t] > 0
        )
    )


def raise_for(result: SolveResult) -> None:
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


def finish(
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
