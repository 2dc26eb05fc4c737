"""The one pipeline, as the analyses ask for it (`optimizer.analysis.runner.Runner`).

Compare, stress, frontier, survive and explain decide what to solve; this
runner solves it the way `sourcing run` does (`run_scenario`, `run_job`,
`replay_plan`), with the user's solver options. It is a small frozen
dataclass, so it travels to worker processes with the jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer.app.jobs import Job, JobResult, run_job
from optimizer.app.pipeline import replay_plan, run_scenario
from optimizer.model.build import build_model
from optimizer.model.parameters import Parameters, PlanKey
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario
from optimizer.solve.dispatch import solve
from optimizer.solve.status import SolverOptions, Status


@dataclass(frozen=True)
class PipelineRunner:
    """Solves as `sourcing run` does, with these options."""

    options: SolverOptions = field(default_factory=SolverOptions)
    decompose: str = "auto"

    def solve(self, scenario: Scenario) -> Plan:
        """The checked optimal plan of a scenario; raises the project's errors."""
        return run_scenario(scenario, self.options, decompose=self.decompose).plan

    def solve_file(self, path: str) -> JobResult:
        """Load, solve and summarize one file; never raises."""
        return run_job(Job(path, self.options, self.decompose))

    def replay(
        self,
        scenario: Scenario,
        quantities: Mapping[PlanKey, float],
        reserved: Mapping[PlanKey, float] | None = None,
    ) -> tuple[Plan, float]:
        """A fixed plan replayed under a scenario (checked), and the volume it cannot place."""
        return replay_plan(scenario, quantities, self.options, reserved)

    def has_plan(self, params: Parameters) -> bool:
        """Whether the model of these parameters is not proven infeasible."""
        result = solve(build_model(params, name="feasibility"), self.options)
        return result.status is not Status.INFEASIBLE
