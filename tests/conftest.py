"""Shared fixtures: paths, solvers, and a CLI runner that captures stdout and stderr apart."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
SCENARIOS = ROOT / "scenarios"
SOLVERS = ["highs", "cbc"]


@pytest.fixture(params=SOLVERS)
def solver(request: pytest.FixtureRequest) -> str:
    """Each test that takes `solver` runs on HiGHS and on CBC."""
    return request.param
