"""What the analyses need from the rest of the program, as protocols.

Analyses (compare, stress, frontier, survive, explain) decide what to solve
and what to make of the answers; they do not build models or call solvers
themselves (DESIGN §2: analysis knows nothing of the solver). The one
pipeline of `optimizer.app` implements these protocols and is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from optimizer.model.parameters import Parameters, PlanKey
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario
from optimizer.schema.summary import RunSummary

T = TypeVar("T")
R = TypeVar("R")


class FileOutcome(Protocol):
    """A scenario file solved as a job: a checked plan and its summary, or why not."""

    path: str
    exit_code: int
    message: str
    summary: RunSummary | None

    @property
    def ok(self) -> bool:
        """True when a plan was found."""
        ...

    @property
    def plan(self) -> Plan | None:
        """The checked plan (None when the job failed)."""
        ...

    def raise_if_failed(self) -> None:
        """Raise the failure again as the user error it was."""
        ...


class Runner(Protocol):
    """Solving, as the analyses ask for it (picklable: it travels to worker processes)."""

    def solve(self, scenario: Scenario) -> Plan:
        """The checked optimal plan of a scenario; raises the project's errors."""
        ...

    def solve_file(self, path: str) -> FileOutcome:
        """Load, solve and summarize one file; never raises."""
        ...

    def replay(
        self,
        scenario: Scenario,
        quantities: Mapping[PlanKey, float],
        reserved: Mapping[PlanKey, float] | None = None,
    ) -> tuple[Plan, float]:
        """A fixed plan replayed under a scenario (checked), and the volume it cannot place."""
        ...

    def has_plan(self, params: Parameters) -> bool:
        """Whether the model of these parameters has a plan (is feasible)."""
        ...


class Mapper(Protocol):
    """Runs independent jobs (serially, in processes, on Dask); results in input order."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], label: str = "") -> list[R]:
        """`[fn(item) for item in items]`, in whatever way the executor runs them."""
        ...
