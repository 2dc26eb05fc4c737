"""One scenario through the whole pipeline: parameters -> model -> solve -> plan -> check.

This is what `sourcing run` does for each file, and what compare, stress and
frontier reuse. It raises the project's errors (infeasible policy, no
solution, a plan that fails its check) and otherwise returns the checked plan
with the timings of every phase.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from optimizer.check import CheckReport, check_plan
from optimizer.errors import InfeasiblePolicy, InternalError, NoSolution
from optimizer.feasibility import PolicyConflict, policy_conflicts
from optimizer.model import BuiltModel, build_model
from optimizer.parameters import Parameters, build_parameters
from optimizer.plan import Plan, extract_plan
from optimizer.scenario import Scenario
from optimizer.solving import SolveResult, SolverOptions, Status, solve


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
    nnz = sum(len(c.expr) for c in built.prob._constraints.values())
    return {
        "kind": built.kind,
        "variables": len(built.columns),
        "rows": len(built.row_names),
        "nonzeros": nnz,
        "binaries": int(sum(1 for v in built.columns if v.cat == "Integer")),
        "scenarios": len(built.outcomes),
    }


def run_scenario(scenario: Scenario, options: SolverOptions | None = None) -> RunResult:
    """Solve a validated scenario and return its checked plan.

    Raises `PolicyInfeasible` (exit 3), `NoSolution` (exit 4) or `InternalError`
    when the plan fails its independent check (exit 1).
    """
    options = options or SolverOptions()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    params = build_parameters(scenario)
    conflicts = policy_conflicts(params)
    if conflicts:
        raise PolicyInfeasible(
            "\n".join(f"{c.material}: {c.policy}: {c.message}" for c in conflicts), conflicts
        )
    t1 = time.perf_counter()
    built = build_model(params, name=_problem_name(params))
    t2 = time.perf_counter()
    result = solve(built, options)
    timings.update(parameters=t1 - t0, build=t2 - t1)
    timings.update(handoff=result.handoff_seconds, solve=result.seconds)
    return finish(built, result, timings)


def finish(built: BuiltModel, result: SolveResult, timings: dict[str, float]) -> RunResult:
    """Map the solver's status to errors, or extract and check the plan."""
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
    t0 = time.perf_counter()
    plan = extract_plan(built, result.values, status.value, result.objective)
    t1 = time.perf_counter()
    report = check_plan(plan)
    t2 = time.perf_counter()
    timings.update(extract=result.extract_seconds + (t1 - t0), check=t2 - t1)
    if not report.ok:
        raise InternalError(
            "the solver's plan fails the independent check; it is not reported:\n  "
            + "\n  ".join(report.violations[:20])
        )
    return RunResult(plan, report, result, model_size(built), timings)


def _problem_name(params: Parameters) -> str:
    return "sourcing"
