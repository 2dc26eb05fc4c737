"""The project's own solver statuses, options and answer (DESIGN §4 "Solver").

Only a proven optimum is `OPTIMAL`; a solution found when a limit stopped the
solver is `FEASIBLE`; PuLP's own status is not trusted (it says "Optimal"
after a time limit).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

INF = float("inf")


class Ranging(Protocol):
    """How far bounds of an LP optimum can move before its duals change (see
    `optimizer.solve.ranging.HighsRanging`, the one implementation)."""

    def step(self, cols: dict[int, float], rows: dict[int, float]) -> float:
        """Largest t >= 0 such that moving the upper bounds of the columns and rows by
        `t * delta` keeps the optimal basis (inf when nothing ends it)."""
        ...

    def steps(self, cols: dict[int, float], rows: dict[int, float]) -> tuple[float, float]:
        """`step` along the direction and along its opposite."""
        ...

    def objective_at(self, cols: dict[int, float], rows: dict[int, float], t: float) -> float:
        """The optimum with those upper bounds moved by `t * delta` (NaN if not optimal)."""
        ...

DEFAULT_MIP_GAP = 1e-6  # relative; objectives are compared at 1e-6


class Status(enum.StrEnum):
    """What the solver's answer means for the user."""

    OPTIMAL = "optimal"  # proven optimal (MILP: within the MIP gap)
    FEASIBLE = "feasible"  # a plan, stopped by a limit before proving optimality
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"  # a limit stopped the solver before any plan
    ERROR = "error"

    @property
    def has_plan(self) -> bool:
        """True when there are values to report."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class SolverOptions:
    """What the user asked of the solver."""

    solver: str = "auto"  # auto, highs, highs-ipm, cbc
    time_limit: float | None = None  # seconds
    mip_gap: float | None = None  # relative
    threads: int | None = None
    verbose: bool = False  # solver log to stderr


@dataclass
class SolveResult:
    """The solver's answer in the model's column and row order."""

    status: Status
    solver: str
    objective: float | None = None
    values: np.ndarray | None = None
    duals: np.ndarray | None = None  # per row: d objective / d rhs (LPs only)
    reduced_costs: np.ndarray | None = None  # per column (LPs only)
    ranging: Ranging | None = None  # LPs solved by HiGHS only
    gap: float | None = None
    seconds: float = 0.0  # the solve itself
    handoff_seconds: float = 0.0  # passing the model to the solver
    extract_seconds: float = 0.0  # reading the answer back
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def mip_gap_of(options: SolverOptions) -> float:
    return DEFAULT_MIP_GAP if options.mip_gap is None else float(options.mip_gap)
