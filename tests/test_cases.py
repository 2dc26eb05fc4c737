"""The hand-worked cases of tests/cases/ on both solvers: status, objective and plan.

The expected figures in tests/cases/expected.yaml were worked out by hand (the
working is at the top of each case file) and agree with the independent
reference implementation (tests/test_reference_cases.py).
"""

from __future__ import annotations

import pytest
import yaml

from optimizer.app.pipeline import PolicyInfeasible, run_scenario
from optimizer.io.load import load_scenario
from optimizer.results.check import check_plan
from optimizer.solve.status import SolverOptions
from tests.conftest import CASES

EXPECTED = yaml.safe_load((CASES / "expected.yaml").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_case(name: str, solver: str) -> None:
    expected = EXPECTED[name]
    scenario = load_scenario(CASES / f"{name}.yaml").scenario
    if expected["status"] == "infeasible":
        with pytest.raises(PolicyInfeasible):
            run_scenario(scenario, SolverOptions(solver=solver))
        return
    result = run_scenario(scenario, SolverOptions(solver=solver))
    plan = result.plan
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(expected["objective"], rel=1e-9, abs=1e-7)
    got = sorted(
        (r.supplier, r.material, int(r.period), round(float(r.quantity), 6))
        for r in plan.orders.itertuples(index=False)
    )
    want = sorted(
        (o["supplier"], o["material"], int(o["period"]), round(float(o["quantity"]), 6))
        for o in expected["plan"]
    )
    assert got == want
    if "shortage" in expected:
        shortage = sum(k["expected_shortage"] for k in plan.materials.values())
        assert shortage == pytest.approx(expected["shortage"], abs=1e-7)
    report = check_plan(plan)
    assert report.ok, report.violations
    assert report.recomputed_objective == pytest.approx(expected["objective"], rel=1e-9)
