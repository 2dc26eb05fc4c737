"""Shared fixtures: paths, solvers, the heavy scenarios.

Every test asserts figures worked out by hand or by an independent implementation
(tests/cases/ headers, tests/reference.py), except the tests named `test_snapshot_*`:
they hold the README's tables and answers equal to the program's output (recorded
from it); when one fails, the model or the data changed: check why, then update the
README.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from click.testing import Result

    from optimizer.app.runner import PipelineRunner

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
SCENARIOS = ROOT / "scenarios"
SCENARIOS_2025 = SCENARIOS / "2025"  # the April 2025 library, kept as history
SOLVERS = ["highs", "cbc"]
# Shipped scenarios whose models take a minute or more (64 outcomes, MILP with stock
# before shortage, CVaR): solved once, on the default solver, and checked; the rest are
# also solved with CBC and compared with the independent reference implementation.
HEAVY_SCENARIOS = frozenset(
    {
        "dec2026-pooled-stock.yaml",
        "dec2026-robust-cvar.yaml",
        "dec2026-robust.yaml",
        "dec2026-stock-1m.yaml",
        "dec2026-stock-3m.yaml",
        "dec2026-stock-6m.yaml",
    }
)


@pytest.fixture(params=SOLVERS)
def solver(request: pytest.FixtureRequest) -> str:
    """Each test that takes `solver` runs on HiGHS and on CBC."""
    return request.param


def pipeline(solver: str = "auto") -> PipelineRunner:
    """The runner the analyses take: `sourcing run`'s pipeline with this solver (their
    mapper, in tests, is `optimizer.app.executor.Serial()` unless a test says otherwise)."""
    from optimizer.app.runner import PipelineRunner
    from optimizer.solve.status import SolverOptions

    return PipelineRunner(SolverOptions(solver=solver))


def run_cli(args: Sequence[str | Path], **kwargs: Any) -> Result:
    """`sourcing ARGS` run in this process (typer's CliRunner, stdout and stderr apart):
    the one way tests call the command line in-process (`kwargs` go to `invoke`, e.g.
    `input=`, `env=`)."""
    from typer.testing import CliRunner

    from optimizer.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], **kwargs)
