"""Exit 3 only where the policy matters (DESIGN §4, last paragraph).

One supplier, cn_baotou (CN), price 100, capacity 50 a period; demand 10 a period
for 2 periods; a cap of 50% on China leaves no admissible supplier mix, so under the
policy the plan buys none of ndpr_oxide:

- shortage cost 1000 > 100: without the cap the plan would buy 20 t (cost 2000
  instead of 20 t short at 20,000): the policy matters, exit 3 naming it and its line;
- initial stock 20 covers the demand: without the cap nothing is bought either, so the
  plan stands (exit 0, objective 0);
- shortage cost 50 < 100: going short is cheaper than every offer, nothing is bought
  without the cap either: the plan stands, 20 t short at 50 = 1000.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.app.pipeline import PolicyInfeasible, run_scenario
from optimizer.schema.scenario import Scenario
from optimizer.solve.status import SolverOptions
from tests.conftest import run_cli

TEXT = """name: matters
horizon: {periods: 2}
materials:
  ndpr_oxide: {demand: 10, shortage_cost: SHORTAGE, initial_inventory: STOCK}
suppliers:
  cn_baotou:
    country: CN
    offers:
      ndpr_oxide: {price: 100, capacity: 50}
policy:
  max_country_share: {CN: 0.5}
"""


def scenario(shortage: float, stock: float) -> str:
    return TEXT.replace("SHORTAGE", f"{shortage:g}").replace("STOCK", f"{stock:g}")


def test_policy_that_changes_the_plan_is_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "matters.yaml"
    path.write_text(scenario(1000, 0))
    res = run_cli(["run", str(path)])
    assert res.exit_code == 3
    assert f"{path}:11: policy.max_country_share.CN" in res.output
    assert "ndpr_oxide" in res.output


@pytest.mark.parametrize(
    ("shortage", "stock", "objective"),
    [(1000, 20, 0.0), (50, 0, 1000.0)],
    ids=["stock-covers-demand", "shortage-cheaper-than-every-offer"],
)
def test_policy_that_changes_nothing_lets_the_plan_stand(
    shortage: float, stock: float, objective: float, solver: str
) -> None:
    import yaml

    data = yaml.safe_load(scenario(shortage, stock))
    run = run_scenario(Scenario.model_validate(data), SolverOptions(solver=solver))
    assert run.plan.objective == pytest.approx(objective)
    assert run.plan.orders.empty
    assert run.check.ok


def test_the_pipeline_raises_with_the_conflict() -> None:
    import yaml

    data = yaml.safe_load(scenario(1000, 0))
    with pytest.raises(PolicyInfeasible) as info:
        run_scenario(Scenario.model_validate(data), SolverOptions())
    (conflict,) = info.value.conflicts
    assert conflict.material == "ndpr_oxide"
    assert ("policy", "max_country_share", "CN") in conflict.paths
